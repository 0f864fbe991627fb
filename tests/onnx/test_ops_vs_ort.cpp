// Every supported operator, with its important attribute variants and broadcasting, run by
// our interpreter and by onnxruntime-node on the same random inputs (one node process for
// all graphs); prints the largest error per case.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>

#include "model_builder.h"
#include "support/shared_data.h"

using namespace hearth::test;
using hearth::onnx::Session;

namespace {

struct In {
    std::string name;
    Tensor value;
    bool constant = false;  // an initializer instead of a graph input
};

struct Case {
    OrtCase ort;
    std::vector<Tensor> ours;
    std::string our_error;
    double atol = 1e-5, rtol = 1e-4;
};

class Cases {
public:
    // One node `op` reading `ins` and writing outputs y0.. of the given types.
    Case& single(const std::string& name, const std::string& op, int opset, std::vector<In> ins, std::vector<DataType> outs,
                 const std::function<void(::onnx::NodeProto&)>& attrs = {}) {
        ModelBuilder mb(opset);
        std::vector<std::string> in_names, out_names;
        std::vector<std::pair<std::string, Tensor>> feeds;
        for (auto& i : ins) {
            in_names.push_back(i.name);
            if (i.name.empty()) continue;
            if (i.constant) mb.initializer(i.name, i.value);
            else {
                mb.input(i.name, i.value.dtype, i.value.shape);
                feeds.emplace_back(i.name, i.value);
            }
        }
        for (size_t k = 0; k < outs.size(); ++k) out_names.push_back(fmt::format("y{}", k));
        auto& n = mb.node(op, in_names, out_names);
        if (attrs) attrs(n);
        for (size_t k = 0; k < outs.size(); ++k) mb.output(out_names[k], outs[k]);
        return add(name, mb, std::move(feeds));
    }

    Case& add(const std::string& name, const ModelBuilder& mb, std::vector<std::pair<std::string, Tensor>> feeds) {
        Case c;
        c.ort = OrtCase{name, mb.serialize(), std::move(feeds)};
        cases.push_back(std::move(c));
        return cases.back();
    }

