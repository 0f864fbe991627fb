// hearth/tensor — numeric formats of weights: the block structs of the quantized
// GGUF types, scalar reference quantizers and dequantizers, and a non-owning
// tensor view. Kernels are tested against these references; nothing here is tuned
// for speed.
#pragma once

#include <cstdint>

namespace hearth::tensor {

inline constexpr int kQK = 32;    // elements per block of the 32-wide formats
inline constexpr int kQK_K = 256;  // elements per super-block of the k-quants
inline constexpr int kKScaleBytes = 12;

// Halves are stored as raw binary16 bits (uint16_t); see base/half.h.

struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK];
};

struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK / 2];  // element j in the low nibble of qs[j], element j+16 in the high nibble
};

struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[kKScaleBytes];  // 8 pairs of 6-bit (scale, min)
    uint8_t qs[kQK_K / 2];
};

struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[kKScaleBytes];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};

struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    uint16_t d;
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block.
static inline void k_scale_min(int j, const uint8_t* q, uint8_t& scale, uint8_t& min) {
    if (j < 4) {
        scale = q[j] & 63;
        min = q[j + 4] & 63;
    } else {
        scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

}  // namespace hearth::tensor
