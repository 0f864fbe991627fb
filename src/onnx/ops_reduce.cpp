// Reductions along axes (ReduceSum/Mean/Max/Min/Prod/SumSquare/L2/LogSumExp, ArgMax/ArgMin),
// Softmax/LogSoftmax and CumSum.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

enum class Reduce { Sum, Mean, Max, Min, Prod, SumSquare, L1, L2, LogSumExp };

// Reduction over a set of axes, done as [outer, reduced, inner] passes one axis at a time.
template <Reduce K>
Result<void> reduce_op(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    std::vector<int64_t> axes;
    if (const Tensor* a = ctx.input(1)) {
        auto v = read_ints(*a);
        if (!v) return ctx.error(v.error().message);
        axes = *v;
    } else {
        axes = ctx.attr_ints("axes");
    }
    const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
    if (axes.empty()) {
        if (ctx.attr_int("noop_with_empty_axes", 0) != 0) {
            ctx.out[0] = *x;
            return {};
        }
        for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
    }
    std::vector<bool> reduce(static_cast<size_t>(rank), false);
    for (int64_t a : axes) {
        auto n = normalize_axis(a, rank);
        if (!n) return ctx.error(n.error().message);
        reduce[static_cast<size_t>(*n)] = true;
    }
    std::vector<int64_t> out_shape, kept_shape;
    for (int64_t d = 0; d < rank; ++d) {
        const int64_t n = x->shape[static_cast<size_t>(d)];
        if (reduce[static_cast<size_t>(d)]) {
            if (keepdims) out_shape.push_back(1);
            kept_shape.push_back(1);
        } else {
            out_shape.push_back(n);
            kept_shape.push_back(n);
        }
    }
    Result<void> r = ctx.error(fmt::format("unsupported type {}", data_type_name(x->dtype)));
    dispatch_numeric(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
        const int64_t n_out = shape_numel(kept_shape);
        std::vector<Acc> acc(static_cast<size_t>(n_out));
        Acc init = 0;
        if (K == Reduce::Max) init = std::numeric_limits<T>::lowest();
        if (K == Reduce::Min) init = std::numeric_limits<T>::max();
        if (K == Reduce::Prod) init = 1;
        std::fill(acc.begin(), acc.end(), init);
        // LogSumExp: subtract the max first for stability.
        std::vector<Acc> mx;
        const auto ks = strides_of(kept_shape);
        auto out_index = [&](const std::vector<int64_t>& pos) {
            int64_t o = 0;
            for (size_t d = 0; d < pos.size(); ++d)
                if (!reduce[d]) o += pos[d] * ks[d];
            return o;
        };
        auto walk = [&](auto&& fn) {
            std::vector<int64_t> pos(static_cast<size_t>(rank), 0);
            for (int64_t i = 0; i < x->numel(); ++i) {
                fn(out_index(pos), static_cast<Acc>(x->data<T>()[i]));
                for (size_t d = static_cast<size_t>(rank); d-- > 0;) {
                    if (++pos[d] < x->shape[d]) break;
                    pos[d] = 0;
                }
            }
        };
        if (K == Reduce::LogSumExp) {
            mx.assign(static_cast<size_t>(n_out), std::numeric_limits<T>::lowest());
            walk([&](int64_t o, Acc v) { mx[static_cast<size_t>(o)] = std::max(mx[static_cast<size_t>(o)], v); });
        }
        walk([&](int64_t o, Acc v) {
            Acc& a = acc[static_cast<size_t>(o)];
            switch (K) {
                case Reduce::Sum: case Reduce::Mean: a += v; break;
                case Reduce::Max: a = std::max(a, v); break;
                case Reduce::Min: a = std::min(a, v); break;
                case Reduce::Prod: a *= v; break;
                case Reduce::SumSquare: case Reduce::L2: a += v * v; break;
                case Reduce::L1: a += v < 0 ? -v : v; break;
                case Reduce::LogSumExp: a += static_cast<Acc>(std::exp(static_cast<double>(v - mx[static_cast<size_t>(o)]))); break;
            }
        });
        const int64_t count = n_out == 0 ? 0 : x->numel() / n_out;
        Tensor y = make_tensor(x->dtype, out_shape);
        for (int64_t o = 0; o < n_out; ++o) {
            Acc a = acc[static_cast<size_t>(o)];
            if (K == Reduce::Mean) a = count ? static_cast<Acc>(a / static_cast<Acc>(count)) : a;
            if (K == Reduce::L2) a = static_cast<Acc>(std::sqrt(static_cast<double>(a)));
            if (K == Reduce::LogSumExp) a = static_cast<Acc>(std::log(static_cast<double>(a)) + static_cast<double>(mx[static_cast<size_t>(o)]));
            y.data<T>()[o] = static_cast<T>(a);
        }
        ctx.out[0] = std::move(y);
        r = {};
    });
    return r;
}

