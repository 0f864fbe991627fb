// Models found by fuzzing (fuzz/fuzz_onnx_loader.cpp) and hand-made ones of the same kinds:
// optional inputs of the wrong type, shapes whose products overflow or promise terabytes,
// untrusted attributes. Each must load and run cleanly or fail with an error, never crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "model_builder.h"

using namespace hearth::test;
using hearth::onnx::Session;
using hearth::onnx::SessionOptions;

namespace {

std::span<const uint8_t> as_bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::string from_base64(const std::string& in) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        const int v = value(c);
        if (v < 0) continue;  // '=' padding
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

// What the fuzz target does: load, then run once on zeros of the declared input shapes
// (dynamic dims as 1). Returns the error of whichever step failed, nullopt when both worked.
std::optional<std::string> load_and_run(const std::string& bytes, const SessionOptions& options = {}) {
    auto s = Session::load_bytes(as_bytes(bytes), options);
    if (!s) {
        EXPECT_FALSE(s.error().message.empty());
        return s.error().message;
    }
    std::vector<std::pair<std::string, Tensor>> inputs;
    for (const auto& in : (*s)->inputs()) {
        std::vector<int64_t> shape;
        for (int64_t d : in.shape) shape.push_back(d < 0 ? 1 : d);
        inputs.emplace_back(in.name, Tensor::zeros(in.dtype, shape));
    }
    auto r = (*s)->run(inputs);
    if (!r) {
        EXPECT_FALSE(r.error().message.empty());
        return r.error().message;
    }
    return std::nullopt;
}

// Expects an error that contains `needle`.
void expect_error(const std::optional<std::string>& e, const std::string& needle) {
    ASSERT_TRUE(e.has_value()) << "expected an error containing \"" << needle << "\"";
    EXPECT_NE(e->find(needle), std::string::npos) << *e;
}

// An initializer with the given dims and no data (valid only when a dim is 0).
void empty_initializer(ModelBuilder& mb, const std::string& name, DataType dtype, const std::vector<int64_t>& dims) {
    auto* init = mb.graph().add_initializer();
    init->set_name(name);
    init->set_data_type(static_cast<int32_t>(dtype));
    for (int64_t d : dims) init->add_dims(d);
    init->set_raw_data("");
}

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

}  // namespace

// Fuzzer finding: LSTM's optional initial_h given as bool was read as float (8 bytes read as 32).
TEST(OnnxHostileModels, FuzzLstmOptionalInputOfWrongType) {
    const std::string model = from_base64(
        "CAgSC2hlYXJ0aC10ZXN0OoQCCkQKAXgKAXcKAXIKAWIKAAoCaDAKAmMwEgJ5MBICeTESAnkyGgZMU1RNXzEiBExTVE0qEgoLyGlkZGVuX3Np"
        "emUYBKABAhIEdGVzdFoXCgF4EhIKEAgBEgwKAggFCgIIAgoCCANaFwoBdxISChAIARIMCgIIAQoCCBAKAggDWhcKAXISEgoQCAESDAoCCAEK"
        "AggQCgIIBFoTCgFiEg4KDAgBEggKAggBCgIIIFoYCgJoMBISChAICRIMCgIIAQoCCAIKAggEWhgKAmMwEhIKEAgBEgwKAggBCgIIAgoCCARi"
        "CgoCeTASBAoCCAFiCgoCeTESBAoCCAFiCgoCeTISBAoCCAFCBAoAEA4=");
    expect_error(load_and_run(model), "float");
}

// Fuzzer finding: Range with a float start and an int8 limit read 4 bytes of a 1-byte tensor.
TEST(OnnxHostileModels, FuzzRangeInputsOfMixedTypes) {
    const std::string model = from_base64(
        "CAcSC2hlYXJ0aC10ZXN0OlgKHQoBYQoBYgoBZBICeTAaB1JhbmdlXzEiBVJhbmdlEgR0ZXN0WgsKAWESBgoECAESAFoLCgFiEgYKBAgDEgBa"
        "CwoBZBIGCgQIARIAYgoKAnkwEgQKAggBQgQKABAL");
    expect_error(load_and_run(model), "types differ");
}

