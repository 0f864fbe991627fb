// Operators that move or reshape data without arithmetic: Shape, Reshape, Squeeze,
// Unsqueeze, Flatten, Transpose, Concat, Split, Slice, Gather(Elements), Expand, Tile,
// Range, ConstantOfShape, Constant, Identity, NonZero, ScatterND (Pad: ops_pad.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

// Axes from input `index` (newer opsets) or the attribute `axes` (older ones).
Result<std::vector<int64_t>> axes_input_or_attr(OpContext& ctx, size_t index, bool& given) {
    given = false;
    if (const Tensor* t = ctx.input(index)) {
        given = true;
        return read_ints(*t);
    }
    if (ctx.has_attr("axes")) {
        given = true;
        return ctx.attr_ints("axes");
    }
    return std::vector<int64_t>{};
}

Tensor reshaped(const Tensor& x, std::vector<int64_t> shape) {
    Tensor y;
    y.dtype = x.dtype;
    y.shape = std::move(shape);
    y.bytes = x.bytes;
    return y;
}

Result<void> op_identity(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    ctx.out[0] = *x;
    // Dropout in inference mode: the mask output is all true.
    if (ctx.out.size() > 1) {
        Tensor mask = make_tensor(DataType::Bool, x->shape);
        std::fill(mask.bytes.begin(), mask.bytes.end(), uint8_t{1});
        ctx.out[1] = std::move(mask);
    }
    return {};
}

Result<void> op_shape(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    int64_t start = ctx.attr_int("start", 0), end = ctx.attr_int("end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, 0, rank);
    std::vector<int64_t> dims;
    for (int64_t i = start; i < end; ++i) dims.push_back(x->shape[static_cast<size_t>(i)]);
    ctx.out[0] = Tensor::from_int64s({static_cast<int64_t>(dims.size())}, dims);
    return {};
}

Result<void> op_size(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t n = x->numel();
    ctx.out[0] = Tensor::from_int64s({}, std::span<const int64_t>(&n, 1));
    return {};
}

Result<void> op_reshape(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    std::vector<int64_t> shape;
    if (const Tensor* s = ctx.input(1)) {
        auto v = read_ints(*s);
        if (!v) return ctx.error(v.error().message);
        shape = *v;
    } else {
        shape = ctx.attr_ints("shape");
    }
    const bool allowzero = ctx.attr_int("allowzero", 0) != 0;
    for (int64_t d : shape)
        if (d > kMaxTensorElements) return ctx.error(fmt::format("bad shape {}", shape_string(shape)));
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 0 && !allowzero) {
            if (i >= x->shape.size()) return ctx.error("0 in shape refers past the input's rank");
            shape[i] = x->shape[i];
        }
        if (shape[i] == -1) {
            if (infer >= 0) return ctx.error("more than one -1 in shape");
            infer = static_cast<int64_t>(i);
        } else if (shape[i] < 0) {
            return ctx.error(fmt::format("bad shape {}", shape_string(shape)));
        } else {
            known *= shape[i];
            if (known > kMaxTensorElements) return ctx.error(fmt::format("cannot reshape {} to {}", shape_string(x->shape), shape_string(shape)));
        }
    }
    if (infer >= 0) {
        if (known == 0 || x->numel() % known != 0)
            return ctx.error(fmt::format("cannot reshape {} to {}", shape_string(x->shape), shape_string(shape)));
        shape[static_cast<size_t>(infer)] = x->numel() / known;
    }
    if (shape_numel(shape) != x->numel())
        return ctx.error(fmt::format("cannot reshape {} to {}", shape_string(x->shape), shape_string(shape)));
    ctx.out[0] = reshaped(*x, shape);
    return {};
}

