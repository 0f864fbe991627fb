// Bad models and bad inputs give clear errors, never crashes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "model_builder.h"
#include "onnx/op_context.h"
#include "support/shared_data.h"

using namespace hearth::test;
using hearth::onnx::Session;

namespace {

std::span<const uint8_t> as_bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// The error message of a model that must not load (a test failure if it does).
std::string load_error(const ModelBuilder& mb) {
    auto s = Session::load_bytes(as_bytes(mb.serialize()));
    if (s) {
        ADD_FAILURE() << "the model loaded";
        return {};
    }
    return s.error().message;
}

std::string small_model() {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {2, -1});
    mb.initializer("w", float_tensor({1}, {2.0f}));
    mb.node("Mul", {"x", "w"}, {"m"});
    mb.node("Relu", {"m"}, {"y"});
    mb.output("y", DataType::Float);
    return mb.serialize();
}

}  // namespace

TEST(OnnxLoader, RunsASmallModel) {
    auto s = Session::load_bytes(as_bytes(small_model()));
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ((*s)->inputs().size(), 1u);
    EXPECT_EQ((*s)->inputs()[0].shape, (std::vector<int64_t>{2, -1}));
    auto r = (*s)->run({{"x", float_tensor({2, 2}, {1, -1, 3, -4})}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)[0].shape, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(std::vector<float>((*r)[0].data<float>(), (*r)[0].data<float>() + 4), (std::vector<float>{2, 0, 6, 0}));
}

TEST(OnnxLoader, GarbageAndTruncatedBytesAreErrors) {
    EXPECT_FALSE(Session::load_bytes({}));
    const std::string garbage = "\xff\xff\xff\xff not a protobuf \x01\x02\x03";
    auto g = Session::load_bytes(as_bytes(garbage));
    ASSERT_FALSE(g);
    EXPECT_NE(g.error().message.find("ONNX"), std::string::npos) << g.error().message;
    const std::string model = small_model();
    for (size_t cut = 1; cut < model.size(); cut += 3) {
        auto s = Session::load_bytes(as_bytes(model.substr(0, cut)));
        if (s) {
            // A prefix can still be a valid (smaller) protobuf; it must then run or fail cleanly.
            auto r = (*s)->run({{"x", float_tensor({2, 1}, {1, 2})}});
            (void)r;
        } else {
            EXPECT_FALSE(s.error().message.empty());
        }
    }
    auto missing = Session::load("/nonexistent/model.onnx");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("/nonexistent/model.onnx"), std::string::npos);
}

TEST(OnnxLoader, UnknownOperatorNamesOpAndNode) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {2});
    auto& n = mb.node("FrobnicateTensor", {"x"}, {"y"});
    n.set_name("my_frob_node");
    mb.output("y", DataType::Float);
    const std::string e = load_error(mb);
    EXPECT_NE(e.find("FrobnicateTensor"), std::string::npos) << e;
    EXPECT_NE(e.find("my_frob_node"), std::string::npos) << e;

    ModelBuilder md(13);
    md.input("x", DataType::Float, {2});
    auto& m = md.node("FusedGemm", {"x"}, {"y"});
    m.set_domain("com.microsoft");
    md.output("y", DataType::Float);
    const std::string e2 = load_error(md);
    EXPECT_NE(e2.find("com.microsoft"), std::string::npos) << e2;
}

TEST(OnnxLoader, BrokenGraphsAreErrors) {
    {
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, {2});
        mb.node("Relu", {"nowhere"}, {"y"});
        mb.output("y", DataType::Float);
        const std::string e = load_error(mb);
        EXPECT_NE(e.find("nowhere"), std::string::npos) << e;
    }
    {
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, {2});
        mb.node("Add", {"x", "b"}, {"a"});
        mb.node("Relu", {"a"}, {"b"});
        mb.output("b", DataType::Float);
        const std::string e = load_error(mb);
        EXPECT_NE(e.find("cycle"), std::string::npos) << e;
    }
    {
        // A node without outputs (found by fuzzing: kernels write output 0).
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, {2});
        mb.node("NonZero", {"x"}, {});
        mb.node("Relu", {"x"}, {"y"});
        mb.output("y", DataType::Float);
        const std::string e = load_error(mb);
        EXPECT_NE(e.find("no outputs"), std::string::npos) << e;
    }
    {
        // Integer INT64_MIN / -1 and % -1 must not trap.
        ModelBuilder mb(13);
        mb.input("a", DataType::Int64, {2});
        mb.input("b", DataType::Int64, {2});
        mb.node("Div", {"a", "b"}, {"d"});
        mb.node("Mod", {"a", "b"}, {"m"});
        mb.output("d", DataType::Int64);
        mb.output("m", DataType::Int64);
        auto s = Session::load_bytes(as_bytes(mb.serialize()));
        ASSERT_TRUE(s) << s.error().message;
        const int64_t lo = std::numeric_limits<int64_t>::min();
        auto r = (*s)->run({{"a", int_tensor({2}, {lo, 7})}, {"b", int_tensor({2}, {-1, -1})}});
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ((*r)[0].data<int64_t>()[1], -7);
        EXPECT_EQ((*r)[1].data<int64_t>()[0], 0);
    }
    {
        // A bad initializer: raw data shorter than its shape.
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, {2});
        auto* init = mb.graph().add_initializer();
        init->set_name("w");
        init->set_data_type(1);
        init->add_dims(100);
        init->set_raw_data(std::string(8, '\0'));
        mb.node("Add", {"x", "w"}, {"y"});
        mb.output("y", DataType::Float);
        const std::string e = load_error(mb);
        EXPECT_NE(e.find("raw_data"), std::string::npos) << e;
    }
    {
        // Constant folding surfaces kernel errors at load time.
        ModelBuilder mb(13);
        mb.input("x", DataType::Float, {2});
        mb.initializer("a", float_tensor({3}, {1, 2, 3}));
        mb.initializer("b", float_tensor({2}, {1, 2}));
        mb.node("Add", {"a", "b"}, {"c"});
        mb.node("Add", {"x", "c"}, {"y"});
        mb.output("y", DataType::Float);
        const std::string e = load_error(mb);
        EXPECT_NE(e.find("broadcast"), std::string::npos) << e;
    }
}

