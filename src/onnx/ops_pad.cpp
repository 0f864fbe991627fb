// Operator Pad (constant, edge and reflect modes; pads, value and axes as inputs or attributes).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

enum class PadMode { Constant, Edge, Reflect };

// What a Pad node asks for, checked against its input.
struct PadSpec {
    std::vector<int64_t> before, after, shape;  // per dimension; shape: the output's
    PadMode mode = PadMode::Constant;
    double value = 0;

    // Source index of output position p along dim d, or -1 outside (constant mode).
    int64_t source(const Tensor& x, size_t d, int64_t p) const {
        int64_t i = p - before[d];
        const int64_t n = x.shape[d];
        if (i >= 0 && i < n) return i;
        if (mode == PadMode::Constant) return -1;
        if (mode == PadMode::Edge) return std::clamp<int64_t>(i, 0, n - 1);
        // reflect without repeating the edge: -1 -> 1, n -> n-2
        const int64_t period = 2 * (n - 1);
        if (period == 0) return 0;
        i = ((i % period) + period) % period;
        return i >= n ? period - i : i;
    }
};

Result<PadSpec> read_pad_spec(OpContext& ctx, const Tensor& x) {
    const int64_t rank = static_cast<int64_t>(x.shape.size());
    std::vector<int64_t> pads;
    if (const Tensor* p = ctx.input(1)) {
        auto v = read_ints(*p);
        if (!v) return ctx.error(v.error().message);
        pads = *v;
    } else {
        pads = ctx.attr_ints("pads");
    }
    PadSpec spec;
    spec.value = ctx.attr_float("value", 0.0f);
    if (const Tensor* c = ctx.input(2); c && c->numel() > 0) spec.value = read_scalar(*c);
    std::vector<int64_t> axes;
    if (const Tensor* a = ctx.input(3)) {
        auto v = read_ints(*a);
        if (!v) return ctx.error(v.error().message);
        axes = *v;
    } else {
        for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
    }
    if (pads.size() != 2 * axes.size()) return ctx.error("pads length must be twice the number of axes");
    for (int64_t p : pads)
        if (p > tensor_element_limit() || p < -tensor_element_limit()) return ctx.error(fmt::format("pad {} out of range", p));
    spec.before.assign(static_cast<size_t>(rank), 0);
    spec.after.assign(static_cast<size_t>(rank), 0);
    for (size_t i = 0; i < axes.size(); ++i) {
        auto a = normalize_axis(axes[i], rank);
        if (!a) return ctx.error(a.error().message);
        spec.before[static_cast<size_t>(*a)] = pads[i];
        spec.after[static_cast<size_t>(*a)] = pads[i + axes.size()];
    }
    const std::string mode = ctx.attr_string("mode", "constant");
    if (mode != "constant" && mode != "reflect" && mode != "edge") return ctx.error("unsupported mode " + mode);
    spec.mode = mode == "constant" ? PadMode::Constant : mode == "edge" ? PadMode::Edge : PadMode::Reflect;
    spec.shape.resize(static_cast<size_t>(rank));
    for (size_t d = 0; d < spec.shape.size(); ++d) {
        const int64_t n = x.shape[d], b = spec.before[d], e = spec.after[d];
        spec.shape[d] = n + b + e;
        if (spec.shape[d] < 0) return ctx.error("pads remove more than the dimension");
        if (spec.mode == PadMode::Reflect && (b >= n || e >= n) && (b > 0 || e > 0))
            return ctx.error("reflect padding must be smaller than the dimension");
        if (spec.mode == PadMode::Edge && n == 0 && spec.shape[d] > 0) return ctx.error("edge padding of an empty dimension");
    }
    return spec;
}

// Row by row along the last dim: the in-range middle of a row is one contiguous copy.
template <class T>
void pad_rows(const Tensor& x, const PadSpec& spec, Tensor& y) {
    const T fill = saturate_cast<T>(spec.value);
    const int64_t rank = static_cast<int64_t>(x.shape.size());
    if (rank == 0) {
        if (y.numel() > 0) y.data<T>()[0] = x.data<T>()[0];
        return;
    }
    const auto xs = strides_of(x.shape);
    const size_t last = static_cast<size_t>(rank - 1);
    const int64_t width = spec.shape[last], n_last = x.shape[last];
    const int64_t mid0 = std::clamp<int64_t>(spec.before[last], 0, width);
    const int64_t mid1 = std::clamp<int64_t>(spec.before[last] + n_last, mid0, width);
    const int64_t rows = width ? y.numel() / width : 0;
    std::vector<int64_t> pos(static_cast<size_t>(rank), 0);
    for (int64_t row = 0; row < rows; ++row) {
        T* out = y.data<T>() + row * width;
        int64_t src = 0;
        bool outside = false;
        for (size_t d = 0; d < last; ++d) {
            const int64_t i = spec.source(x, d, pos[d]);
            outside |= i < 0;
            src += i * xs[d];
        }
        if (outside) {
            std::fill(out, out + width, fill);
        } else {
            const T* in = x.data<T>() + src;
            for (int64_t o = 0; o < mid0; ++o) {
                const int64_t i = spec.source(x, last, o);
                out[o] = i < 0 ? fill : in[i];
            }
            if (mid1 > mid0) std::memcpy(out + mid0, in + (mid0 - spec.before[last]), static_cast<size_t>(mid1 - mid0) * sizeof(T));
            for (int64_t o = mid1; o < width; ++o) {
                const int64_t i = spec.source(x, last, o);
                out[o] = i < 0 ? fill : in[i];
            }
        }
        for (size_t d = last; d-- > 0;) {
            if (++pos[d] < spec.shape[d]) break;
            pos[d] = 0;
        }
    }
}

Result<void> op_pad(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    auto spec = read_pad_spec(ctx, *x);
    if (!spec) return spec.error();
    if (auto chk = check_shape_size(spec->shape); !chk) return ctx.error(chk.error().message);
    Tensor y = make_tensor(x->dtype, spec->shape);
    Result<void> r = ctx.error(fmt::format("unsupported type {}", data_type_name(x->dtype)));
    dispatch_numeric(x->dtype, [&](auto tag) {
        pad_rows<decltype(tag)>(*x, *spec, y);
        r = {};
    });
    if (!r) return r;
    ctx.out[0] = std::move(y);
    return {};
}

}  // namespace

void register_pad_ops(OpTable& t) { add(t, "Pad", op_pad); }

}  // namespace hearth::onnx