Result<void> op_flatten(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    int64_t axis = ctx.attr_int("axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) return ctx.error("axis out of range");
    int64_t a = 1;
    for (int64_t i = 0; i < axis; ++i) a *= x->shape[static_cast<size_t>(i)];
    ctx.out[0] = reshaped(*x, {a, a == 0 ? 0 : x->numel() / std::max<int64_t>(a, 1)});
    return {};
}

Result<void> op_squeeze(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    bool given;
    auto axes = axes_input_or_attr(ctx, 1, given);
    if (!axes) return ctx.error(axes.error().message);
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    std::vector<bool> drop(x->shape.size(), false);
    if (given) {
        for (int64_t a : *axes) {
            auto n = normalize_axis(a, rank);
            if (!n) return ctx.error(n.error().message);
            if (x->shape[static_cast<size_t>(*n)] != 1)
                return ctx.error(fmt::format("cannot squeeze axis {} of shape {}", a, shape_string(x->shape)));
            drop[static_cast<size_t>(*n)] = true;
        }
    } else {
        for (size_t i = 0; i < x->shape.size(); ++i) drop[i] = x->shape[i] == 1;
    }
    std::vector<int64_t> shape;
    for (size_t i = 0; i < x->shape.size(); ++i)
        if (!drop[i]) shape.push_back(x->shape[i]);
    ctx.out[0] = reshaped(*x, shape);
    return {};
}

Result<void> op_unsqueeze(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    bool given;
    auto axes = axes_input_or_attr(ctx, 1, given);
    if (!axes) return ctx.error(axes.error().message);
    const int64_t out_rank = static_cast<int64_t>(x->shape.size() + axes->size());
    std::vector<bool> ins(static_cast<size_t>(out_rank), false);
    for (int64_t a : *axes) {
        auto n = normalize_axis(a, out_rank);
        if (!n) return ctx.error(n.error().message);
        if (ins[static_cast<size_t>(*n)]) return ctx.error("repeated axis");
        ins[static_cast<size_t>(*n)] = true;
    }
    std::vector<int64_t> shape;
    size_t j = 0;
    for (int64_t i = 0; i < out_rank; ++i) shape.push_back(ins[static_cast<size_t>(i)] ? 1 : x->shape[j++]);
    ctx.out[0] = reshaped(*x, shape);
    return {};
}

// Copies x into y where y is x with permuted axes (y dim i = x dim perm[i]).
template <class T>
void transpose_copy(const T* x, T* y, const std::vector<int64_t>& xshape, const std::vector<int64_t>& perm) {
    const size_t rank = perm.size();
    const auto xs = strides_of(xshape);
    std::vector<int64_t> yshape(rank), src_stride(rank);
    for (size_t i = 0; i < rank; ++i) {
        yshape[i] = xshape[static_cast<size_t>(perm[i])];
        src_stride[i] = xs[static_cast<size_t>(perm[i])];
    }
    const int64_t n = shape_numel(yshape);
    if (n == 0) return;
    if (rank == 0) {
        y[0] = x[0];
        return;
    }
    const int64_t inner = yshape[rank - 1], inner_stride = src_stride[rank - 1];
    std::vector<int64_t> idx(rank, 0);
    int64_t src = 0;
    for (int64_t o = 0; o < n; o += inner) {
        for (int64_t i = 0; i < inner; ++i) y[o + i] = x[src + i * inner_stride];
        for (size_t d = rank - 1; d-- > 0;) {
            src += src_stride[d];
            if (++idx[d] < yshape[d]) break;
            src -= src_stride[d] * yshape[d];
            idx[d] = 0;
        }
    }
}

Result<void> op_transpose(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const size_t rank = x->shape.size();
    std::vector<int64_t> perm = ctx.attr_ints("perm");
    if (perm.empty())
        for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
    if (perm.size() != rank) return ctx.error("perm length differs from rank");
    std::vector<bool> seen(rank, false);
    for (int64_t& p : perm) {
        auto n = normalize_axis(p, static_cast<int64_t>(rank));
        if (!n || seen[static_cast<size_t>(*n)]) return ctx.error("perm is not a permutation");
        p = *n;
        seen[static_cast<size_t>(p)] = true;
    }
    std::vector<int64_t> shape(rank);
    for (size_t i = 0; i < rank; ++i) shape[i] = x->shape[static_cast<size_t>(perm[i])];
    Tensor y = make_tensor(x->dtype, shape);
    dispatch_bytes(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        transpose_copy(x->data<T>(), y.data<T>(), x->shape, perm);
    });
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_concat(OpContext& ctx) {
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < ctx.n_inputs(); ++i)
        if (ctx.input(i)) ins.push_back(ctx.input(i));
    if (ins.empty()) return ctx.error("needs at least one input");
    const int64_t rank = static_cast<int64_t>(ins[0]->shape.size());
    auto axis = normalize_axis(ctx.attr_int("axis", 0), rank);
    if (!axis) return ctx.error(axis.error().message);
    std::vector<int64_t> shape = ins[0]->shape;
    shape[static_cast<size_t>(*axis)] = 0;
    for (const Tensor* t : ins) {
        if (t->dtype != ins[0]->dtype) return ctx.error("input types differ");
        if (static_cast<int64_t>(t->shape.size()) != rank) return ctx.error("input ranks differ");
        for (int64_t d = 0; d < rank; ++d)
            if (d != *axis && t->shape[static_cast<size_t>(d)] != ins[0]->shape[static_cast<size_t>(d)])
                return ctx.error(fmt::format("shapes {} and {} differ off the concat axis", shape_string(ins[0]->shape),
                                             shape_string(t->shape)));
        // The same input may be listed many times: bound the sum as it grows.
        int64_t& d = shape[static_cast<size_t>(*axis)];
        if (t->shape[static_cast<size_t>(*axis)] > tensor_element_limit() - d)
            return ctx.error(fmt::format("output along axis {} is too large", *axis));
        d += t->shape[static_cast<size_t>(*axis)];
    }
    if (auto chk = check_shape_size(shape); !chk) return ctx.error(chk.error().message);
    Tensor y = make_tensor(ins[0]->dtype, shape);
    const size_t es = data_type_size(y.dtype);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < *axis; ++d) outer *= shape[static_cast<size_t>(d)];
    for (int64_t d = *axis + 1; d < rank; ++d) inner *= shape[static_cast<size_t>(d)];
    const size_t row = static_cast<size_t>(shape[static_cast<size_t>(*axis)] * inner) * es;
    size_t col = 0;
    for (const Tensor* t : ins) {
        const size_t chunk = static_cast<size_t>(t->shape[static_cast<size_t>(*axis)] * inner) * es;
        for (int64_t o = 0; o < outer; ++o)
            if (chunk) std::memcpy(y.bytes.data() + static_cast<size_t>(o) * row + col, t->bytes.data() + static_cast<size_t>(o) * chunk, chunk);
        col += chunk;
    }
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_split(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    auto axis = normalize_axis(ctx.attr_int("axis", 0), rank);
    if (!axis) return ctx.error(axis.error().message);
    const int64_t dim = x->shape[static_cast<size_t>(*axis)];
    const int64_t n_out = static_cast<int64_t>(ctx.out.size());
    std::vector<int64_t> sizes;
    if (const Tensor* s = ctx.input(1)) {
        auto v = read_ints(*s);
        if (!v) return ctx.error(v.error().message);
        sizes = *v;
    } else if (ctx.has_attr("split")) {
        sizes = ctx.attr_ints("split");
    } else {
        const int64_t n = ctx.attr_int("num_outputs", n_out);
        // Checked before the sizes are listed: the attribute is untrusted and may be huge.
        if (n != n_out) return ctx.error(fmt::format("num_outputs {} differs from the {} outputs", n, n_out));
        const int64_t each = (dim + n - 1) / std::max<int64_t>(n, 1);
        for (int64_t i = 0; i < n; ++i) sizes.push_back(std::min(each, std::max<int64_t>(0, dim - i * each)));
    }
    if (static_cast<int64_t>(sizes.size()) != n_out) return ctx.error("split sizes do not match the outputs");
    int64_t total = 0;
    for (int64_t s : sizes) {
        // Each size is at most dim, so the running total cannot overflow.
        if (s < 0 || s > dim) return ctx.error(fmt::format("split size {} out of range for an axis of {}", s, dim));
        total += s;
    }
    if (total != dim) return ctx.error(fmt::format("split sizes sum to {}, axis has {}", total, dim));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < *axis; ++d) outer *= x->shape[static_cast<size_t>(d)];
    for (int64_t d = *axis + 1; d < rank; ++d) inner *= x->shape[static_cast<size_t>(d)];
    const size_t es = data_type_size(x->dtype);
    int64_t start = 0;
    for (int64_t k = 0; k < n_out; ++k) {
        std::vector<int64_t> shape = x->shape;
        shape[static_cast<size_t>(*axis)] = sizes[static_cast<size_t>(k)];
        Tensor y = make_tensor(x->dtype, shape);
        const size_t chunk = static_cast<size_t>(sizes[static_cast<size_t>(k)] * inner) * es;
        for (int64_t o = 0; o < outer; ++o)
            if (chunk)
                std::memcpy(y.bytes.data() + static_cast<size_t>(o) * chunk,
                            x->bytes.data() + (static_cast<size_t>(o * dim + start) * static_cast<size_t>(inner)) * es, chunk);
        start += sizes[static_cast<size_t>(k)];
        ctx.out[static_cast<size_t>(k)] = std::move(y);
    }
    return {};
}

