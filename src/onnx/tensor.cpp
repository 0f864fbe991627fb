// Tensor basics and the shared kernel helpers declared in tensor_util.h.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "onnx/tensor_util.h"

namespace hearth::onnx {

const char* data_type_name(DataType t) {
    switch (t) {
        case DataType::Float: return "float";
        case DataType::Uint8: return "uint8";
        case DataType::Int8: return "int8";
        case DataType::Int32: return "int32";
        case DataType::Int64: return "int64";
        case DataType::Bool: return "bool";
        case DataType::Float16: return "float16";
        case DataType::Double: return "double";
    }
    return "unknown";
}

size_t data_type_size(DataType t) {
    switch (t) {
        case DataType::Float: case DataType::Int32: return 4;
        case DataType::Uint8: case DataType::Int8: case DataType::Bool: return 1;
        case DataType::Int64: case DataType::Double: return 8;
        case DataType::Float16: return 2;
    }
    return 0;
}

int64_t shape_numel(std::span<const int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

int64_t Tensor::numel() const { return shape_numel(shape); }

namespace {

// Released buffers of at least kMinRecycle bytes, reused best-fit so big activations
// (a vocoder's [channels, samples] tensors) do not go back to the OS between ops.
constexpr size_t kMinRecycle = size_t{1} << 16;
constexpr size_t kMaxRecycled = 8;
thread_local std::vector<std::vector<uint8_t>> recycled;

}  // namespace

void recycle_tensor(Tensor&& t) {
    if (t.bytes.capacity() < kMinRecycle) return;
    if (recycled.size() >= kMaxRecycled) {
        // Keep the larger buffers.
        auto smallest = std::min_element(recycled.begin(), recycled.end(),
                                         [](const auto& a, const auto& b) { return a.capacity() < b.capacity(); });
        if (smallest->capacity() >= t.bytes.capacity()) return;
        recycled.erase(smallest);
    }
    recycled.push_back(std::move(t.bytes));
}

Tensor make_tensor(DataType dtype, std::vector<int64_t> shape) {
    Tensor t;
    t.dtype = dtype;
    t.shape = std::move(shape);
    const size_t bytes = static_cast<size_t>(t.numel()) * data_type_size(dtype);
    if (bytes >= kMinRecycle) {
        size_t best = recycled.size();
        for (size_t i = 0; i < recycled.size(); ++i)
            if (recycled[i].capacity() >= bytes && recycled[i].capacity() <= 2 * bytes &&
                (best == recycled.size() || recycled[i].capacity() < recycled[best].capacity()))
                best = i;
        if (best < recycled.size()) {
            t.bytes = std::move(recycled[best]);
            recycled.erase(recycled.begin() + static_cast<ptrdiff_t>(best));
            t.bytes.clear();
        }
    }
    t.bytes.resize(bytes);
    return t;
}

Tensor Tensor::from_floats(std::vector<int64_t> shape, std::span<const float> values) {
    Tensor t = make_tensor(DataType::Float, std::move(shape));
    if (const size_t n = std::min(t.bytes.size(), values.size_bytes())) std::memcpy(t.bytes.data(), values.data(), n);
    return t;
}

Tensor Tensor::from_int64s(std::vector<int64_t> shape, std::span<const int64_t> values) {
    Tensor t = make_tensor(DataType::Int64, std::move(shape));
    if (const size_t n = std::min(t.bytes.size(), values.size_bytes())) std::memcpy(t.bytes.data(), values.data(), n);
    return t;
}

Tensor Tensor::zeros(DataType dtype, std::vector<int64_t> shape) { return make_tensor(dtype, std::move(shape)); }

std::string shape_string(std::span<const int64_t> shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

namespace {
thread_local int64_t element_limit = kMaxTensorElements;
thread_local int64_t work_left = -1;  // -1: unlimited
thread_local int64_t work_budget = 0;
}  // namespace

int64_t tensor_element_limit() { return element_limit; }

LimitScope::LimitScope(int64_t max_elements, int64_t max_work)
    : saved_elements_(element_limit), saved_work_left_(work_left), saved_work_budget_(work_budget) {
    element_limit = max_elements > 0 ? std::min(max_elements, kMaxTensorElements) : kMaxTensorElements;
    work_left = max_work > 0 ? max_work : -1;
    work_budget = max_work;
}

LimitScope::~LimitScope() {
    element_limit = saved_elements_;
    work_left = saved_work_left_;
    work_budget = saved_work_budget_;
}

Result<void> charge_work(int64_t units) {
    if (work_left < 0) return {};
    if (units > work_left) {
        work_left = 0;
        return make_error(fmt::format("the model needs more work than the budget of {} operations", work_budget));
    }
    work_left -= units;
    return {};
}

Result<void> check_shape_size(std::span<const int64_t> shape) {
    const int64_t limit = element_limit;
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) return make_error(fmt::format("negative dimension in shape {}", shape_string(shape)));
        if (d > 1 && n > limit / d)
            return make_error(fmt::format("shape {} is too large (limit {} elements)", shape_string(shape), limit));
        if (d > 1) n *= d;
    }
    return {};
}

Result<void> check_tensor(const Tensor& t) {
    if (auto r = check_shape_size(t.shape); !r) return r;
    if (t.bytes.size() != static_cast<size_t>(t.numel()) * data_type_size(t.dtype))
        return make_error(fmt::format("{} bytes for a {} tensor of shape {}", t.bytes.size(), data_type_name(t.dtype),
                                      shape_string(t.shape)));
    return {};
}

Result<std::vector<int64_t>> broadcast_shapes(std::span<const int64_t> a, std::span<const int64_t> b) {
    const size_t rank = std::max(a.size(), b.size());
    std::vector<int64_t> out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da == db || db == 1) out[i] = da;
        else if (da == 1) out[i] = db;
        else return make_error(fmt::format("shapes {} and {} do not broadcast", shape_string(a), shape_string(b)));
    }
    if (auto r = check_shape_size(out); !r) return r.error();
    return out;
}