// Mean over the last axis of [outer, n] rows is the hot case (layer norms); it goes fast.
Result<void> reduce_mean_fast(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (x && x->dtype == DataType::Float && !x->shape.empty() && !ctx.input(1)) {
        const auto axes = ctx.attr_ints("axes");
        const int64_t rank = static_cast<int64_t>(x->shape.size());
        if (axes.size() == 1 && (axes[0] == -1 || axes[0] == rank - 1)) {
            const int64_t n = x->shape.back();
            const int64_t rows = n ? x->numel() / n : 0;
            std::vector<int64_t> shape = x->shape;
            if (ctx.attr_int("keepdims", 1)) shape.back() = 1;
            else shape.pop_back();
            Tensor y = make_tensor(DataType::Float, shape);
            for (int64_t r = 0; r < rows; ++r) {
                double s = 0;
                const float* p = x->data<float>() + r * n;
                for (int64_t i = 0; i < n; ++i) s += p[i];
                y.data<float>()[r] = static_cast<float>(s / static_cast<double>(n));
            }
            ctx.out[0] = std::move(y);
            return {};
        }
    }
    return reduce_op<Reduce::Mean>(ctx);
}

template <bool IsMax>
Result<void> arg_op(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    auto axis = normalize_axis(ctx.attr_int("axis", 0), rank);
    if (!axis) return ctx.error(axis.error().message);
    const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
    const bool last = ctx.attr_int("select_last_index", 0) != 0;
    int64_t outer = 1, inner = 1;
    const int64_t n = x->shape[static_cast<size_t>(*axis)];
    for (int64_t d = 0; d < *axis; ++d) outer *= x->shape[static_cast<size_t>(d)];
    for (int64_t d = *axis + 1; d < rank; ++d) inner *= x->shape[static_cast<size_t>(d)];
    // An empty axis has no index to give (unless there is nothing to give it for).
    if (n == 0 && outer * inner > 0) return ctx.error(fmt::format("axis {} of {} is empty", *axis, shape_string(x->shape)));
    std::vector<int64_t> shape = x->shape;
    if (keepdims) shape[static_cast<size_t>(*axis)] = 1;
    else shape.erase(shape.begin() + *axis);
    Tensor y = make_tensor(DataType::Int64, shape);
    Result<void> r = ctx.error("unsupported type");
    dispatch_numeric(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
                const T* p = x->data<T>() + o * n * inner + i;
                int64_t best = 0;
                for (int64_t k = 1; k < n; ++k) {
                    const T v = p[k * inner], b = p[best * inner];
                    const bool better = IsMax ? (last ? v >= b : v > b) : (last ? v <= b : v < b);
                    if (better) best = k;
                }
                y.data<int64_t>()[o * inner + i] = best;
            }
        r = {};
    });
    if (!r) return r;
    ctx.out[0] = std::move(y);
    return {};
}

