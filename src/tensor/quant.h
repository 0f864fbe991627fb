#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "gguf/ggml_type.h"

namespace hearth::tensor {

using gguf::GgmlType;

// The weight types hearth computes with (others can be read and listed, not run).
bool is_compute_type(GgmlType type);
const std::vector<GgmlType>& compute_types();

// Scalar reference conversions of one row of n elements (n a multiple of the
// type's block size). Return an error for types hearth does not compute with.
Result<void> dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);
Result<void> quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// Quantizes rows of `row_len` floats into a freshly allocated buffer.
Result<std::vector<uint8_t>> quantize(GgmlType type, std::span<const float> values, int64_t row_len);
Result<std::vector<float>> dequantize(GgmlType type, std::span<const uint8_t> bytes, int64_t n);

}  // namespace hearth::tensor