    std::vector<Case> cases;
};

constexpr auto F = DataType::Float;
constexpr auto I64 = DataType::Int64;
constexpr auto B = DataType::Bool;

Tensor rnd(std::vector<int64_t> shape, uint32_t seed, double lo = -1, double hi = 1) { return random_tensor(F, shape, seed, lo, hi); }

void add_elementwise(Cases& c) {
    uint32_t s = 1;
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
        c.single(fmt::format("{}_same", op), op, 17, {{"a", rnd({2, 3, 4}, s++)}, {"b", rnd({2, 3, 4}, s++, 0.5, 2)}}, {F});
        c.single(fmt::format("{}_bcast_row", op), op, 17, {{"a", rnd({2, 3, 4}, s++)}, {"b", rnd({4}, s++, 0.5, 2)}}, {F});
        c.single(fmt::format("{}_bcast_both", op), op, 14, {{"a", rnd({2, 1, 4}, s++)}, {"b", rnd({3, 1}, s++, 0.5, 2)}}, {F});
        c.single(fmt::format("{}_scalar", op), op, 13, {{"a", rnd({}, s++, 0.5, 2)}, {"b", rnd({5, 7}, s++, 0.5, 2)}}, {F});
        c.single(fmt::format("{}_int64", op), op, 17,
                 {{"a", random_tensor(I64, {3, 5}, s++, -50, 50)}, {"b", random_tensor(I64, {5}, s++, 1, 9)}}, {I64});
    }
    c.single("Add_large_threaded", "Add", 17, {{"a", rnd({4, 64, 300}, s++)}, {"b", rnd({64, 1}, s++)}}, {F});
    c.single("Pow_float", "Pow", 15, {{"a", rnd({3, 4}, s++, 0.1, 3)}, {"b", rnd({4}, s++, -2, 2)}}, {F});
    c.single("Pow_square", "Pow", 13, {{"a", rnd({3, 4}, s++)}, {"b", float_tensor({}, {2.0f}), true}}, {F});
    c.single("Pow_int_exponent", "Pow", 15, {{"a", rnd({6}, s++, 0.1, 3)}, {"b", int_tensor({}, {3})}}, {F});
    c.single("Mod_int", "Mod", 13, {{"a", random_tensor(I64, {8}, s++, -20, 20)}, {"b", random_tensor(I64, {8}, s++, 1, 7)}}, {I64});
    c.single("Mod_fmod", "Mod", 13, {{"a", rnd({8}, s++, -5, 5)}, {"b", rnd({8}, s++, 1, 3)}}, {F},
             [](auto& n) { attr(n, "fmod", int64_t{1}); });
    for (const char* op : {"Max", "Min", "Sum", "Mean"})
        c.single(fmt::format("{}_3inputs", op), op, 13, {{"a", rnd({2, 3}, s++)}, {"b", rnd({3}, s++)}, {"c", rnd({2, 1}, s++)}}, {F});
    c.single("Max_int64", "Max", 13, {{"a", random_tensor(I64, {4}, s++, -9, 9)}, {"b", random_tensor(I64, {4}, s++, -9, 9)}}, {I64});
    for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) {
        c.single(fmt::format("{}_float", op), op, 16, {{"a", rnd({3, 4}, s++)}, {"b", rnd({4}, s++)}}, {B});
        c.single(fmt::format("{}_int64", op), op, 16,
                 {{"a", random_tensor(I64, {3, 4}, s++, -3, 3)}, {"b", random_tensor(I64, {3, 1}, s++, -3, 3)}}, {B});
    }
    for (const char* op : {"And", "Or", "Xor"})
        c.single(op, op, 7, {{"a", random_tensor(B, {3, 4}, s++)}, {"b", random_tensor(B, {4}, s++)}}, {B});
    c.single("Not", "Not", 1 + 12, {{"a", random_tensor(B, {3, 4}, s++)}}, {B});
    struct U {
        const char* op;
        double lo, hi;
    };
    for (U u : {U{"Neg", -3, 3}, U{"Abs", -3, 3}, U{"Sqrt", 0.01, 4}, U{"Exp", -3, 3}, U{"Log", 0.01, 4}, U{"Erf", -3, 3},
                U{"Tanh", -4, 4}, U{"Sigmoid", -8, 8}, U{"Relu", -3, 3}, U{"Softplus", -30, 30}, U{"Ceil", -3, 3},
                U{"Floor", -3, 3}, U{"Round", -3, 3}, U{"Reciprocal", 0.5, 3}, U{"Sin", -3, 3}, U{"Cos", -3, 3}, U{"Sign", -3, 3}})
        c.single(u.op, u.op, 17, {{"x", rnd({4, 33}, s++, u.lo, u.hi)}}, {F});
    c.single("Neg_int64", "Neg", 17, {{"x", random_tensor(I64, {5}, s++, -9, 9)}}, {I64});
    c.single("Abs_int64", "Abs", 17, {{"x", random_tensor(I64, {5}, s++, -9, 9)}}, {I64});
    c.single("LeakyRelu", "LeakyRelu", 16, {{"x", rnd({3, 40}, s++)}}, {F}, [](auto& n) { attr(n, "alpha", 0.1f); });
    c.single("LeakyRelu_default", "LeakyRelu", 16, {{"x", rnd({3, 40}, s++)}}, {F});
    c.single("Elu", "Elu", 6, {{"x", rnd({3, 8}, s++, -3, 3)}}, {F}, [](auto& n) { attr(n, "alpha", 0.7f); });
    c.single("HardSigmoid", "HardSigmoid", 6, {{"x", rnd({3, 8}, s++, -5, 5)}}, {F});
    c.single("Clip_inputs", "Clip", 13, {{"x", rnd({3, 8}, s++, -3, 3)}, {"lo", float_tensor({}, {-0.5f})}, {"hi", float_tensor({}, {0.7f})}}, {F});
    c.single("Clip_min_only", "Clip", 13, {{"x", rnd({3, 8}, s++, -3, 3)}, {"lo", float_tensor({}, {0.1f}), true}}, {F});
    c.single("Clip_attr_opset6", "Clip", 6, {{"x", rnd({3, 8}, s++, -3, 3)}}, {F}, [](auto& n) {
        attr(n, "min", -1.0f);
        attr(n, "max", 0.5f);
    });
    c.single("Where_bcast", "Where", 16, {{"c", random_tensor(B, {3, 1}, s++)}, {"a", rnd({3, 4}, s++)}, {"b", rnd({4}, s++)}}, {F});
    c.single("Where_int64", "Where", 16,
             {{"c", random_tensor(B, {4}, s++)}, {"a", random_tensor(I64, {4}, s++, 0, 9)}, {"b", int_tensor({}, {-1})}}, {I64});
    c.single("Cast_float_to_int64", "Cast", 13, {{"x", rnd({10}, s++, -5, 5)}}, {I64}, [](auto& n) { attr(n, "to", int64_t{7}); });
    c.single("Cast_int64_to_float", "Cast", 13, {{"x", random_tensor(I64, {10}, s++, -50, 50)}}, {F}, [](auto& n) { attr(n, "to", int64_t{1}); });
    c.single("Cast_float_to_bool", "Cast", 13, {{"x", float_tensor({4}, {0.0f, 1.5f, -2.0f, 0.0f})}}, {B}, [](auto& n) { attr(n, "to", int64_t{9}); });
    c.single("Cast_bool_to_float", "Cast", 13, {{"x", random_tensor(B, {6}, s++)}}, {F}, [](auto& n) { attr(n, "to", int64_t{1}); });
    c.single("CastLike", "CastLike", 15, {{"x", random_tensor(I64, {5}, s++, -9, 9)}, {"like", rnd({1}, s++)}}, {F});
}

