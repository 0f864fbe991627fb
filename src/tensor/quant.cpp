#include "tensor/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "base/half.h"
#include "tensor/dequant_blocks.h"
#include "tensor/quant_blocks.h"

namespace hearth::tensor {
namespace {

int nearest_int(float x) { return static_cast<int>(std::lround(x)); }

// ---- Q8_0: one scale per 32 values, q = round(x / d) in [-127, 127].
void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b, x += kQK) {
        float amax = 0;
        for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK; ++j) y[b].qs[j] = static_cast<int8_t>(nearest_int(x[j] * id));
    }
}

// ---- Q4_0: the largest-magnitude value maps to -8, q = x / d + 8 in [0, 15].
void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b, x += kQK) {
        float amax = 0, max = 0;
        for (int j = 0; j < kQK; ++j) {
            if (std::fabs(x[j]) > amax) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = std::clamp(static_cast<int>(x[j] * id + 8.5f), 0, 15);
            const int hi = std::clamp(static_cast<int>(x[j + kQK / 2] * id + 8.5f), 0, 15);
            y[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
        }
    }
}

// ---- Q4_K / Q5_K: 8 sub-blocks of 32 with a 6-bit scale and min each, y = d*sc*q - dmin*m.

void pack_k_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t* scales) {
    std::memset(scales, 0, kKScaleBytes);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
}

// Chooses per-sub-block scales and mins for `levels` quantization levels (15 or 31)
// and returns the quantized values q[256] in [0, levels].
void quantize_k_super_block(const float* x, int levels, uint16_t& d_out, uint16_t& dmin_out, uint8_t* scales,
                            uint8_t* q) {
    float scale[8], min[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        const float* s = x + 32 * j;
        float lo = 0, hi = s[0];
        lo = std::min(0.0f, *std::min_element(s, s + 32));
        hi = *std::max_element(s, s + 32);
        scale[j] = (hi - lo) / static_cast<float>(levels);
        min[j] = -lo;
        max_scale = std::max(max_scale, scale[j]);
        max_min = std::max(max_min, min[j]);
    }
    d_out = fp32_to_fp16(max_scale / 63.0f);
    dmin_out = fp32_to_fp16(max_min / 63.0f);
    const float d = fp16_to_fp32(d_out), dmin = fp16_to_fp32(dmin_out);
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = static_cast<uint8_t>(d > 0 ? std::clamp(nearest_int(scale[j] / d), 0, 63) : 0);
        lm[j] = static_cast<uint8_t>(dmin > 0 ? std::clamp(nearest_int(min[j] / dmin), 0, 63) : 0);
    }
    pack_k_scales(ls, lm, scales);
    for (int j = 0; j < 8; ++j) {
        const float eff_d = d * ls[j], eff_m = dmin * lm[j];
        for (int l = 0; l < 32; ++l) {
            const int v = eff_d > 0 ? nearest_int((x[32 * j + l] + eff_m) / eff_d) : 0;
            q[32 * j + l] = static_cast<uint8_t>(std::clamp(v, 0, levels));
        }
    }
}

void quantize_q4_k(const float* x, BlockQ4_K* y, int64_t nb) {
    uint8_t q[kQK_K];
    for (int64_t b = 0; b < nb; ++b, x += kQK_K) {
        quantize_k_super_block(x, 15, y[b].d, y[b].dmin, y[b].scales, q);
        for (int c = 0; c < 4; ++c) {  // 64 values per chunk: low nibble sub-block 2c, high 2c+1
            for (int l = 0; l < 32; ++l)
                y[b].qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
        }
    }
}