TEST(OnnxHostileModels, RangeNeedsScalars) {
    ModelBuilder mb(13);
    mb.initializer("s", float_tensor({0}, {}));
    mb.initializer("l", float_tensor({}, {4}));
    mb.initializer("d", float_tensor({}, {1}));
    mb.node("Range", {"s", "l", "d"}, {"y"});
    mb.output("y", DataType::Float);
    expect_error(load_and_run(mb.serialize()), "scalars");
}

TEST(OnnxHostileModels, LayerNormScaleAndBiasMustBeFloat) {
    for (int which : {1, 2}) {
        ModelBuilder mb(17);
        mb.input("x", DataType::Float, {2, 8});
        Tensor small = Tensor::zeros(DataType::Int8, {8});  // 8 bytes, read as 8 floats before the fix
        mb.initializer("scale", which == 1 ? small : float_tensor({8}, std::vector<float>(8, 1.0f)));
        mb.initializer("bias", which == 2 ? small : float_tensor({8}, std::vector<float>(8, 0.0f)));
        mb.node("LayerNormalization", {"x", "scale", "bias"}, {"y"});
        mb.output("y", DataType::Float);
        expect_error(load_and_run(mb.serialize()), "float");
    }
}

// An empty tensor's other dims still count: [0, 2^40] reduced over axis 0 is 2^40 values.
TEST(OnnxHostileModels, EmptyInitializerWithHugeDims) {
    ModelBuilder mb(13);
    empty_initializer(mb, "x", DataType::Float, {0, int64_t{1} << 40});
    auto& n = mb.node("ReduceSum", {"x"}, {"y"});  // opset 13: axes from the attribute
    attr(n, "axes", std::vector<int64_t>{0});
    mb.output("y", DataType::Float);
    expect_error(load_and_run(mb.serialize()), "too large");
}

TEST(OnnxHostileModels, EmptyInputWithHugeDims) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {-1, -1});
    auto& n = mb.node("ReduceSum", {"x"}, {"y"});
    attr(n, "axes", std::vector<int64_t>{0});
    mb.output("y", DataType::Float);
    auto s = Session::load_bytes(as_bytes(mb.serialize()));
    ASSERT_TRUE(s) << s.error().message;
    auto r = (*s)->run({{"x", Tensor::zeros(DataType::Float, {0, int64_t{1} << 40})}});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("too large"), std::string::npos) << r.error().message;
}

// Slice of an empty axis with a negative step: the clamps of start and end had an empty range
// ([0, -1], a precondition violation of std::clamp that libstdc++ happens to survive).
TEST(OnnxHostileModels, SliceOfEmptyAxisWithNegativeStep) {
    ModelBuilder mb(13);
    empty_initializer(mb, "x", DataType::Float, {0});
    mb.initializer("starts", int_tensor({1}, {-1}));
    mb.initializer("ends", int_tensor({1}, {std::numeric_limits<int64_t>::min()}));
    mb.initializer("axes", int_tensor({1}, {0}));
    mb.initializer("steps", int_tensor({1}, {-1}));
    mb.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
    mb.output("y", DataType::Float);
    auto s = Session::load_bytes(as_bytes(mb.serialize()));
    ASSERT_TRUE(s) << s.error().message;
    auto r = (*s)->run({});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)[0].shape, (std::vector<int64_t>{0}));
}

// Steps and ends at the ends of int64 must not overflow the element count.
TEST(OnnxHostileModels, SliceWithExtremeSteps) {
    for (int64_t step : {kInt64Max, std::numeric_limits<int64_t>::min()}) {
        ModelBuilder mb(13);
        mb.initializer("x", float_tensor({4}, {1, 2, 3, 4}));
        mb.initializer("starts", int_tensor({1}, {step > 0 ? 1 : 2}));
        mb.initializer("ends", int_tensor({1}, {step > 0 ? kInt64Max : std::numeric_limits<int64_t>::min()}));
        mb.initializer("axes", int_tensor({1}, {0}));
        mb.initializer("steps", int_tensor({1}, {step}));
        mb.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
        mb.output("y", DataType::Float);
        auto s = Session::load_bytes(as_bytes(mb.serialize()));
        ASSERT_TRUE(s) << s.error().message;
        auto r = (*s)->run({});
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_EQ((*r)[0].shape, (std::vector<int64_t>{1}));
        EXPECT_EQ((*r)[0].data<float>()[0], step > 0 ? 2.0f : 3.0f);
    }
}