void add_shape_ops(Cases& c) {
    uint32_t s = 100;
    c.single("Shape", "Shape", 13, {{"x", rnd({2, 3, 5}, s++)}}, {I64});
    c.single("Shape_start_end", "Shape", 15, {{"x", rnd({2, 3, 5, 1}, s++)}}, {I64}, [](auto& n) {
        attr(n, "start", int64_t{1});
        attr(n, "end", int64_t{-1});
    });
    c.single("Size", "Size", 13, {{"x", rnd({2, 3, 5}, s++)}}, {I64});
    c.single("Reshape_zero_minus1", "Reshape", 14, {{"x", rnd({2, 3, 4}, s++)}, {"s", int_tensor({3}, {0, -1, 2})}}, {F});
    c.single("Reshape_const", "Reshape", 13, {{"x", rnd({2, 3, 4}, s++)}, {"s", int_tensor({2}, {4, 6}), true}}, {F});
    c.single("Flatten", "Flatten", 13, {{"x", rnd({2, 3, 4, 5}, s++)}}, {F}, [](auto& n) { attr(n, "axis", int64_t{2}); });
    c.single("Squeeze_input", "Squeeze", 13, {{"x", rnd({1, 3, 1, 4}, s++)}, {"a", int_tensor({1}, {-2})}}, {F});
    c.single("Squeeze_all", "Squeeze", 13, {{"x", rnd({1, 3, 1, 4}, s++)}}, {F});
    c.single("Squeeze_attr_opset11", "Squeeze", 11, {{"x", rnd({1, 3, 1, 4}, s++)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{0, 2}); });
    c.single("Unsqueeze_input", "Unsqueeze", 13, {{"x", rnd({3, 4}, s++)}, {"a", int_tensor({2}, {0, -1})}}, {F});
    c.single("Unsqueeze_attr_opset11", "Unsqueeze", 11, {{"x", rnd({3, 4}, s++)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{1, 3}); });
    c.single("Transpose_perm", "Transpose", 13, {{"x", rnd({2, 3, 4, 5}, s++)}}, {F}, [](auto& n) { attr(n, "perm", std::vector<int64_t>{2, 0, 3, 1}); });
    c.single("Transpose_default", "Transpose", 13, {{"x", rnd({3, 7}, s++)}}, {F});
    c.single("Transpose_int64", "Transpose", 13, {{"x", random_tensor(I64, {2, 3, 4}, s++, -9, 9)}}, {I64},
             [](auto& n) { attr(n, "perm", std::vector<int64_t>{0, 2, 1}); });
    c.single("Concat_last", "Concat", 13, {{"a", rnd({2, 3, 4}, s++)}, {"b", rnd({2, 3, 2}, s++)}, {"c", rnd({2, 3, 1}, s++)}}, {F},
             [](auto& n) { attr(n, "axis", int64_t{-1}); });
    c.single("Concat_first_int64", "Concat", 13, {{"a", int_tensor({2}, {1, 2})}, {"b", int_tensor({1}, {7})}}, {I64},
             [](auto& n) { attr(n, "axis", int64_t{0}); });
    c.single("Split_sizes_input", "Split", 13, {{"x", rnd({2, 10}, s++)}, {"sp", int_tensor({3}, {2, 5, 3})}}, {F, F, F},
             [](auto& n) { attr(n, "axis", int64_t{1}); });
    c.single("Split_attr_opset11", "Split", 11, {{"x", rnd({6, 3}, s++)}}, {F, F}, [](auto& n) { attr(n, "split", std::vector<int64_t>{4, 2}); });
    c.single("Split_equal", "Split", 13, {{"x", rnd({6, 3}, s++)}}, {F, F, F});
    c.single("Split_num_outputs_opset18", "Split", 18, {{"x", rnd({7, 2}, s++)}}, {F, F, F}, [](auto& n) { attr(n, "num_outputs", int64_t{3}); });
    c.single("Slice_basic", "Slice", 13,
             {{"x", rnd({5, 6, 7}, s++)}, {"st", int_tensor({2}, {1, -5})}, {"en", int_tensor({2}, {4, 100})}, {"ax", int_tensor({2}, {0, 2})}}, {F});
    c.single("Slice_steps_negative", "Slice", 13,
             {{"x", rnd({5, 6}, s++)}, {"st", int_tensor({2}, {-1, 0})}, {"en", int_tensor({2}, {-100, 6})}, {"ax", int_tensor({2}, {0, 1})},
              {"sp", int_tensor({2}, {-2, 3})}}, {F});
    c.single("Slice_attr_opset1", "Slice", 9, {{"x", rnd({5, 6}, s++)}}, {F}, [](auto& n) {
        attr(n, "starts", std::vector<int64_t>{1});
        attr(n, "ends", std::vector<int64_t>{-1});
        attr(n, "axes", std::vector<int64_t>{1});
    });
    c.single("Gather_axis0", "Gather", 13, {{"x", rnd({5, 4}, s++)}, {"i", int_tensor({2, 3}, {0, 4, -1, 2, 2, 1})}}, {F});
    c.single("Gather_axis1_scalar", "Gather", 13, {{"x", rnd({3, 5, 2}, s++)}, {"i", int_tensor({}, {-2})}}, {F},
             [](auto& n) { attr(n, "axis", int64_t{1}); });
    c.single("Gather_int64_data", "Gather", 13, {{"x", int_tensor({4}, {10, 20, 30, 40})}, {"i", int_tensor({1}, {2})}}, {I64});
    c.single("GatherElements", "GatherElements", 13, {{"x", rnd({3, 4}, s++)}, {"i", int_tensor({3, 2}, {0, 3, -1, 1, 2, 2})}}, {F},
             [](auto& n) { attr(n, "axis", int64_t{1}); });
    c.single("Expand", "Expand", 13, {{"x", rnd({3, 1}, s++)}, {"s", int_tensor({3}, {2, 1, 4})}}, {F});
    c.single("Tile", "Tile", 13, {{"x", rnd({2, 3}, s++)}, {"r", int_tensor({2}, {2, 3})}}, {F});
    c.single("Pad_constant", "Pad", 13, {{"x", rnd({2, 3, 4}, s++)}, {"p", int_tensor({6}, {0, 1, 2, 0, 2, 1})}, {"v", float_tensor({}, {0.5f})}}, {F});
    c.single("Pad_reflect", "Pad", 13, {{"x", rnd({1, 2, 6}, s++)}, {"p", int_tensor({6}, {0, 0, 3, 0, 0, 2})}}, {F},
             [](auto& n) { attr(n, "mode", std::string("reflect")); });
    c.single("Pad_edge", "Pad", 13, {{"x", rnd({2, 5}, s++)}, {"p", int_tensor({4}, {1, 2, 1, 0})}}, {F}, [](auto& n) { attr(n, "mode", std::string("edge")); });
    c.single("Pad_negative", "Pad", 13, {{"x", rnd({2, 6}, s++)}, {"p", int_tensor({4}, {0, -1, 0, 2})}}, {F});
    c.single("Pad_attr_opset2", "Pad", 2, {{"x", rnd({2, 3}, s++)}}, {F}, [](auto& n) {
        attr(n, "pads", std::vector<int64_t>{1, 0, 0, 2});
        attr(n, "value", 1.5f);
    });
    c.single("Pad_axes_opset18", "Pad", 18, {{"x", rnd({2, 3, 4}, s++)}, {"p", int_tensor({2}, {1, 3})}, {"", Tensor{}}, {"ax", int_tensor({1}, {-1})}}, {F});
    c.single("Range_float", "Range", 11, {{"a", float_tensor({}, {0.5f})}, {"b", float_tensor({}, {4.0f})}, {"d", float_tensor({}, {0.75f})}}, {F});
    c.single("Range_int64_down", "Range", 11, {{"a", int_tensor({}, {10})}, {"b", int_tensor({}, {1})}, {"d", int_tensor({}, {-3})}}, {I64});
    c.single("ConstantOfShape_int64", "ConstantOfShape", 9, {{"s", int_tensor({2}, {2, 3})}}, {I64},
             [](auto& n) { attr(n, "value", int_tensor({1}, {7})); });
    c.single("ConstantOfShape_default", "ConstantOfShape", 9, {{"s", int_tensor({1}, {4})}}, {F});
    c.single("NonZero", "NonZero", 13, {{"x", float_tensor({2, 3}, {0, 1, 0, 2, 3, 0})}}, {I64});
    c.single("ScatterND", "ScatterND", 13,
             {{"x", rnd({4, 3}, s++)}, {"i", int_tensor({2, 1}, {2, 0})}, {"u", rnd({2, 3}, s++)}}, {F});
    c.single("ScatterND_add", "ScatterND", 16,
             {{"x", rnd({4, 3}, s++)}, {"i", int_tensor({3, 2}, {1, 1, 1, 1, 3, 2})}, {"u", rnd({3}, s++)}}, {F},
             [](auto& n) { attr(n, "reduction", std::string("add")); });
    c.single("Identity", "Identity", 13, {{"x", rnd({3}, s++)}}, {F});
    {
        ModelBuilder mb(13);
        auto& n = mb.node("Constant", {}, {"y0"});
        attr(n, "value", rnd({2, 2}, s++));
        mb.output("y0", F);
        c.add("Constant_tensor", mb, {});
    }
}