Result<void> op_slice(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    std::vector<int64_t> starts, ends, axes, steps;
    if (ctx.input(1)) {
        auto s = read_ints(*ctx.input(1));
        auto e = ctx.input(2) ? read_ints(*ctx.input(2)) : Result<std::vector<int64_t>>(make_error("missing ends"));
        if (!s) return ctx.error(s.error().message);
        if (!e) return ctx.error(e.error().message);
        starts = *s;
        ends = *e;
        if (ctx.input(3)) {
            auto a = read_ints(*ctx.input(3));
            if (!a) return ctx.error(a.error().message);
            axes = *a;
        }
        if (ctx.input(4)) {
            auto st = read_ints(*ctx.input(4));
            if (!st) return ctx.error(st.error().message);
            steps = *st;
        }
    } else {
        starts = ctx.attr_ints("starts");
        ends = ctx.attr_ints("ends");
        axes = ctx.attr_ints("axes");
    }
    if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
        return ctx.error("starts, ends, axes and steps differ in length");
    std::vector<int64_t> begin(static_cast<size_t>(rank), 0), step(static_cast<size_t>(rank), 1), shape = x->shape;
    for (size_t i = 0; i < starts.size(); ++i) {
        auto a = normalize_axis(axes[i], rank);
        if (!a) return ctx.error(a.error().message);
        const size_t ax = static_cast<size_t>(*a);
        const int64_t dim = x->shape[ax];
        int64_t st = steps[i];
        if (st == 0) return ctx.error("step 0");
        // A step longer than the axis takes one element either way; clamping keeps the count
        // arithmetic below from overflowing (and -st defined).
        st = std::clamp<int64_t>(st, -(dim + 1), dim + 1);
        int64_t s = starts[i], e = ends[i];
        // Starts and ends past either end clamp to it; bounding them first keeps s + dim defined.
        s = std::clamp<int64_t>(s, -dim - 1, dim + 1);
        e = std::clamp<int64_t>(e, -dim - 1, dim + 1);
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        int64_t count;
        if (dim == 0) {
            // Nothing to take (and the clamps below would have an empty range).
            s = 0;
            count = 0;
        } else if (st > 0) {
            s = std::clamp<int64_t>(s, 0, dim);
            e = std::clamp<int64_t>(e, 0, dim);
            count = e > s ? (e - s + st - 1) / st : 0;
        } else {
            s = std::clamp<int64_t>(s, 0, dim - 1);
            e = std::clamp<int64_t>(e, -1, dim - 1);
            count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
        }
        begin[ax] = s;
        step[ax] = st;
        shape[ax] = count;
    }
    Tensor y = make_tensor(x->dtype, shape);
    const auto xs = strides_of(x->shape);
    const int64_t n = y.numel();
    dispatch_bytes(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        const T* px = x->data<T>();
        T* py = y.data<T>();
        if (n == 0) return;
        if (rank == 0) {
            py[0] = px[0];
            return;
        }
        std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
        const size_t last = static_cast<size_t>(rank - 1);
        const int64_t inner = shape[last];
        for (int64_t o = 0; o < n; o += inner) {
            int64_t src = 0;
            for (size_t d = 0; d < last; ++d) src += (begin[d] + idx[d] * step[d]) * xs[d];
            src += begin[last];
            for (int64_t i = 0; i < inner; ++i) py[o + i] = px[src + i * step[last]];
            for (size_t d = last; d-- > 0;) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    });
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_gather(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* ind = ctx.input(1);
    if (!x || !ind) return ctx.error("needs data and indices");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    auto axis = normalize_axis(ctx.attr_int("axis", 0), rank);
    if (!axis) return ctx.error(axis.error().message);
    auto idx = read_ints(*ind);
    if (!idx) return ctx.error(idx.error().message);
    const int64_t dim = x->shape[static_cast<size_t>(*axis)];
    for (int64_t& i : *idx) {
        if (i < -dim || i >= dim) return ctx.error(fmt::format("index {} out of range for axis of size {}", i, dim));
        if (i < 0) i += dim;
    }
    std::vector<int64_t> shape(x->shape.begin(), x->shape.begin() + *axis);
    shape.insert(shape.end(), ind->shape.begin(), ind->shape.end());
    shape.insert(shape.end(), x->shape.begin() + *axis + 1, x->shape.end());
    if (auto chk = check_shape_size(shape); !chk) return ctx.error(chk.error().message);
    Tensor y = make_tensor(x->dtype, shape);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < *axis; ++d) outer *= x->shape[static_cast<size_t>(d)];
    for (int64_t d = *axis + 1; d < rank; ++d) inner *= x->shape[static_cast<size_t>(d)];
    const size_t es = data_type_size(x->dtype);
    const size_t chunk = static_cast<size_t>(inner) * es;
    const int64_t n_idx = static_cast<int64_t>(idx->size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < n_idx; ++k)
            if (chunk)
                std::memcpy(y.bytes.data() + static_cast<size_t>(o * n_idx + k) * chunk,
                            x->bytes.data() + static_cast<size_t>(o * dim + (*idx)[static_cast<size_t>(k)]) * chunk, chunk);
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_gather_elements(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* ind = ctx.input(1);
    if (!x || !ind) return ctx.error("needs data and indices");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    if (static_cast<int64_t>(ind->shape.size()) != rank) return ctx.error("indices rank differs from data rank");
    auto axis = normalize_axis(ctx.attr_int("axis", 0), rank);
    if (!axis) return ctx.error(axis.error().message);
    for (int64_t d = 0; d < rank; ++d)
        if (d != *axis && ind->shape[static_cast<size_t>(d)] > x->shape[static_cast<size_t>(d)])
            return ctx.error("indices are larger than data off the gather axis");
    auto idx = read_ints(*ind);
    if (!idx) return ctx.error(idx.error().message);
    Tensor y = make_tensor(x->dtype, ind->shape);
    const auto xs = strides_of(x->shape);
    const size_t ax = static_cast<size_t>(*axis);
    const int64_t dim = x->shape[ax];
    Result<void> r;
    dispatch_bytes(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        std::vector<int64_t> pos(static_cast<size_t>(rank), 0);
        for (int64_t o = 0; o < y.numel(); ++o) {
            int64_t i = (*idx)[static_cast<size_t>(o)];
            if (i < -dim || i >= dim) {
                r = ctx.error(fmt::format("index {} out of range", i));
                return;
            }
            if (i < 0) i += dim;
            int64_t src = 0;
            for (size_t d = 0; d < static_cast<size_t>(rank); ++d) src += (d == ax ? i : pos[d]) * xs[d];
            y.data<T>()[o] = x->data<T>()[src];
            for (size_t d = static_cast<size_t>(rank); d-- > 0;) {
                if (++pos[d] < ind->shape[d]) break;
                pos[d] = 0;
            }
        }
    });
    if (!r) return r;
    ctx.out[0] = std::move(y);
    return {};
}

