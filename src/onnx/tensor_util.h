// Small helpers the kernels share: dtype dispatch, broadcasting, axis normalization and
// reading int64 shape/axes tensors.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "base/result.h"
#include "onnx/onnx_session.h"

namespace hearth::onnx {

// A zero-filled tensor; large buffers come from recently released tensors when possible.
Tensor make_tensor(DataType dtype, std::vector<int64_t> shape);
// Hands a dead tensor's buffer back for reuse by make_tensor on this thread.
void recycle_tensor(Tensor&& t);
int64_t shape_numel(std::span<const int64_t> shape);

// Calls f(T{}) with the C++ type of a numeric dtype (bool as uint8_t, float16 unsupported).
template <class F>
bool dispatch_numeric(DataType t, F&& f) {
    switch (t) {
        case DataType::Float: f(float{}); return true;
        case DataType::Double: f(double{}); return true;
        case DataType::Int64: f(int64_t{}); return true;
        case DataType::Int32: f(int32_t{}); return true;
        case DataType::Int8: f(int8_t{}); return true;
        case DataType::Uint8: f(uint8_t{}); return true;
        case DataType::Bool: f(uint8_t{}); return true;
        default: return false;
    }
}

// Dispatch on element size only, for ops that just move elements.
template <class F>
bool dispatch_bytes(DataType t, F&& f) {
    switch (data_type_size(t)) {
        case 1: f(uint8_t{}); return true;
        case 2: f(uint16_t{}); return true;
        case 4: f(uint32_t{}); return true;
        case 8: f(uint64_t{}); return true;
        default: return false;
    }
}

// Outputs above this many elements are errors: a corrupt or hostile model must not be able
// to make a kernel allocate without bound. SessionOptions::max_tensor_elements lowers it.
constexpr int64_t kMaxTensorElements = int64_t{1} << 30;
// The element limit in force on this thread: kMaxTensorElements unless a LimitScope is active.
int64_t tensor_element_limit();
// While it lives, sets this thread's element limit and work budget (SessionOptions'
// max_tensor_elements and max_work; 0 for the defaults: 2^30 elements, unlimited work). The
// session holds one over a load and over a run, which is where every kernel is called from.
class LimitScope {
public:
    LimitScope(int64_t max_elements, int64_t max_work);
    ~LimitScope();
    LimitScope(const LimitScope&) = delete;
    LimitScope& operator=(const LimitScope&) = delete;

private:
    int64_t saved_elements_, saved_work_left_, saved_work_budget_;
};
// Spends `units` of the work budget (multiply-adds, element writes); an error once it is
// exhausted. Free when no budget is set. Heavy kernels charge before they start; the executor
// charges every node's output elements after it ran.
Result<void> charge_work(int64_t units);
// Error unless every dim is >= 0 and the product of the nonzero dims is <= the element limit.
// Zero dims do not exempt the others: an empty [0, 2^40] tensor is refused too, so that every
// tensor's dims (and any subset a kernel keeps, as reductions do) multiply without overflow.
Result<void> check_shape_size(std::span<const int64_t> shape);
// check_shape_size for a tensor that exists: also checks that its bytes fit its shape.
Result<void> check_tensor(const Tensor& t);

// Numpy-style broadcast of two shapes, or an error naming both.
Result<std::vector<int64_t>> broadcast_shapes(std::span<const int64_t> a, std::span<const int64_t> b);

// Walks an output of shape `out` with several broadcast inputs, in contiguous inner runs:
// for each run, offsets[k] is where input k starts and steps[k] (0 or 1) how it advances.
struct BroadcastPlan {
    std::vector<int64_t> dims;                  // merged output dims, innermost last
    std::vector<std::vector<int64_t>> strides;  // per input, per merged dim
    int64_t inner = 1;                          // length of the innermost run
    std::vector<int64_t> inner_step;            // per input: 0 or 1
    int64_t outer = 1;                          // number of runs
};
BroadcastPlan plan_broadcast(std::span<const int64_t> out, const std::vector<std::span<const int64_t>>& inputs);
// Fills offsets with the start of run `run` for every input.
void broadcast_offsets(const BroadcastPlan& plan, int64_t run, std::vector<int64_t>& offsets);

// Normalizes a possibly negative axis against rank; error when out of range.
Result<int64_t> normalize_axis(int64_t axis, int64_t rank);
// Reads an int64 or int32 tensor as int64 values.
Result<std::vector<int64_t>> read_ints(const Tensor& t);
// double to T, saturating at T's range and NaN to 0 for integers (a plain cast of an
// out-of-range value is undefined).
template <class T>
T saturate_cast(double v) {
    if constexpr (std::is_integral_v<T>) {
        if (std::isnan(v)) return T{0};
        if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
        if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    }
    return static_cast<T>(v);
}
// Reads one scalar of any numeric dtype as double.
double read_scalar(const Tensor& t, int64_t index = 0);
// Row-major strides of a shape.
std::vector<int64_t> strides_of(std::span<const int64_t> shape);
std::string shape_string(std::span<const int64_t> shape);

}  // namespace hearth::onnx

namespace hearth::onnx {
// Converts between element types with ONNX Cast semantics (float to int truncates).
Result<Tensor> cast_tensor(const Tensor& x, DataType to);
}  // namespace hearth::onnx