void add_reduce_ops(Cases& c) {
    uint32_t s = 200;
    c.single("ReduceSum_axes_input", "ReduceSum", 13, {{"x", rnd({3, 4, 5}, s++)}, {"a", int_tensor({2}, {0, -1})}}, {F});
    c.single("ReduceSum_keepdims0", "ReduceSum", 13, {{"x", rnd({3, 4, 5}, s++)}, {"a", int_tensor({1}, {1})}}, {F},
             [](auto& n) { attr(n, "keepdims", int64_t{0}); });
    c.single("ReduceSum_all", "ReduceSum", 13, {{"x", rnd({3, 4}, s++)}}, {F});
    c.single("ReduceSum_attr_opset11", "ReduceSum", 11, {{"x", rnd({3, 4}, s++)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{1}); });
    c.single("ReduceSum_int64", "ReduceSum", 13, {{"x", random_tensor(I64, {3, 4}, s++, -9, 9)}, {"a", int_tensor({1}, {1})}}, {I64});
    c.single("ReduceMean_last", "ReduceMean", 13, {{"x", rnd({2, 3, 17}, s++)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{-1}); });
    c.single("ReduceMean_middle", "ReduceMean", 13, {{"x", rnd({2, 3, 17}, s++)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{1}); });
    c.single("ReduceMean_input_opset18", "ReduceMean", 18, {{"x", rnd({2, 3, 5}, s++)}, {"a", int_tensor({1}, {2})}}, {F});
    c.single("ReduceMax", "ReduceMax", 13, {{"x", rnd({3, 4, 5}, s++)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{0, 2}); });
    c.single("ReduceMin", "ReduceMin", 13, {{"x", rnd({3, 4}, s++)}}, {F}, [](auto& n) {
        attr(n, "axes", std::vector<int64_t>{1});
        attr(n, "keepdims", int64_t{0});
    });
    c.single("ReduceProd", "ReduceProd", 13, {{"x", rnd({3, 4}, s++, 0.5, 1.5)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{0}); });
    c.single("ReduceL2", "ReduceL2", 13, {{"x", rnd({3, 4}, s++)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{1}); });
    c.single("ReduceLogSumExp", "ReduceLogSumExp", 13, {{"x", rnd({3, 4}, s++, -5, 5)}}, {F}, [](auto& n) { attr(n, "axes", std::vector<int64_t>{1}); });
    c.single("ArgMax", "ArgMax", 13, {{"x", rnd({3, 4, 5}, s++)}}, {I64}, [](auto& n) { attr(n, "axis", int64_t{1}); });
    c.single("ArgMin_keepdims0", "ArgMin", 13, {{"x", rnd({3, 4}, s++)}}, {I64}, [](auto& n) {
        attr(n, "axis", int64_t{-1});
        attr(n, "keepdims", int64_t{0});
    });
    c.single("Softmax_last", "Softmax", 13, {{"x", rnd({2, 3, 9}, s++, -4, 4)}}, {F});
    c.single("Softmax_axis1", "Softmax", 13, {{"x", rnd({2, 3, 9}, s++, -4, 4)}}, {F}, [](auto& n) { attr(n, "axis", int64_t{1}); });
    c.single("Softmax_opset11_coerce", "Softmax", 11, {{"x", rnd({2, 3, 4}, s++, -4, 4)}}, {F}, [](auto& n) { attr(n, "axis", int64_t{1}); });
    c.single("LogSoftmax", "LogSoftmax", 13, {{"x", rnd({3, 7}, s++, -4, 4)}}, {F});
    c.single("CumSum", "CumSum", 14, {{"x", rnd({3, 5}, s++)}, {"a", int_tensor({}, {1})}}, {F});
    c.single("CumSum_exclusive_reverse", "CumSum", 14, {{"x", random_tensor(I64, {2, 6}, s++, 0, 9)}, {"a", int_tensor({}, {-1})}}, {I64},
             [](auto& n) {
                 attr(n, "exclusive", int64_t{1});
                 attr(n, "reverse", int64_t{1});
             });
}