// Broadcast-copies x into a tensor of shape `shape` (which x broadcasts to).
Tensor broadcast_to(const Tensor& x, const std::vector<int64_t>& shape) {
    Tensor y = make_tensor(x.dtype, shape);
    const BroadcastPlan plan = plan_broadcast(shape, {x.shape});
    dispatch_bytes(x.dtype, [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* py = y.data<T>();
        std::vector<int64_t> off;
        for (int64_t r = 0; r < plan.outer; ++r) {
            broadcast_offsets(plan, r, off);
            if (plan.inner_step[0]) std::memcpy(py + r * plan.inner, px + off[0], static_cast<size_t>(plan.inner) * sizeof(T));
            else std::fill(py + r * plan.inner, py + (r + 1) * plan.inner, px[off[0]]);
        }
    });
    return y;
}

Result<void> op_expand(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* s = ctx.input(1);
    if (!x || !s) return ctx.error("needs input and shape");
    auto want = read_ints(*s);
    if (!want) return ctx.error(want.error().message);
    auto shape = broadcast_shapes(x->shape, *want);
    if (!shape) return ctx.error(shape.error().message);
    ctx.out[0] = broadcast_to(*x, *shape);
    return {};
}

Result<void> op_tile(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* r = ctx.input(1);
    if (!x || !r) return ctx.error("needs input and repeats");
    auto reps = read_ints(*r);
    if (!reps) return ctx.error(reps.error().message);
    const size_t rank = x->shape.size();
    if (reps->size() != rank) return ctx.error("repeats length differs from rank");
    std::vector<int64_t> shape(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t rep = (*reps)[i];
        if (rep < 0) return ctx.error("negative repeat");
        // Tested before multiplying: the product may overflow.
        if (rep > 1 && x->shape[i] > tensor_element_limit() / rep)
            return ctx.error(fmt::format("repeats {} of shape {} are too large", shape_string(*reps), shape_string(x->shape)));
        shape[i] = x->shape[i] * rep;
    }
    if (auto chk = check_shape_size(shape); !chk) return ctx.error(chk.error().message);
    Tensor y = make_tensor(x->dtype, shape);
    const auto xs = strides_of(x->shape);
    dispatch_bytes(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        std::vector<int64_t> pos(rank, 0);
        for (int64_t o = 0; o < y.numel(); ++o) {
            int64_t src = 0;
            for (size_t d = 0; d < rank; ++d) src += (pos[d] % x->shape[d]) * xs[d];
            y.data<T>()[o] = x->data<T>()[src];
            for (size_t d = rank; d-- > 0;) {
                if (++pos[d] < shape[d]) break;
                pos[d] = 0;
            }
        }
    });
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_range(OpContext& ctx) {
    const Tensor* s = ctx.input(0);
    const Tensor* l = ctx.input(1);
    const Tensor* d = ctx.input(2);
    if (!s || !l || !d) return ctx.error("needs start, limit and delta");
    // The three are read as scalars of start's type.
    if (l->dtype != s->dtype || d->dtype != s->dtype) return ctx.error("start, limit and delta types differ");
    if (s->numel() != 1 || l->numel() != 1 || d->numel() != 1) return ctx.error("start, limit and delta must be scalars");
    Result<void> r = ctx.error(fmt::format("unsupported type {}", data_type_name(s->dtype)));
    dispatch_numeric(s->dtype, [&](auto tag) {
        using T = decltype(tag);
        const T start = s->data<T>()[0], limit = l->data<T>()[0], delta = d->data<T>()[0];
        if (delta == T{0}) {
            r = ctx.error("delta is 0");
            return;
        }
        const double count_d = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
        const double max_count = static_cast<double>(tensor_element_limit());
        if (count_d > max_count) {
            r = ctx.error(fmt::format("range too long (limit {} elements)", tensor_element_limit()));
            return;
        }
        const int64_t count = count_d > 0 ? static_cast<int64_t>(count_d) : 0;  // NaN gives 0
        Tensor y = make_tensor(s->dtype, {count});
        if constexpr (std::is_integral_v<T>) {
            // Stepped in unsigned arithmetic: the double count may overshoot by one near the
            // ends of T, and a wrapped value beats signed overflow.
            using U = std::make_unsigned_t<T>;
            T v = start;
            for (int64_t i = 0; i < count; ++i) {
                y.data<T>()[i] = v;
                v = static_cast<T>(static_cast<U>(v) + static_cast<U>(delta));
            }
        } else {
            for (int64_t i = 0; i < count; ++i) y.data<T>()[i] = static_cast<T>(start + static_cast<T>(i) * delta);
        }
        ctx.out[0] = std::move(y);
        r = {};
    });
    return r;
}