// Split's num_outputs attribute was used to size a list before it was compared with the outputs.
TEST(OnnxHostileModels, SplitWithHugeNumOutputs) {
    ModelBuilder mb(18);
    mb.input("x", DataType::Float, {4});
    auto& n = mb.node("Split", {"x"}, {"a", "b"});
    attr(n, "num_outputs", int64_t{1} << 40);
    mb.output("a", DataType::Float);
    mb.output("b", DataType::Float);
    expect_error(load_and_run(mb.serialize()), "num_outputs");
}

// Split sizes whose sum wraps around to the axis length.
TEST(OnnxHostileModels, SplitSizesThatOverflow) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {4});
    mb.initializer("split", int_tensor({3}, {kInt64Max, kInt64Max, 6}));
    mb.node("Split", {"x", "split"}, {"a", "b", "c"});
    for (const char* o : {"a", "b", "c"}) mb.output(o, DataType::Float);
    expect_error(load_and_run(mb.serialize()), "out of range");
}

TEST(OnnxHostileModels, PadsAtTheEndsOfInt64) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {2});
    // before + after wraps to 1.
    mb.initializer("pads", int_tensor({2}, {kInt64Max, std::numeric_limits<int64_t>::min() + 2}));
    mb.node("Pad", {"x", "pads"}, {"y"});
    mb.output("y", DataType::Float);
    expect_error(load_and_run(mb.serialize()), "out of range");
}

// With no input channels every group divides them: the group loops ran 2^62 times (and
// ConvTranspose's output channels, W's dim 1 times group, wrapped to 0).
TEST(OnnxHostileModels, ConvWithHugeGroup) {
    for (const char* op : {"Conv", "ConvTranspose"}) {
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, {1, 0, 4});
        empty_initializer(mb, "w", DataType::Float, {0, std::string(op) == "Conv" ? 0 : 4, 1});
        auto& n = mb.node(op, {"x", "w"}, {"y"});
        attr(n, "group", int64_t{1} << 62);
        mb.output("y", DataType::Float);
        expect_error(load_and_run(mb.serialize()), "group");
    }
}

// A hidden size of 2^62: 4 * H wrapped to 0, matching an empty W and R [1, 0, 2^62].
TEST(OnnxHostileModels, LstmHiddenSizeThatOverflows) {
    for (bool attribute : {false, true}) {
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, {1, 1, 2});
        empty_initializer(mb, "w", DataType::Float, {1, 0, 2});
        empty_initializer(mb, "r", DataType::Float, {1, 0, attribute ? 1 : int64_t{1} << 62});
        auto& n = mb.node("LSTM", {"x", "w", "r"}, {"y"});
        if (attribute) attr(n, "hidden_size", int64_t{1} << 62);
        mb.output("y", DataType::Float);
        expect_error(load_and_run(mb.serialize()), attribute ? "hidden_size" : "too large");
    }
}

// An empty X ([seq, batch, 0]) still makes a [seq, batch, 4 * hidden] projection.
TEST(OnnxHostileModels, LstmWithEmptyInputAndLongSequence) {
    ModelBuilder mb(13);
    empty_initializer(mb, "x", DataType::Float, {int64_t{1} << 20, int64_t{1} << 9, 0});
    empty_initializer(mb, "w", DataType::Float, {1, 4, 0});
    mb.initializer("r", float_tensor({1, 4, 1}, {0, 0, 0, 0}));
    mb.node("LSTM", {"x", "w", "r"}, {"y"});
    mb.output("y", DataType::Float);
    expect_error(load_and_run(mb.serialize()), "too large");
}