void add_linear_ops(Cases& c) {
    uint32_t s = 300;
    auto mm = [&](const std::string& name, std::vector<int64_t> a, std::vector<int64_t> b) {
        c.single(name, "MatMul", 13, {{"a", rnd(a, s++)}, {"b", rnd(b, s++)}}, {F}).atol = 1e-4;
    };
    mm("MatMul_2d_odd", {37, 61}, {61, 45});
    mm("MatMul_big_blocked", {130, 300}, {300, 270});
    mm("MatMul_batched_shared_b", {2, 3, 5, 7}, {7, 4});
    mm("MatMul_batch_bcast", {2, 1, 5, 7}, {3, 7, 4});
    mm("MatMul_vec_left", {7}, {3, 7, 4});
    mm("MatMul_vec_right", {3, 5, 7}, {7});
    c.single("MatMul_const_weight", "MatMul", 13, {{"a", rnd({9, 33}, s++)}, {"w", rnd({33, 17}, s++), true}}, {F});
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            const int64_t M = 11, K = 19, N = 23;
            std::vector<int64_t> as = ta ? std::vector<int64_t>{K, M} : std::vector<int64_t>{M, K};
            std::vector<int64_t> bs = tb ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N};
            c.single(fmt::format("Gemm_tA{}_tB{}", ta, tb), "Gemm", 13, {{"a", rnd(as, s++)}, {"b", rnd(bs, s++)}, {"c", rnd({N}, s++)}}, {F},
                     [=](auto& n) {
                         attr(n, "transA", int64_t{ta});
                         attr(n, "transB", int64_t{tb});
                         attr(n, "alpha", 0.75f);
                         attr(n, "beta", 1.5f);
                     })
                .atol = 1e-4;
        }
    c.single("Gemm_no_c", "Gemm", 13, {{"a", rnd({4, 5}, s++)}, {"b", rnd({5, 3}, s++)}}, {F});
    c.single("Gemm_c_matrix", "Gemm", 13, {{"a", rnd({4, 5}, s++)}, {"b", rnd({5, 3}, s++)}, {"c", rnd({4, 1}, s++)}}, {F});
}

void add_conv_ops(Cases& c) {
    uint32_t s = 400;
    struct Conv1d {
        const char* name;
        int64_t n, cin, len, cout, k, stride, dil, group, p0, p1;
        bool bias;
    };
    for (Conv1d v : {Conv1d{"Conv1d_basic", 1, 4, 20, 6, 3, 1, 1, 1, 1, 1, true},
                     Conv1d{"Conv1d_stride2_dil3", 2, 3, 40, 5, 5, 2, 3, 1, 4, 2, true},
                     Conv1d{"Conv1d_groups2", 1, 6, 33, 4, 3, 1, 2, 2, 2, 2, false},
                     Conv1d{"Conv1d_depthwise", 1, 8, 30, 8, 5, 1, 1, 8, 2, 2, true},
                     Conv1d{"Conv1d_pointwise_wide", 1, 64, 700, 48, 1, 1, 1, 1, 0, 0, true},
                     Conv1d{"Conv1d_hifigan_like", 1, 32, 500, 32, 7, 1, 5, 1, 15, 15, true},
                     Conv1d{"Conv1d_stride_no_pad", 1, 2, 17, 3, 4, 3, 1, 1, 0, 0, true}}) {
        std::vector<In> ins{{"x", rnd({v.n, v.cin, v.len}, s++)}, {"w", rnd({v.cout, v.cin / v.group, v.k}, s++), true}};
        if (v.bias) ins.push_back({"b", rnd({v.cout}, s++), true});
        c.single(v.name, "Conv", 11, ins, {F}, [=](auto& n) {
             attr(n, "strides", std::vector<int64_t>{v.stride});
             attr(n, "dilations", std::vector<int64_t>{v.dil});
             attr(n, "group", v.group);
             attr(n, "pads", std::vector<int64_t>{v.p0, v.p1});
             attr(n, "kernel_shape", std::vector<int64_t>{v.k});
         }).atol = 1e-4;
    }
    c.single("Conv1d_same_upper", "Conv", 11, {{"x", rnd({1, 3, 10}, s++)}, {"w", rnd({2, 3, 4}, s++)}}, {F},
             [](auto& n) { attr(n, "auto_pad", std::string("SAME_UPPER")); });
    c.single("Conv2d", "Conv", 11, {{"x", rnd({1, 3, 9, 8}, s++)}, {"w", rnd({4, 3, 3, 2}, s++)}, {"b", rnd({4}, s++)}}, {F}, [](auto& n) {
        attr(n, "strides", std::vector<int64_t>{2, 1});
        attr(n, "pads", std::vector<int64_t>{1, 0, 1, 1});
        attr(n, "dilations", std::vector<int64_t>{1, 2});
    });
    struct ConvT {
        const char* name;
        int64_t cin, len, cout, k, stride, dil, group, p0, p1, outpad;
    };
    for (ConvT v : {ConvT{"ConvTranspose1d_upsample8", 16, 25, 8, 16, 8, 1, 1, 4, 4, 0},
                    ConvT{"ConvTranspose1d_upsample2_k4", 8, 40, 4, 4, 2, 1, 1, 1, 1, 0},
                    ConvT{"ConvTranspose1d_groups_dil", 6, 12, 4, 3, 2, 2, 2, 1, 0, 1},
                    ConvT{"ConvTranspose1d_stride1", 5, 9, 3, 3, 1, 1, 1, 0, 0, 0},
                    ConvT{"ConvTranspose1d_outpad_groups", 6, 11, 4, 5, 3, 1, 2, 1, 2, 2},
                    ConvT{"ConvTranspose1d_kernel_lt_stride", 3, 7, 2, 2, 3, 1, 1, 0, 0, 0},
                    ConvT{"ConvTranspose1d_big_pad", 4, 9, 3, 7, 2, 1, 1, 5, 3, 1}}) {
        c.single(v.name, "ConvTranspose", 11,
                 {{"x", rnd({1, v.cin, v.len}, s++)}, {"w", rnd({v.cin, v.cout / v.group, v.k}, s++), true}, {"b", rnd({v.cout}, s++), true}}, {F},
                 [=](auto& n) {
                     attr(n, "strides", std::vector<int64_t>{v.stride});
                     attr(n, "dilations", std::vector<int64_t>{v.dil});
                     attr(n, "group", v.group);
                     attr(n, "pads", std::vector<int64_t>{v.p0, v.p1});
                     if (v.outpad) attr(n, "output_padding", std::vector<int64_t>{v.outpad});
                 })
            .atol = 1e-4;
    }
    c.single("ConvTranspose2d", "ConvTranspose", 11, {{"x", rnd({1, 3, 4, 5}, s++)}, {"w", rnd({3, 2, 3, 2}, s++)}}, {F}, [](auto& n) {
        attr(n, "strides", std::vector<int64_t>{2, 3});
        attr(n, "pads", std::vector<int64_t>{1, 0, 0, 1});
    });
    c.single("GlobalAveragePool", "GlobalAveragePool", 13, {{"x", rnd({2, 3, 11}, s++)}}, {F});
    c.single("LayerNormalization", "LayerNormalization", 17, {{"x", rnd({2, 5, 8}, s++)}, {"g", rnd({8}, s++)}, {"b", rnd({8}, s++)}}, {F});
    // LSTM: forward with bias and initial state, and bidirectional.
    const int64_t T = 5, Bt = 2, I = 3, H = 4;
    c.single("LSTM_forward", "LSTM", 14,
             {{"x", rnd({T, Bt, I}, s++)}, {"w", rnd({1, 4 * H, I}, s++)}, {"r", rnd({1, 4 * H, H}, s++)}, {"b", rnd({1, 8 * H}, s++)},
              {"", Tensor{}}, {"h0", rnd({1, Bt, H}, s++)}, {"c0", rnd({1, Bt, H}, s++)}},
             {F, F, F}, [=](auto& n) { attr(n, "hidden_size", H); })
        .atol = 1e-5;
    c.single("LSTM_bidirectional", "LSTM", 14,
             {{"x", rnd({T, 1, I}, s++)}, {"w", rnd({2, 4 * H, I}, s++)}, {"r", rnd({2, 4 * H, H}, s++)}, {"b", rnd({2, 8 * H}, s++)}},
             {F, F, F}, [=](auto& n) {
                 attr(n, "hidden_size", H);
                 attr(n, "direction", std::string("bidirectional"));
             });
}

