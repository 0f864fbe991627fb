#pragma once

// Scalar dequantization of whole blocks, shared by the reference code in tensor/
// and by the per-ISA kernels, which compile it again with their own flags. The
// functions are `static inline` on purpose: each translation unit keeps its own
// copy, so an AVX-512 build of them can never be chosen by the linker for the
// generic kernels.

#include <cstdint>

#include "base/half.h"
#include "tensor/quant_blocks.h"

namespace hearth::tensor {

static inline void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < kQK; ++j) *y++ = d * static_cast<float>(x[b].qs[j]);
    }
}

static inline void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b, y += kQK) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < kQK / 2; ++j) {
            y[j] = d * static_cast<float>((x[b].qs[j] & 0xF) - 8);
            y[j + kQK / 2] = d * static_cast<float>((x[b].qs[j] >> 4) - 8);
        }
    }
}

static inline void dequantize_q4_k(const BlockQ4_K* x, float* y, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b) {
        const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
        const uint8_t* q = x[b].qs;
        for (int c = 0; c < 4; ++c, q += 32) {
            uint8_t sc, m;
            k_scale_min(2 * c, x[b].scales, sc, m);
            const float d1 = d * sc, m1 = dmin * m;
            k_scale_min(2 * c + 1, x[b].scales, sc, m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

static inline void dequantize_q5_k(const BlockQ5_K* x, float* y, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b) {
        const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
        const uint8_t* ql = x[b].qs;
        const uint8_t* qh = x[b].qh;
        for (int c = 0; c < 4; ++c, ql += 32) {
            uint8_t sc, m;
            k_scale_min(2 * c, x[b].scales, sc, m);
            const float d1 = d * sc, m1 = dmin * m;
            k_scale_min(2 * c + 1, x[b].scales, sc, m);
            const float d2 = d * sc, m2 = dmin * m;
            const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c)), u2 = static_cast<uint8_t>(2u << (2 * c));
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

static inline void dequantize_q6_k(const BlockQ6_K* x, float* y, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int n = 0; n < 2; ++n, y += 128) {
            const uint8_t* ql = x[b].ql + 64 * n;
            const uint8_t* qh = x[b].qh + 32 * n;
            const int8_t* sc = x[b].scales + 8 * n;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * static_cast<float>(sc[is + 0] * q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2] * q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4] * q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6] * q4);
            }
        }
    }
}

}  // namespace hearth::tensor