Result<void> op_constant_of_shape(OpContext& ctx) {
    const Tensor* s = ctx.input(0);
    if (!s) return ctx.error("missing shape");
    auto shape = read_ints(*s);
    if (!shape) return ctx.error(shape.error().message);
    if (auto chk = check_shape_size(*shape); !chk) return ctx.error(chk.error().message);
    const Attribute* v = ctx.node.attribute("value");
    DataType dt = v && v->kind == Attribute::Kind::Tensor ? v->t.dtype : DataType::Float;
    Tensor y = make_tensor(dt, *shape);
    if (v && v->kind == Attribute::Kind::Tensor && v->t.numel() >= 1) {
        const size_t es = data_type_size(dt);
        for (int64_t i = 0; i < y.numel(); ++i) std::memcpy(y.bytes.data() + static_cast<size_t>(i) * es, v->t.bytes.data(), es);
    }
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_constant(OpContext& ctx) {
    if (const Attribute* v = ctx.node.attribute("value"); v && v->kind == Attribute::Kind::Tensor) {
        ctx.out[0] = v->t;
        return {};
    }
    if (const Attribute* v = ctx.node.attribute("value_float")) {
        ctx.out[0] = Tensor::from_floats({}, std::span<const float>(&v->f, 1));
        return {};
    }
    if (const Attribute* v = ctx.node.attribute("value_floats")) {
        ctx.out[0] = Tensor::from_floats({static_cast<int64_t>(v->floats.size())}, v->floats);
        return {};
    }
    if (const Attribute* v = ctx.node.attribute("value_int")) {
        ctx.out[0] = Tensor::from_int64s({}, std::span<const int64_t>(&v->i, 1));
        return {};
    }
    if (const Attribute* v = ctx.node.attribute("value_ints")) {
        ctx.out[0] = Tensor::from_int64s({static_cast<int64_t>(v->ints.size())}, v->ints);
        return {};
    }
    return ctx.error("no supported value attribute");
}

Result<void> op_nonzero(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const size_t rank = x->shape.size();
    std::vector<int64_t> hits;
    Result<void> r = ctx.error("unsupported type");
    dispatch_numeric(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        for (int64_t i = 0; i < x->numel(); ++i)
            if (x->data<T>()[i] != T{0}) hits.push_back(i);
        r = {};
    });
    if (!r) return r;
    const int64_t n = static_cast<int64_t>(hits.size());
    const std::vector<int64_t> out_shape{static_cast<int64_t>(std::max<size_t>(rank, 1)), n};
    if (auto chk = check_shape_size(out_shape); !chk) return ctx.error(chk.error().message);
    Tensor y = make_tensor(DataType::Int64, out_shape);
    const auto xs = strides_of(x->shape);
    for (int64_t k = 0; k < n; ++k) {
        int64_t flat = hits[static_cast<size_t>(k)];
        for (size_t d = 0; d < rank; ++d) {
            y.data<int64_t>()[static_cast<int64_t>(d) * n + k] = flat / xs[d];
            flat %= xs[d];
        }
        if (rank == 0) y.data<int64_t>()[k] = 0;
    }
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_scatter_nd(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* ind = ctx.input(1);
    const Tensor* upd = ctx.input(2);
    if (!x || !ind || !upd) return ctx.error("needs data, indices and updates");
    if (ind->shape.empty()) return ctx.error("indices must have rank >= 1");
    auto idx = read_ints(*ind);
    if (!idx) return ctx.error(idx.error().message);
    const int64_t k = ind->shape.back();
    if (k > static_cast<int64_t>(x->shape.size())) return ctx.error("index depth exceeds data rank");
    const std::string reduction = ctx.attr_string("reduction", "none");
    const int64_t n_upd = ind->numel() / std::max<int64_t>(k, 1);
    int64_t slice = 1;
    for (size_t d = static_cast<size_t>(k); d < x->shape.size(); ++d) slice *= x->shape[d];
    if (upd->numel() != n_upd * slice || upd->dtype != x->dtype) return ctx.error("updates have the wrong shape or type");
    Tensor y = *x;
    const auto xs = strides_of(x->shape);
    Result<void> r;
    dispatch_numeric(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        for (int64_t u = 0; u < n_upd; ++u) {
            int64_t off = 0;
            for (int64_t j = 0; j < k; ++j) {
                int64_t i = (*idx)[static_cast<size_t>(u * k + j)];
                const int64_t dim = x->shape[static_cast<size_t>(j)];
                if (i < -dim || i >= dim) {
                    r = ctx.error(fmt::format("index {} out of range", i));
                    return;
                }
                if (i < 0) i += dim;
                off += i * xs[static_cast<size_t>(j)];
            }
            T* dst = y.data<T>() + off;
            const T* src = upd->data<T>() + u * slice;
            for (int64_t e = 0; e < slice; ++e) {
                if (reduction == "add") dst[e] = static_cast<T>(dst[e] + src[e]);
                else if (reduction == "mul") dst[e] = static_cast<T>(dst[e] * src[e]);
                else if (reduction == "max") dst[e] = std::max(dst[e], src[e]);
                else if (reduction == "min") dst[e] = std::min(dst[e], src[e]);
                else dst[e] = src[e];
            }
        }
    });
    if (!r) return r;
    ctx.out[0] = std::move(y);
    return {};
}

}  // namespace

void register_shape_ops(OpTable& t) {
    add(t, "Identity", op_identity);
    add(t, "Dropout", op_identity);
    add(t, "Shape", op_shape);
    add(t, "Size", op_size);
    add(t, "Reshape", op_reshape);
    add(t, "Flatten", op_flatten);
    add(t, "Squeeze", op_squeeze);
    add(t, "Unsqueeze", op_unsqueeze);
    add(t, "Transpose", op_transpose);
    add(t, "Concat", op_concat);
    add(t, "Split", op_split);
    add(t, "Slice", op_slice);
    add(t, "Gather", op_gather);
    add(t, "GatherElements", op_gather_elements);
    add(t, "Expand", op_expand);
    add(t, "Tile", op_tile);
    add(t, "Range", op_range);
    add(t, "ConstantOfShape", op_constant_of_shape);
    add(t, "Constant", op_constant);
    add(t, "NonZero", op_nonzero);
    add(t, "ScatterND", op_scatter_nd);
}

}  // namespace hearth::onnx