void add_graphs(Cases& c) {
    uint32_t s = 500;
    {
        // If with branches reading outer values (as silero does).
        ModelBuilder mb(13);
        mb.input("cond", B, {});
        mb.input("x", F, {2, 3});
        mb.node("Relu", {"x"}, {"rx"});
        ::onnx::GraphProto then_g, else_g;
        then_g.set_name("then");
        else_g.set_name("else");
        {
            auto* n = then_g.add_node();
            n->set_op_type("Mul");
            n->add_input("rx");
            n->add_input("rx");
            n->add_output("t_out");
            fill_value_info(*then_g.add_output(), "t_out", F, nullptr);
            auto* n2 = else_g.add_node();
            n2->set_op_type("Neg");
            n2->add_input("x");
            n2->add_output("e_out");
            fill_value_info(*else_g.add_output(), "e_out", F, nullptr);
        }
        auto& n = mb.node("If", {"cond"}, {"y0"});
        attr(n, "then_branch", then_g);
        attr(n, "else_branch", else_g);
        mb.output("y0", F);
        const std::string bytes = mb.serialize();
        c.add("If_then", mb, {{"cond", bool_tensor({}, {1})}, {"x", rnd({2, 3}, s++)}});
        c.add("If_else", mb, {{"cond", bool_tensor({}, {0})}, {"x", rnd({2, 3}, s++)}});
    }
    {
        // Loop: a carried sum of the iteration number, a scan output reading an outer value,
        // and an early exit from the body's condition.
        ModelBuilder mb(13);
        mb.input("m", I64, {});
        mb.input("x", F, {2});
        mb.input("scale", F, {2});
        ::onnx::GraphProto body;
        body.set_name("body");
        const std::vector<int64_t> scalar;
        fill_value_info(*body.add_input(), "i", I64, &scalar);
        fill_value_info(*body.add_input(), "c_in", B, &scalar);
        fill_value_info(*body.add_input(), "x_in", F, nullptr);
        auto add_node = [&](const std::string& op, std::vector<std::string> ins, const std::string& out) -> ::onnx::NodeProto& {
            auto* n = body.add_node();
            n->set_op_type(op);
            for (auto& i : ins) n->add_input(i);
            n->add_output(out);
            return *n;
        };
        attr(add_node("Cast", {"i"}, "fi"), "to", int64_t{1});
        add_node("Add", {"x_in", "fi"}, "x_out");
        add_node("Mul", {"x_out", "scale"}, "scan");
        auto& lim = add_node("Constant", {}, "limit");
        attr(lim, "value", int_tensor({}, {5}));
        add_node("Less", {"i", "limit"}, "c_out");
        fill_value_info(*body.add_output(), "c_out", B, nullptr);
        fill_value_info(*body.add_output(), "x_out", F, nullptr);
        fill_value_info(*body.add_output(), "scan", F, nullptr);
        mb.initializer("cond0", bool_tensor({}, {1}));
        auto& n = mb.node("Loop", {"m", "cond0", "x"}, {"y0", "y1"});
        attr(n, "body", body);
        mb.output("y0", F);
        mb.output("y1", F);
        c.add("Loop_trip_count", mb, {{"m", int_tensor({}, {4})}, {"x", rnd({2}, s++)}, {"scale", rnd({2}, s++)}});
        c.add("Loop_cond_exit", mb, {{"m", int_tensor({}, {50})}, {"x", rnd({2}, s++)}, {"scale", rnd({2}, s++)}});
    }
    {
        // Attention block: softmax(Q K^T / sqrt(d)) V with a dynamic reshape.
        ModelBuilder mb(13);
        mb.input("x", F, {1, 12, 16});
        mb.initializer("wq", rnd({16, 16}, s++));
        mb.initializer("wk", rnd({16, 16}, s++));
        mb.initializer("wv", rnd({16, 16}, s++));
        mb.initializer("scale", float_tensor({}, {0.25f}));
        mb.initializer("heads", int_tensor({4}, {1, 12, 2, 8}));
        mb.initializer("zero", int_tensor({1}, {0}));
        mb.node("MatMul", {"x", "wq"}, {"q"});
        mb.node("MatMul", {"x", "wk"}, {"k"});
        mb.node("MatMul", {"x", "wv"}, {"v"});
        mb.node("Reshape", {"q", "heads"}, {"q4"});
        mb.node("Reshape", {"k", "heads"}, {"k4"});
        mb.node("Reshape", {"v", "heads"}, {"v4"});
        attr(mb.node("Transpose", {"q4"}, {"qt"}), "perm", std::vector<int64_t>{0, 2, 1, 3});
        attr(mb.node("Transpose", {"k4"}, {"kt"}), "perm", std::vector<int64_t>{0, 2, 3, 1});
        attr(mb.node("Transpose", {"v4"}, {"vt"}), "perm", std::vector<int64_t>{0, 2, 1, 3});
        mb.node("MatMul", {"qt", "kt"}, {"sc"});
        mb.node("Mul", {"sc", "scale"}, {"sc2"});
        mb.node("Softmax", {"sc2"}, {"p"});
        mb.node("MatMul", {"p", "vt"}, {"o"});
        attr(mb.node("Transpose", {"o"}, {"ot"}), "perm", std::vector<int64_t>{0, 2, 1, 3});
        // Dynamic target shape: [batch, -1] from Shape/Gather/Unsqueeze/Concat.
        mb.node("Shape", {"x"}, {"xs"});
        attr(mb.node("Gather", {"xs", "zero"}, {"b0"}), "axis", int64_t{0});
        mb.initializer("minus1", int_tensor({1}, {-1}));
        mb.initializer("d16", int_tensor({1}, {16}));
        attr(mb.node("Concat", {"b0", "minus1", "d16"}, {"shape3"}), "axis", int64_t{0});
        mb.node("Reshape", {"ot", "shape3"}, {"y0"});
        mb.output("y0", F);
        c.add("Graph_attention", mb, {{"x", rnd({1, 12, 16}, s++)}}).atol = 1e-4;
    }
    {
        // Vocoder block: ConvTranspose -> LeakyRelu -> residual dilated Conv, Tanh.
        ModelBuilder mb(15);
        mb.input("x", F, {1, 16, 30});
        mb.initializer("up_w", rnd({16, 8, 8}, s++, -0.3, 0.3));
        mb.initializer("up_b", rnd({8}, s++));
        mb.initializer("c_w", rnd({8, 8, 3}, s++, -0.3, 0.3));
        mb.initializer("c_b", rnd({8}, s++));
        mb.initializer("post_w", rnd({1, 8, 7}, s++, -0.3, 0.3));
        auto& up = mb.node("ConvTranspose", {"x", "up_w", "up_b"}, {"u"});
        attr(up, "strides", std::vector<int64_t>{4});
        attr(up, "pads", std::vector<int64_t>{2, 2});
        attr(mb.node("LeakyRelu", {"u"}, {"ua"}), "alpha", 0.1f);
        auto& cv = mb.node("Conv", {"ua", "c_w", "c_b"}, {"cv"});
        attr(cv, "dilations", std::vector<int64_t>{3});
        attr(cv, "pads", std::vector<int64_t>{3, 3});
        mb.node("Add", {"cv", "u"}, {"res"});
        auto& post = mb.node("Conv", {"res", "post_w"}, {"pc"});
        attr(post, "pads", std::vector<int64_t>{3, 3});
        mb.node("Tanh", {"pc"}, {"y0"});
        mb.output("y0", F);
        c.add("Graph_vocoder_block", mb, {{"x", rnd({1, 16, 30}, s++)}}).atol = 1e-4;
    }
    {
        // LeakyRelu fused into ConvTranspose (1-D polyphase and 2-D paths), and a Conv whose
        // output is added to its own input, in both operand orders.
        ModelBuilder mb(15);
        mb.input("x", F, {1, 12, 40});
        mb.input("x2", F, {1, 3, 5, 4});
        mb.initializer("up_w", rnd({12, 10, 4}, s++, -0.3, 0.3));
        mb.initializer("up2_w", rnd({3, 2, 3, 3}, s++, -0.3, 0.3));
        mb.initializer("c_w", rnd({10, 10, 5}, s++, -0.3, 0.3));
        mb.initializer("c_b", rnd({10}, s++));
        attr(mb.node("LeakyRelu", {"x"}, {"xa"}), "alpha", 0.1f);
        auto& up = mb.node("ConvTranspose", {"xa", "up_w"}, {"u"});
        attr(up, "strides", std::vector<int64_t>{2});
        attr(up, "pads", std::vector<int64_t>{1, 1});
        attr(mb.node("LeakyRelu", {"u"}, {"ua"}), "alpha", 0.2f);
        auto& cv = mb.node("Conv", {"ua", "c_w", "c_b"}, {"cv"});
        attr(cv, "dilations", std::vector<int64_t>{2});
        attr(cv, "pads", std::vector<int64_t>{4, 4});
        mb.node("Add", {"cv", "u"}, {"r1"});
        auto& cv2 = mb.node("Conv", {"r1", "c_w"}, {"cv2"});
        attr(cv2, "pads", std::vector<int64_t>{2, 2});
        mb.node("Add", {"r1", "cv2"}, {"y0"});
        attr(mb.node("LeakyRelu", {"x2"}, {"x2a"}), "alpha", 0.3f);
        auto& up2 = mb.node("ConvTranspose", {"x2a", "up2_w"}, {"y1"});
        attr(up2, "strides", std::vector<int64_t>{2, 1});
        // A broadcast Add after a Conv (the fused Add's general path).
        mb.initializer("col", rnd({1, 10, 1}, s++));
        auto& cv3 = mb.node("Conv", {"y0", "c_w"}, {"cv3"});
        attr(cv3, "pads", std::vector<int64_t>{2, 2});
        mb.node("Add", {"col", "cv3"}, {"y2"});
        mb.output("y0", F);
        mb.output("y1", F);
        mb.output("y2", F);
        c.add("Graph_fused_leaky_and_residual", mb, {{"x", rnd({1, 12, 40}, s++)}, {"x2", rnd({1, 3, 5, 4}, s++)}}).atol = 1e-4;
    }
    {
        // Length regulation as VITS does it: durations -> CumSum -> mask via Range/Less.
        ModelBuilder mb(13);
        mb.input("w", F, {1, 1, 6});
        mb.node("Ceil", {"w"}, {"wc"});
        mb.initializer("ax", int_tensor({}, {2}));
        mb.node("CumSum", {"wc", "ax"}, {"cum"});
        mb.initializer("axes_all", int_tensor({3}, {0, 1, 2}));
        attr(mb.node("ReduceMax", {"cum"}, {"total"}), "keepdims", int64_t{0});
        attr(mb.node("Cast", {"total"}, {"total_i"}), "to", int64_t{7});
        mb.initializer("z", int_tensor({}, {0}));
        mb.initializer("one", int_tensor({}, {1}));
        mb.node("Range", {"z", "total_i", "one"}, {"pos"});
        attr(mb.node("Cast", {"pos"}, {"posf"}), "to", int64_t{1});
        mb.initializer("ax_last", int_tensor({1}, {-1}));
        mb.node("Unsqueeze", {"cum", "ax_last"}, {"cum4"});
        mb.node("Less", {"posf", "cum4"}, {"mask"});
        attr(mb.node("Cast", {"mask"}, {"y0"}), "to", int64_t{1});
        mb.output("y0", F);
        c.add("Graph_length_regulator", mb, {{"w", rnd({1, 1, 6}, s++, 0.2, 3.5)}});
    }
}

}  // namespace

