// Random generators (RandomNormal, RandomUniform and their *Like forms). Deterministic:
// a node's own `seed` attribute seeds its draws, otherwise the session generator does,
// which Session reseeds from SessionOptions::seed at every run.
#include <fmt/format.h>

#include <cstring>

#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

template <bool Normal, bool Like>
Result<void> random_op(OpContext& ctx) {
    std::vector<int64_t> shape;
    DataType dtype = DataType::Float;
    if constexpr (Like) {
        const Tensor* x = ctx.input(0);
        if (!x) return ctx.error("missing input");
        shape = x->shape;
        dtype = x->dtype;
    } else {
        shape = ctx.attr_ints("shape");
    }
    if (ctx.has_attr("dtype")) dtype = static_cast<DataType>(ctx.attr_int("dtype", 1));
    if (dtype != DataType::Float && dtype != DataType::Double) return ctx.error("only float and double outputs");
    if (auto chk = check_shape_size(shape); !chk) return ctx.error(chk.error().message);
    Tensor y = make_tensor(dtype, shape);
    std::mt19937_64 own;
    std::mt19937_64* gen = &ctx.rng;
    if (ctx.has_attr("seed")) {
        const float s = ctx.attr_float("seed", 0.0f);
        uint32_t bits;
        std::memcpy(&bits, &s, sizeof(bits));
        own.seed(bits);
        gen = &own;
    }
    const int64_t n = y.numel();
    if constexpr (Normal) {
        std::normal_distribution<double> dist(ctx.attr_float("mean", 0.0f), ctx.attr_float("scale", 1.0f));
        for (int64_t i = 0; i < n; ++i) {
            const double v = dist(*gen);
            if (dtype == DataType::Float) y.data<float>()[i] = static_cast<float>(v);
            else y.data<double>()[i] = v;
        }
    } else {
        std::uniform_real_distribution<double> dist(ctx.attr_float("low", 0.0f), ctx.attr_float("high", 1.0f));
        for (int64_t i = 0; i < n; ++i) {
            const double v = dist(*gen);
            if (dtype == DataType::Float) y.data<float>()[i] = static_cast<float>(v);
            else y.data<double>()[i] = v;
        }
    }
    ctx.out[0] = std::move(y);
    return {};
}

}  // namespace

void register_misc_ops(OpTable& t) {
    add(t, "RandomNormal", random_op<true, false>);
    add(t, "RandomNormalLike", random_op<true, true>);
    add(t, "RandomUniform", random_op<false, false>);
    add(t, "RandomUniformLike", random_op<false, true>);
}

}  // namespace hearth::onnx