// The element limit of SessionOptions, and Concat listing one input many times.
TEST(OnnxHostileModels, ConcatOfOneInputManyTimes) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {1000});
    auto& n = mb.node("Concat", std::vector<std::string>(5, "x"), {"y"});
    attr(n, "axis", int64_t{0});
    mb.output("y", DataType::Float);
    SessionOptions options;
    options.max_tensor_elements = 4096;
    expect_error(load_and_run(mb.serialize(), options), "too large");
    options.max_tensor_elements = 5000;
    EXPECT_FALSE(load_and_run(mb.serialize(), options).has_value());
}

TEST(OnnxHostileModels, ElementLimitCoversInitializersAndInputs) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {-1});
    mb.initializer("w", float_tensor({100}, std::vector<float>(100, 1.0f)));
    mb.node("Add", {"x", "w"}, {"y"});
    mb.output("y", DataType::Float);
    SessionOptions options;
    options.max_tensor_elements = 64;
    auto refused = Session::load_bytes(as_bytes(mb.serialize()), options);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("\"w\""), std::string::npos) << refused.error().message;
    options.max_tensor_elements = 128;
    auto s = Session::load_bytes(as_bytes(mb.serialize()), options);
    ASSERT_TRUE(s) << s.error().message;
    auto big = (*s)->run({{"x", Tensor::zeros(DataType::Float, {200})}});
    ASSERT_FALSE(big);
    EXPECT_NE(big.error().message.find("too large"), std::string::npos) << big.error().message;
    EXPECT_TRUE((*s)->run({{"x", Tensor::zeros(DataType::Float, {1})}}));
}

// A Loop's scan output is checked as it grows, not after every iteration is held.
TEST(OnnxHostileModels, LoopScanOutputOverTheLimit) {
    ::onnx::GraphProto body;
    body.set_name("body");
    fill_value_info(*body.add_input(), "i", DataType::Int64, nullptr);
    fill_value_info(*body.add_input(), "cond_in", DataType::Bool, nullptr);
    auto* keep = body.add_node();
    keep->set_op_type("Identity");
    keep->add_input("cond_in");
    keep->add_output("cond_out");
    auto* fill = body.add_node();
    fill->set_op_type("ConstantOfShape");
    fill->add_input("shape");
    fill->add_output("scan");
    auto* shape = body.add_initializer();
    fill_tensor_proto(*shape, "shape", int_tensor({1}, {1024}));
    fill_value_info(*body.add_output(), "cond_out", DataType::Bool, nullptr);
    fill_value_info(*body.add_output(), "scan", DataType::Float, nullptr);

    ModelBuilder mb(13);
    mb.initializer("m", int_tensor({}, {100}));
    auto& loop = mb.node("Loop", {"m", ""}, {"stacked"});
    attr(loop, "body", body);
    mb.output("stacked", DataType::Float);
    SessionOptions options;
    options.max_tensor_elements = int64_t{1} << 16;  // 64 iterations' worth
    auto e = load_and_run(mb.serialize(), options);
    expect_error(e, "scan output");
    options.max_tensor_elements = int64_t{1} << 17;
    EXPECT_FALSE(load_and_run(mb.serialize(), options).has_value());
}

// ArgMax over an empty axis has no index to give; an empty Softmax has nothing to do.
TEST(OnnxHostileModels, ArgMaxAndSoftmaxOfEmptyAxes) {
    ModelBuilder mb(13);
    empty_initializer(mb, "x", DataType::Float, {3, 0});
    auto& arg = mb.node("ArgMax", {"x"}, {"y"});
    attr(arg, "axis", int64_t{1});
    mb.output("y", DataType::Int64);
    expect_error(load_and_run(mb.serialize()), "empty");

    ModelBuilder ms(13);
    empty_initializer(ms, "x", DataType::Float, {3, 0});
    ms.node("Softmax", {"x"}, {"y"});
    ms.output("y", DataType::Float);
    EXPECT_FALSE(load_and_run(ms.serialize()).has_value());
}