TEST(OnnxLoader, BadInputsAreErrors) {
    auto s = Session::load_bytes(as_bytes(small_model()));
    ASSERT_TRUE(s);
    Session& session = **s;
    auto missing = session.run({});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("missing input \"x\""), std::string::npos) << missing.error().message;
    auto wrong_type = session.run({{"x", int_tensor({2, 2}, {1, 2, 3, 4})}});
    ASSERT_FALSE(wrong_type);
    EXPECT_NE(wrong_type.error().message.find("float"), std::string::npos) << wrong_type.error().message;
    auto wrong_shape = session.run({{"x", float_tensor({3, 2}, {1, 2, 3, 4, 5, 6})}});
    ASSERT_FALSE(wrong_shape);
    EXPECT_NE(wrong_shape.error().message.find("shape"), std::string::npos) << wrong_shape.error().message;
    auto unknown = session.run({{"x", float_tensor({2, 1}, {1, 2})}, {"z", float_tensor({1}, {1})}});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("\"z\""), std::string::npos);
    // Run-time shape errors name the node.
    ModelBuilder mb(13);
    mb.input("a", DataType::Float, {-1});
    mb.input("b", DataType::Float, {-1});
    mb.node("Add", {"a", "b"}, {"y"}).set_name("the_add");
    mb.output("y", DataType::Float);
    auto s2 = Session::load_bytes(as_bytes(mb.serialize()));
    ASSERT_TRUE(s2);
    auto bad = (*s2)->run({{"a", float_tensor({3}, {1, 2, 3})}, {"b", float_tensor({2}, {1, 2})}});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("the_add"), std::string::npos) << bad.error().message;
}

TEST(OnnxLoader, RandomOpsAreSeededAndDeterministic) {
    ModelBuilder mb(13);
    mb.input("x", DataType::Float, {-1, -1});
    auto& n = mb.node("RandomNormalLike", {"x"}, {"y"});
    attr(n, "mean", 1.0f);
    attr(n, "scale", 2.0f);
    mb.output("y", DataType::Float);
    const std::string bytes = mb.serialize();
    auto run_with = [&](uint64_t seed) {
        hearth::onnx::SessionOptions opt;
        opt.seed = seed;
        auto s = Session::load_bytes(as_bytes(bytes), opt);
        EXPECT_TRUE(s);
        auto r = (*s)->run({{"x", Tensor::zeros(DataType::Float, {100, 100})}});
        EXPECT_TRUE(r);
        auto again = (*s)->run({{"x", Tensor::zeros(DataType::Float, {100, 100})}});
        EXPECT_EQ((*r)[0].bytes, (*again)[0].bytes);
        return (*r)[0];
    };
    const Tensor a = run_with(7), b = run_with(7), c = run_with(8);
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_NE(a.bytes, c.bytes);
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
        sum += a.data<float>()[i];
        sq += a.data<float>()[i] * a.data<float>()[i];
    }
    const double mean = sum / static_cast<double>(a.numel());
    const double sd = std::sqrt(sq / static_cast<double>(a.numel()) - mean * mean);
    EXPECT_NEAR(mean, 1.0, 0.1);
    EXPECT_NEAR(sd, 2.0, 0.1);
}

TEST(OnnxLoader, EveryPiperAndSileroOperatorIsSupported) {
    // Piper VITS exports (piper_train, opsets 13-17) and silero VAD.
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Erf", "Tanh", "Sigmoid", "Relu",
                           "LeakyRelu", "Softplus", "Neg", "Abs", "Ceil", "Floor", "Clip", "Cast", "Constant",
                           "ConstantOfShape", "Shape", "Size", "Gather", "GatherElements", "Slice", "Concat", "Split",
                           "Squeeze", "Unsqueeze", "Reshape", "Transpose", "Expand", "Tile", "Pad", "Range", "CumSum",
                           "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Where",
                           "NonZero", "ScatterND", "ReduceSum", "ReduceMean", "ReduceMax", "Softmax", "MatMul", "Gemm",
                           "Conv", "ConvTranspose", "RandomNormalLike", "RandomNormal", "RandomUniformLike", "Identity",
                           "Max", "Min", "LSTM", "GlobalAveragePool", "Dropout", "Flatten", "LayerNormalization"})
        EXPECT_NE(hearth::onnx::find_op(op), nullptr) << op;
}
