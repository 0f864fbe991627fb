// Activation formats of the quantized matrix multiplication: weights stay in their
// GGUF block layout, activations are quantized once per call to the integer partner
// of the weight format (Q8_0-style blocks of 32 for Q8_0/Q4_0, Q8_K for the
// k-quants) so the inner loops are integer dot products. The per-ISA files
// (isa_quant_dot.cpp) include this header, so it must only define static functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/quant_blocks.h"

namespace hearth::kernels {

// 256 int8 activations with one float scale, plus the sum of each group of 16
// quants: the k-quant kernels use them for the min/offset terms.
struct BlockQ8_K {
    float d;
    int8_t qs[tensor::kQK_K];
    int16_t bsums[tensor::kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

// The activation partner of Q8_0/Q4_0 weights: a row of n = 32·nb values quantized
// in blocks of 32 (scale d = amax/127, quants q in ±127), laid out for the kernels:
//   offset 0:                 n bytes q + 128 (unsigned, so VNNI's u8×s8 dot can take
//                             them against signed weights)
//   q8a_scales_offset(nb):    nb × 8 floats, each block's d repeated 8 times (one per
//                             int32 lane of the block's dot product)
// Rows are a multiple of 64 bytes. The AVX-512 table interleaves each full group of
// eight blocks inside the same space (see kQ8aGroup in isa_quant_dot.cpp); the
// quants and scales are the same, and only that table's kernels read its rows.
static inline size_t q8a_scales_offset(int64_t nb) {
    return (static_cast<size_t>(nb) * 32 + 63) & ~static_cast<size_t>(63);
}
static inline size_t q8_0_act_row_bytes(int64_t nb) {
    return (q8a_scales_offset(nb) + static_cast<size_t>(nb) * 32 + 63) & ~static_cast<size_t>(63);
}
static inline float* q8a_scales(uint8_t* row, int64_t nb) {
    return reinterpret_cast<float*>(row + q8a_scales_offset(nb));
}
static inline const float* q8a_scales(const uint8_t* row, int64_t nb) {
    return reinterpret_cast<const float*>(row + q8a_scales_offset(nb));
}

// Largest group of tokens one weight row is decoded for at a time inside a kernel
// (each ISA picks a divisor of it); callers hand kernels multiples of it.
inline constexpr int kGemmTokenTile = 8;

// matmul() splits rows between threads in multiples of this, so that kernels which
// group rows (register tiles, repacked panels) group the same rows whatever the
// thread count, and results do not depend on it.
inline constexpr int64_t kGemmRowAlign = 16;

}  // namespace hearth::kernels