template <bool Log>
Result<void> softmax_op(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    if (x->dtype != DataType::Float) return ctx.error("needs float input");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    auto axis = normalize_axis(ctx.attr_int("axis", ctx.opset >= 13 ? -1 : 1), rank);
    if (!axis) return ctx.error(axis.error().message);
    int64_t outer = 1, n = 1, inner = 1;
    if (ctx.opset < 13) {
        // Before opset 13 the input is coerced to 2-D at axis.
        for (int64_t d = 0; d < *axis; ++d) outer *= x->shape[static_cast<size_t>(d)];
        for (int64_t d = *axis; d < rank; ++d) n *= x->shape[static_cast<size_t>(d)];
    } else {
        n = x->shape[static_cast<size_t>(*axis)];
        for (int64_t d = 0; d < *axis; ++d) outer *= x->shape[static_cast<size_t>(d)];
        for (int64_t d = *axis + 1; d < rank; ++d) inner *= x->shape[static_cast<size_t>(d)];
    }
    Tensor y = make_tensor(DataType::Float, x->shape);
    if (y.numel() == 0) outer = 0;  // nothing to do (and no buffer to point into)
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            const float* p = x->data<float>() + o * n * inner + i;
            float* q = y.data<float>() + o * n * inner + i;
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t k = 0; k < n; ++k) mx = std::max(mx, p[k * inner]);
            double sum = 0;
            for (int64_t k = 0; k < n; ++k) {
                const float e = std::exp(p[k * inner] - mx);
                q[k * inner] = e;
                sum += e;
            }
            if (Log) {
                const float ls = static_cast<float>(std::log(sum));
                for (int64_t k = 0; k < n; ++k) q[k * inner] = p[k * inner] - mx - ls;
            } else {
                const float inv = static_cast<float>(1.0 / sum);
                for (int64_t k = 0; k < n; ++k) q[k * inner] *= inv;
            }
        }
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_cumsum(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* a = ctx.input(1);
    if (!x || !a || a->numel() != 1) return ctx.error("needs input and a scalar axis");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    auto axis = normalize_axis(saturate_cast<int64_t>(read_scalar(*a)), rank);
    if (!axis) return ctx.error(axis.error().message);
    const bool exclusive = ctx.attr_int("exclusive", 0) != 0;
    const bool reverse = ctx.attr_int("reverse", 0) != 0;
    int64_t outer = 1, inner = 1;
    const int64_t n = x->shape[static_cast<size_t>(*axis)];
    for (int64_t d = 0; d < *axis; ++d) outer *= x->shape[static_cast<size_t>(d)];
    for (int64_t d = *axis + 1; d < rank; ++d) inner *= x->shape[static_cast<size_t>(d)];
    Tensor y = make_tensor(x->dtype, x->shape);
    Result<void> r = ctx.error("unsupported type");
    dispatch_numeric(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
                Acc s = 0;
                for (int64_t step = 0; step < n; ++step) {
                    const int64_t k = reverse ? n - 1 - step : step;
                    const int64_t at = (o * n + k) * inner + i;
                    const Acc v = static_cast<Acc>(x->data<T>()[at]);
                    if (exclusive) {
                        y.data<T>()[at] = static_cast<T>(s);
                        s += v;
                    } else {
                        s += v;
                        y.data<T>()[at] = static_cast<T>(s);
                    }
                }
            }
        r = {};
    });
    if (!r) return r;
    ctx.out[0] = std::move(y);
    return {};
}

}  // namespace

void register_reduce_ops(OpTable& t) {
    add(t, "ReduceSum", reduce_op<Reduce::Sum>);
    add(t, "ReduceMean", reduce_mean_fast);
    add(t, "ReduceMax", reduce_op<Reduce::Max>);
    add(t, "ReduceMin", reduce_op<Reduce::Min>);
    add(t, "ReduceProd", reduce_op<Reduce::Prod>);
    add(t, "ReduceSumSquare", reduce_op<Reduce::SumSquare>);
    add(t, "ReduceL1", reduce_op<Reduce::L1>);
    add(t, "ReduceL2", reduce_op<Reduce::L2>);
    add(t, "ReduceLogSumExp", reduce_op<Reduce::LogSumExp>);
    add(t, "ArgMax", arg_op<true>);
    add(t, "ArgMin", arg_op<false>);
    add(t, "Softmax", softmax_op<false>);
    add(t, "LogSoftmax", softmax_op<true>);
    add(t, "CumSum", op_cumsum);
}

}  // namespace hearth::onnx