TEST(OnnxOps, MatchOnnxRuntime) {
    Cases cases;
    add_elementwise(cases);
    add_shape_ops(cases);
    add_reduce_ops(cases);
    add_linear_ops(cases);
    add_conv_ops(cases);
    add_graphs(cases);

    // Ours first: every case must load and run.
    for (auto& c : cases.cases) {
        hearth::onnx::SessionOptions opt;
        opt.n_threads = 2;
        auto s = Session::load_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(c.ort.model_bytes.data()), c.ort.model_bytes.size()), opt);
        if (!s) {
            c.our_error = "load: " + s.error().message;
            continue;
        }
        auto r = (*s)->run(c.ort.inputs);
        if (!r) c.our_error = "run: " + r.error().message;
        else c.ours = std::move(*r);
    }
    for (const auto& c : cases.cases) EXPECT_TRUE(c.our_error.empty()) << c.ort.name << ": " << c.our_error;

    std::vector<OrtCase> ort_cases;
    for (const auto& c : cases.cases) ort_cases.push_back(c.ort);
    std::vector<OrtResult> ref;
    std::string why;
    const auto dir = scratch_dir("onnx-ops");
    if (!run_onnxruntime(ort_cases, dir, ref, why)) GTEST_SKIP() << "onnxruntime comparison skipped: " << why;
    int compared = 0;
    for (size_t i = 0; i < cases.cases.size(); ++i) {
        const Case& c = cases.cases[i];
        ASSERT_TRUE(ref[i].ok) << c.ort.name << ": onnxruntime failed: " << ref[i].error;
        if (!c.our_error.empty()) continue;
        ASSERT_EQ(c.ours.size(), ref[i].outputs.size()) << c.ort.name;
        double worst_abs = 0;
        for (size_t k = 0; k < c.ours.size(); ++k) {
            double max_abs = 0;
            const double score = compare_tensors(c.ours[k], ref[i].outputs[k], c.atol, c.rtol, max_abs);
            EXPECT_LE(score, 1.0) << c.ort.name << " output " << k << ": max abs error " << max_abs << " (ours "
                                  << hearth::onnx::data_type_name(c.ours[k].dtype) << " " << fmt::format("{}", fmt::join(c.ours[k].shape, "x"))
                                  << ", ort " << fmt::format("{}", fmt::join(ref[i].outputs[k].shape, "x")) << ")";
            worst_abs = std::max(worst_abs, max_abs);
        }
        ++compared;
        fmt::print("  {:<34} max abs error {:.3g}\n", c.ort.name, worst_abs);
    }
    fmt::print("compared {} graphs with onnxruntime\n", compared);
}