void quantize_q5_k(const float* x, BlockQ5_K* y, int64_t nb) {
    uint8_t q[kQK_K];
    for (int64_t b = 0; b < nb; ++b, x += kQK_K) {
        quantize_k_super_block(x, 31, y[b].d, y[b].dmin, y[b].scales, q);
        std::memset(y[b].qh, 0, sizeof y[b].qh);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                y[b].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
                y[b].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

// ---- Q6_K: 16 sub-blocks of 16 with an int8 scale each, y = d * sc * (q - 32).
void quantize_q6_k(const float* x, BlockQ6_K* y, int64_t nb) {
    uint8_t q[kQK_K];
    for (int64_t b = 0; b < nb; ++b, x += kQK_K) {
        float scale[16], max_scale = 0;
        for (int j = 0; j < 16; ++j) {
            float amax = 0, max = 0;
            for (int l = 0; l < 16; ++l) {
                if (std::fabs(x[16 * j + l]) > amax) {
                    amax = std::fabs(x[16 * j + l]);
                    max = x[16 * j + l];
                }
            }
            scale[j] = max / -32.0f;  // the extreme value maps to -32, the widest level
            max_scale = std::max(max_scale, std::fabs(scale[j]));
        }
        y[b].d = fp32_to_fp16(max_scale / 127.0f);
        const float d = fp16_to_fp32(y[b].d);
        for (int j = 0; j < 16; ++j) {
            const int sc = d > 0 ? std::clamp(nearest_int(scale[j] / d), -128, 127) : 0;
            y[b].scales[j] = static_cast<int8_t>(sc);
            const float eff = d * static_cast<float>(sc);
            for (int l = 0; l < 16; ++l) {
                const int v = eff != 0 ? nearest_int(x[16 * j + l] / eff) : 0;
                q[16 * j + l] = static_cast<uint8_t>(std::clamp(v, -32, 31) + 32);
            }
        }
        for (int n = 0; n < 2; ++n) {
            const uint8_t* s = q + 128 * n;
            uint8_t* ql = y[b].ql + 64 * n;
            uint8_t* qh = y[b].qh + 32 * n;
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = s[l], q2 = s[l + 32], q3 = s[l + 64], q4 = s[l + 96];
                ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

Error unsupported(GgmlType type) {
    return make_error("tensor type " + std::string(gguf::type_name(type)) + " is not supported for computation");
}

Result<void> check_length(GgmlType type, int64_t n) {
    const auto bs = gguf::type_traits(type).block_size;
    if (n < 0 || n % bs != 0)
        return make_error("row of " + std::to_string(n) + " elements is not a multiple of the " +
                          std::string(gguf::type_name(type)) + " block size " + std::to_string(bs));
    return {};
}

}  // namespace

const std::vector<GgmlType>& compute_types() {
    static const std::vector<GgmlType> types = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                                                GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
    return types;
}

bool is_compute_type(GgmlType type) {
    const auto& types = compute_types();
    return std::find(types.begin(), types.end(), type) != types.end();
}

Result<void> dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
    if (auto ok = check_length(type, n); !ok) return ok;
    const int64_t nb = n / gguf::type_traits(type).block_size;
    switch (type) {
        case GgmlType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return {};
        case GgmlType::F16: {
            const auto* h = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
            return {};
        }
        case GgmlType::BF16: {
            const auto* h = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
            return {};
        }
        case GgmlType::Q8_0: dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb); return {};
        case GgmlType::Q4_0: dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb); return {};
        case GgmlType::Q4_K: dequantize_q4_k(static_cast<const BlockQ4_K*>(src), dst, nb); return {};
        case GgmlType::Q5_K: dequantize_q5_k(static_cast<const BlockQ5_K*>(src), dst, nb); return {};
        case GgmlType::Q6_K: dequantize_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb); return {};
        default: return unsupported(type);
    }
}

Result<void> quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
    if (auto ok = check_length(type, n); !ok) return ok;
    const int64_t nb = n / gguf::type_traits(type).block_size;
    switch (type) {
        case GgmlType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return {};
        case GgmlType::F16: {
            auto* h = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
            return {};
        }
        case GgmlType::BF16: {
            auto* h = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]);
            return {};
        }
        case GgmlType::Q8_0: quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), nb); return {};
        case GgmlType::Q4_0: quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), nb); return {};
        case GgmlType::Q4_K: quantize_q4_k(src, static_cast<BlockQ4_K*>(dst), nb); return {};
        case GgmlType::Q5_K: quantize_q5_k(src, static_cast<BlockQ5_K*>(dst), nb); return {};
        case GgmlType::Q6_K: quantize_q6_k(src, static_cast<BlockQ6_K*>(dst), nb); return {};
        default: return unsupported(type);
    }
}

Result<std::vector<uint8_t>> quantize(GgmlType type, std::span<const float> values, int64_t row_len) {
    if (!is_compute_type(type)) return unsupported(type);
    if (row_len <= 0 || values.size() % static_cast<size_t>(row_len) != 0)
        return make_error("value count is not a multiple of the row length");
    if (auto ok = check_length(type, row_len); !ok) return ok.error();
    const auto row_bytes = *gguf::checked_row_bytes(type, static_cast<uint64_t>(row_len));
    const size_t rows = values.size() / static_cast<size_t>(row_len);
    std::vector<uint8_t> out(rows * row_bytes);
    for (size_t r = 0; r < rows; ++r) {
        auto ok = quantize_row(type, values.data() + r * row_len, out.data() + r * row_bytes, row_len);
        if (!ok) return ok.error();
    }
    return out;
}

Result<std::vector<float>> dequantize(GgmlType type, std::span<const uint8_t> bytes, int64_t n) {
    auto expected = gguf::checked_row_bytes(type, static_cast<uint64_t>(std::max<int64_t>(n, 0)));
    if (!expected || *expected != bytes.size())
        return make_error("byte count does not match " + std::to_string(n) + " elements of " +
                          std::string(gguf::type_name(type)));
    std::vector<float> out(static_cast<size_t>(n));
    auto ok = dequantize_row(type, bytes.data(), out.data(), n);
    if (!ok) return ok.error();
    return out;
}

}  // namespace hearth::tensor
