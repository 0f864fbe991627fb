// Small helpers the kernels share: dtype dispatch, broadcasting, axis normalization and
// reading int64 shape/axes tensors.
#pragma once

#include <cstdint>
#include <span>
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
// to make a kernel allocate without bound.
constexpr int64_t kMaxTensorElements = int64_t{1} << 30;
// Error unless every dim is >= 0 and the element count is <= kMaxTensorElements.
Result<void> check_shape_size(std::span<const int64_t> shape);

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