std::vector<int64_t> strides_of(std::span<const int64_t> shape) {
    std::vector<int64_t> s(shape.size());
    int64_t acc = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        s[i] = acc;
        acc *= shape[i];
    }
    return s;
}

BroadcastPlan plan_broadcast(std::span<const int64_t> out, const std::vector<std::span<const int64_t>>& inputs) {
    const size_t rank = out.size();
    const size_t n_in = inputs.size();
    // Per input, per output dim: the stride, 0 where the input is broadcast.
    std::vector<std::vector<int64_t>> full(n_in, std::vector<int64_t>(rank, 0));
    for (size_t k = 0; k < n_in; ++k) {
        const auto& s = inputs[k];
        int64_t acc = 1;
        for (size_t i = rank; i-- > 0;) {
            const size_t off = rank - s.size();
            if (i < off) continue;
            const int64_t d = s[i - off];
            full[k][i] = d == 1 ? 0 : acc;
            acc *= d;
        }
    }
    // Merge adjacent dims when every input is contiguous across them (or broadcast in both).
    BroadcastPlan p;
    p.strides.assign(n_in, {});
    for (size_t i = 0; i < rank; ++i) {
        if (out[i] == 1) continue;
        bool merge = !p.dims.empty();
        if (merge) {
            for (size_t k = 0; k < n_in; ++k) {
                const int64_t prev = p.strides[k].back();
                const int64_t cur = full[k][i];
                if (!((prev == 0 && cur == 0) || (cur != 0 && prev == cur * out[i]))) merge = false;
            }
        }
        if (merge) {
            p.dims.back() *= out[i];
            for (size_t k = 0; k < n_in; ++k) p.strides[k].back() = full[k][i];
        } else {
            p.dims.push_back(out[i]);
            for (size_t k = 0; k < n_in; ++k) p.strides[k].push_back(full[k][i]);
        }
    }
    if (p.dims.empty()) {
        p.dims.push_back(1);
        for (size_t k = 0; k < n_in; ++k) p.strides[k].push_back(0);
    }
    p.inner = p.dims.back();
    p.inner_step.resize(n_in);
    for (size_t k = 0; k < n_in; ++k) p.inner_step[k] = p.strides[k].back();
    p.outer = shape_numel(out) / std::max<int64_t>(p.inner, 1);
    if (shape_numel(out) == 0) p.outer = 0;
    return p;
}

void broadcast_offsets(const BroadcastPlan& plan, int64_t run, std::vector<int64_t>& offsets) {
    const size_t n_in = plan.strides.size();
    offsets.assign(n_in, 0);
    for (size_t i = plan.dims.size() - 1; i-- > 0;) {
        const int64_t idx = run % plan.dims[i];
        run /= plan.dims[i];
        for (size_t k = 0; k < n_in; ++k) offsets[k] += idx * plan.strides[k][i];
    }
}

Result<int64_t> normalize_axis(int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
        return make_error(fmt::format("axis {} out of range for rank {}", axis, rank));
    return axis < 0 ? axis + rank : axis;
}

Result<std::vector<int64_t>> read_ints(const Tensor& t) {
    std::vector<int64_t> v(static_cast<size_t>(t.numel()));
    if (t.dtype == DataType::Int64) {
        if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), v.size() * 8);
    } else if (t.dtype == DataType::Int32) {
        for (size_t i = 0; i < v.size(); ++i) v[i] = t.data<int32_t>()[i];
    } else {
        return make_error(fmt::format("expected an int64 tensor, got {}", data_type_name(t.dtype)));
    }
    return v;
}

double read_scalar(const Tensor& t, int64_t index) {
    double v = 0;
    dispatch_numeric(t.dtype, [&](auto tag) { v = static_cast<double>(t.data<decltype(tag)>()[index]); });
    return v;
}

}  // namespace hearth::onnx