// Fuzzer finding (a timeout): a ConvTranspose of two small inputs, [1, 3, 51, 64] and a
// [3, 66, 11, 66] kernel, is half a billion multiply-adds. SessionOptions::max_work bounds that.
TEST(OnnxHostileModels, FuzzConvTransposeOverTheWorkBudget) {
    const std::string model = from_base64(
        "ZWFydGgtdGVzdDqdAQpPCgF4CgF3EgJ5MBoPQ29udlRyYW5zcG9zZV8xIg1Db252VHJhbnNwb3NlKhAKB3N0cmlkZXNAAkADoAEHKhEKBHBh"
        "ZHNAAUAAQABAAaABBxIEdGVzdFobCgF4EhYKFAgBEhAKAggBCgIIAwoCCDMKAghAWhsKAXcSFgoUCAESEAoCCAMKAghCCgIICwoCCEJiCgoC"
        "eTASBAoCCAFCBAoAEAs=");
    SessionOptions options;
    options.max_work = int64_t{1} << 26;
    expect_error(load_and_run(model, options), "budget");
}

TEST(OnnxHostileModels, WorkBudgetCountsMultiplyAdds) {
    ModelBuilder mb(13);
    mb.input("a", DataType::Float, {64, 64});
    mb.input("b", DataType::Float, {64, 64});
    mb.node("MatMul", {"a", "b"}, {"y"});
    mb.output("y", DataType::Float);
    SessionOptions options;
    options.max_work = 64 * 64 * 64;  // the multiply-adds, but not the output elements too
    expect_error(load_and_run(mb.serialize(), options), "budget");
    options.max_work = 64 * 64 * 64 + 64 * 64;
    EXPECT_FALSE(load_and_run(mb.serialize(), options).has_value());
}

// A dilation of 2^21 with pads of the same size: the output is modest and the multiply-adds
// few, but a strip buffer over the kernel's reach would have been written 2^21 floats per
// strip (gigabytes in all). Such convolutions take the unbuffered path and finish quickly.
TEST(OnnxHostileModels, ConvWithAHugeDilation) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {1, 1, 1});
    mb.initializer("w", Tensor::from_floats({3, 1, 2}, std::vector<float>(6, 1.0f)));
    auto& n = mb.node("Conv", {"x", "w"}, {"y"});
    attr(n, "dilations", std::vector<int64_t>{int64_t{1} << 21});
    attr(n, "pads", std::vector<int64_t>{1572864, 1572863});
    mb.output("y", DataType::Float);
    SessionOptions options;
    options.max_tensor_elements = int64_t{1} << 22;
    options.max_work = int64_t{1} << 26;
    EXPECT_FALSE(load_and_run(mb.serialize(), options).has_value());
}

// Empty inputs reach the 1-D convolution's fast path: zero length (with padding, so there is
// an output) and zero input channels. The output is the bias; nothing reads the empty data.
TEST(OnnxHostileModels, ConvOfEmptyInputs) {
    for (const auto& [xs, ws] : {std::pair<std::vector<int64_t>, std::vector<int64_t>>{{1, 4, 0}, {4, 4, 1}},
                                 std::pair<std::vector<int64_t>, std::vector<int64_t>>{{1, 0, 40}, {3, 0, 1}}}) {
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, xs);
        if (ws[1] == 0) empty_initializer(mb, "w", DataType::Float, ws);
        else mb.initializer("w", Tensor::from_floats(ws, std::vector<float>(static_cast<size_t>(ws[0] * ws[1] * ws[2]), 1.0f)));
        mb.initializer("b", Tensor::from_floats({ws[0]}, std::vector<float>(static_cast<size_t>(ws[0]), 0.5f)));
        auto& n = mb.node("Conv", {"x", "w", "b"}, {"y"});
        attr(n, "pads", std::vector<int64_t>{1, 0});
        mb.output("y", DataType::Float);
        EXPECT_FALSE(load_and_run(mb.serialize()).has_value());
    }
}
