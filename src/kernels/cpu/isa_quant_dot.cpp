// Matmul kernels for float, Q8_0 and Q4_0 weights, and the activation quantizers
// (the k-quants are in isa_dot_kquant.cpp). Compiled three times, like
// isa_kernels.cpp, with HEARTH_ISA_NS set to generic, avx2 or avx512 and the matching
// -m flags. Everything except add_quant_kernels() lives in an anonymous namespace,
// so no wide-ISA code can be picked by the linker for another table.
//
// A tile kernel computes one weight row (Q8_0/Q4_0 on AVX-512: 2 or 4 rows, see
// rows) against a tile of up to 8 (AVX-512) or 4 activation rows: each weight
// block is decoded once and reused for every token of the tile, and the integer dot
// products use the formats' own scale arithmetic. On AVX-512, prefill-sized calls
// go to the row panels of isa_row_panels.h instead (on AVX2, Q8_0/Q4_0 to the
// 8-row panels of the same driver) and decode keeps the tiles.
// The gemm drivers walk rows in blocks that stay in L1/L2 while each token tile
// passes over all of them (float weights use 4-row × 4-token register tiles).
// The AVX-512 table requires VNNI (see cpu_supports); its Q8_0/Q4_0 paths rely on
// vpdpbusd not saturating.
#include "kernels/cpu/isa_gemm_common.h"
#include "kernels/cpu/isa_row_panels.h"

namespace hearth::kernels::HEARTH_ISA_NS {

void add_kquant_kernels(CpuKernels& k);  // isa_dot_kquant.cpp

namespace {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VNNI__)
// The AVX-512 table stores the Q8_0-style activations of each full group of eight
// blocks interleaved, so one vpdpbusd covers eight blocks (two int32 lanes each):
// vector k (64 bytes at 256g + 64k) holds quants 8k..8k+7 of blocks 8g..8g+7 in
// turn, and the group's scales sit at q8a_scales + 64g as d0 d0 d1 d1 … d7 d7
// (overwriting the first 16 of the group's 64 repeated scales). Blocks after the
// last full group keep the plain layout of quant_dot.h. Only this table's kernels
// read what this table's quantizer writes.
#define HEARTH_Q8A_GROUPED 1
constexpr int64_t kQ8aGroup = 8;
#endif

// ---------------------------------------------------------------------------
// Activation quantizers. They cost O(n) per token against the O(n·rows) of the product,
// but in decode they run on one thread between the pool's matmuls, so they are vector
// code where it helps; every ISA must produce the same quants bit for bit
// (round to nearest even, clamped to ±127).

inline int8_t quant_round(float v) {
    v = std::min(127.0f, std::max(-127.0f, v));
    return static_cast<int8_t>(std::nearbyint(v));
}

void quantize_row_q8_0(const float* x, void* dst, int64_t n) {
    auto* qs = static_cast<uint8_t*>(dst);
    const int64_t nb = n / kQK;
    float* scales = q8a_scales(qs, nb);
    for (int64_t b = 0; b < nb; ++b, x += kQK) {
#if defined(HEARTH_Q8A_GROUPED)
        if (b < nb / kQ8aGroup * kQ8aGroup) {
            // The scalar arithmetic below, 16 lanes at a time: the same products and
            // clamps, and vcvtps2dq rounds to nearest even like nearbyint.
            const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
            const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            const float id = amax > 0 ? 127.0f / amax : 0.0f;
            const float d16 = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
            const __m512 idv = _mm512_set1_ps(id), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
            const __m512i off = _mm512_set1_epi32(128);
            const auto quant16 = [&](__m512 v) {
                v = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_mul_ps(v, idv)));
                return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), off));
            };
            const __m128i q0 = quant16(v0), q1 = quant16(v1);
            const int64_t g = b / kQ8aGroup, i = b % kQ8aGroup;
            uint8_t* o = qs + 256 * g + 8 * i;
            _mm_storel_epi64(reinterpret_cast<__m128i*>(o), q0);
            _mm_storeh_pd(reinterpret_cast<double*>(o + 64), _mm_castsi128_pd(q0));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 128), q1);
            _mm_storeh_pd(reinterpret_cast<double*>(o + 192), _mm_castsi128_pd(q1));
            scales[64 * g + 2 * i] = scales[64 * g + 2 * i + 1] = d16;
            continue;
        }
#endif
        float amax = 0;
        for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = amax > 0 ? 127.0f / amax : 0.0f;  // llama.cpp's inverse, so quants match
        // The scale as a Q8_0 block would store it (binary16), as llama.cpp's activations carry it.
        const float d16 = fp16_to_fp32(fp32_to_fp16(d));
        for (int l = 0; l < 8; ++l) scales[8 * b + l] = d16;
        for (int j = 0; j < kQK; ++j) qs[kQK * b + j] = static_cast<uint8_t>(quant_round(x[j] * id) + 128);
    }
}

// Q8_K blocks of 256: d = amax/127 and quants round(x · 127/amax) in ±127, with the
// sums of each 16 quants (bsums) for the k-quant kernels' mins. The vector paths do the
// scalar arithmetic lane by lane (the same product, clamps and round to nearest even),
// so every table writes the same bytes.
void quantize_row_q8_k(const float* x, void* dst, int64_t n) {
    auto* y = static_cast<BlockQ8_K*>(dst);
    const int64_t nb = n / kQK_K;
    for (int64_t b = 0; b < nb; ++b, x += kQK_K) {
#if defined(__AVX512F__)
        __m512 vmax = _mm512_setzero_ps();
        for (int j = 0; j < kQK_K; j += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
        const float amax = _mm512_reduce_max_ps(vmax);
#elif defined(__AVX2__)
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 vmax = _mm256_setzero_ps();
        for (int j = 0; j < kQK_K; j += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, vmax);
        float amax = 0;
        for (float l : lanes) amax = std::max(amax, l);
#else
        float amax = 0;
        for (int j = 0; j < kQK_K; ++j) amax = std::max(amax, std::fabs(x[j]));
#endif
        const float d = amax / 127.0f;
        const float id = amax > 0 ? 127.0f / amax : 0.0f;  // llama.cpp's inverse, so quants match
        y[b].d = d;
#if defined(__AVX512F__)
        const __m512 idv = _mm512_set1_ps(id), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
        for (int g = 0; g < kQK_K / 16; ++g) {
            const __m512 v = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), idv)));
            const __m512i q = _mm512_cvtps_epi32(v);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * g), _mm512_cvtepi32_epi8(q));
            y[b].bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
        }
#elif defined(__AVX2__)
        const __m256 idv = _mm256_set1_ps(id), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
        const auto quant8 = [&](const float* p) {
            return _mm256_cvtps_epi32(_mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(p), idv))));
        };
        for (int g = 0; g < kQK_K / 16; ++g) {
            const __m256i q0 = quant8(x + 16 * g), q1 = quant8(x + 16 * g + 8);
            // packs works per 128-bit lane: q0[0..3] q1[0..3] | q0[4..7] q1[4..7], put back in order.
            const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * g),
                             _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)));
            const __m256i s8 = _mm256_add_epi32(q0, q1);
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
            s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
            s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
            y[b].bsums[g] = static_cast<int16_t>(_mm_cvtsi128_si32(s));
        }
#else
        for (int j = 0; j < kQK_K; ++j) y[b].qs[j] = quant_round(x[j] * id);
        for (int g = 0; g < kQK_K / 16; ++g) {
            int s = 0;
            for (int j = 0; j < 16; ++j) s += y[b].qs[16 * g + j];
            y[b].bsums[g] = static_cast<int16_t>(s);
        }
#endif
    }
}

// ---------------------------------------------------------------------------
// Float weights against f32 activations.

struct LoadF32 {
    static float scalar(const void* w, int64_t i) { return static_cast<const float*>(w)[i]; }
#if defined(__AVX2__)
    static __m256 vec(const void* w, int64_t i) { return _mm256_loadu_ps(static_cast<const float*>(w) + i); }
#endif
#if defined(__AVX512F__)
    static __m512 vec16(const void* w, int64_t i) { return _mm512_loadu_ps(static_cast<const float*>(w) + i); }
#endif
};
struct LoadF16 {
    static float scalar(const void* w, int64_t i) { return h2f(static_cast<const uint16_t*>(w)[i]); }
#if defined(__AVX2__)
    static __m256 vec(const void* w, int64_t i) {
        return _mm256_cvtph_ps(loadu128(static_cast<const uint16_t*>(w) + i));
    }
#endif
#if defined(__AVX512F__)
    static __m512 vec16(const void* w, int64_t i) {
        return _mm512_cvtph_ps(loadu256(static_cast<const uint16_t*>(w) + i));
    }
#endif
};
struct LoadBF16 {
    static float scalar(const void* w, int64_t i) { return bf16_to_fp32(static_cast<const uint16_t*>(w)[i]); }
#if defined(__AVX2__)
    static __m256 vec(const void* w, int64_t i) {
        const __m256i v = _mm256_cvtepu16_epi32(loadu128(static_cast<const uint16_t*>(w) + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
#endif
#if defined(__AVX512F__)
    static __m512 vec16(const void* w, int64_t i) {
        const __m512i v = _mm512_cvtepu16_epi32(loadu256(static_cast<const uint16_t*>(w) + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
    }
#endif
};

template <class Load>
struct KFloat {
    template <int NT>
    static void tile(const uint8_t* w, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride, int64_t n) {
        const float* xt[NT];
        for (int t = 0; t < NT; ++t) xt[t] = reinterpret_cast<const float*>(x + static_cast<size_t>(t) * x_stride);
        int64_t i = 0;
        float sum[NT];
#if defined(__AVX512F__)
        __m512 acc0[NT], acc1[NT];
        for (int t = 0; t < NT; ++t) acc0[t] = acc1[t] = _mm512_setzero_ps();
        for (; i + 32 <= n; i += 32) {
            const __m512 w0 = Load::vec16(w, i), w1 = Load::vec16(w, i + 16);
            for (int t = 0; t < NT; ++t) {
                acc0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xt[t] + i), acc0[t]);
                acc1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xt[t] + i + 16), acc1[t]);
            }
        }
        for (; i + 16 <= n; i += 16) {
            const __m512 w0 = Load::vec16(w, i);
            for (int t = 0; t < NT; ++t) acc0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xt[t] + i), acc0[t]);
        }
        for (int t = 0; t < NT; ++t) sum[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[t], acc1[t]));
#elif defined(__AVX2__)
        __m256 acc0[NT], acc1[NT];
        for (int t = 0; t < NT; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
        for (; i + 16 <= n; i += 16) {
            const __m256 w0 = Load::vec(w, i), w1 = Load::vec(w, i + 8);
            for (int t = 0; t < NT; ++t) {
                acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt[t] + i), acc0[t]);
                acc1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xt[t] + i + 8), acc1[t]);
            }
        }
        for (; i + 8 <= n; i += 8) {
            const __m256 w0 = Load::vec(w, i);
            for (int t = 0; t < NT; ++t) acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt[t] + i), acc0[t]);
        }
        for (int t = 0; t < NT; ++t) sum[t] = hsum(_mm256_add_ps(acc0[t], acc1[t]));
#else
        float part[NT][4] = {};
        for (; i + 4 <= n; i += 4) {
            float wv[4];
            for (int k = 0; k < 4; ++k) wv[k] = Load::scalar(w, i + k);
            for (int t = 0; t < NT; ++t) {
                for (int k = 0; k < 4; ++k) part[t][k] += wv[k] * xt[t][i + k];
            }
        }
        for (int t = 0; t < NT; ++t) sum[t] = (part[t][0] + part[t][1]) + (part[t][2] + part[t][3]);
#endif
        for (; i < n; ++i) {
            const float wv = Load::scalar(w, i);
            for (int t = 0; t < NT; ++t) sum[t] += wv * xt[t][i];
        }
        for (int t = 0; t < NT; ++t) y[t * y_stride] = sum[t];
    }
};

// ---------------------------------------------------------------------------
// Q8_0 and Q4_0 weights against Q8_0 activations.

// The weight block as 32 signed bytes (Q4_0: nibble − 8) and its scale.
template <bool kFour>
struct Q32Weights {
    using Block = std::conditional_t<kFour, BlockQ4_0, BlockQ8_0>;
    static void scalar(const Block& b, int8_t q[kQK]) {
        if constexpr (kFour) {
            for (int j = 0; j < kQK / 2; ++j) {
                q[j] = static_cast<int8_t>((b.qs[j] & 0xF) - 8);
                q[j + kQK / 2] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
            }
        } else {
            std::memcpy(q, b.qs, kQK);
        }
    }
#if defined(__AVX2__)
    static __m256i vec(const Block& b) {
        if constexpr (kFour) {
            const __m128i raw = loadu128(b.qs);
            const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
            return _mm256_sub_epi8(q, _mm256_set1_epi8(8));
        } else {
            return loadu256(b.qs);
        }
    }
#endif
};

// Q8_0 and Q4_0 weights against the Q8_0-style activations of quant_dot.h.
//
// On AVX-512 a tile covers NR weight rows × NT tokens: every activation and scale
// vector loaded feeds NR rows. The arithmetic of each (row, token) pair is the same
// whatever NR is, so results do not depend on how rows are grouped.
template <bool kFour>
struct KQx_0 {
    using WQ = Q32Weights<kFour>;
    using Block = typename WQ::Block;

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VNNI__)
    // Rows per register tile (see gemm), the fastest measured on Zen 4.
    static constexpr int kRows = kFour ? 2 : 4;

    // Blocks b and b+1 of a row as 64 signed bytes, the −128·Σw start of their dot
    // products (the activations are stored as q + 128, so Σ (q+128)·w = Σ q·w + 128·Σw)
    // and their scales spread over the two halves.
    static void pair(const Block* wb, int64_t b, __m512i& q, __m512i& init, __m512& dw) {
        if constexpr (kFour) {
            // Both blocks' nibbles at once: [lo0 hi0 lo1 hi1] after the lane shuffle.
            const __m256i r = _mm256_set_m128i(loadu128(wb[b + 1].qs), loadu128(wb[b].qs));
            const __m512i z = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(r), _mm256_srli_epi16(r, 4), 1),
                                               _mm512_set1_epi8(0x0F));
            q = _mm512_sub_epi8(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)), _mm512_set1_epi8(8));
        } else {
            q = _mm512_inserti64x4(_mm512_castsi256_si512(WQ::vec(wb[b])), WQ::vec(wb[b + 1]), 1);
        }
        const __m512i c80 = _mm512_set1_epi8(static_cast<char>(0x80));
        init = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), c80, q));
        const __m128 d01 = _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(wb[b].d), wb[b + 1].d, 1));
        const __m512i sel = _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi32(0), _mm512_set1_epi32(1));
        dw = _mm512_permutexvar_ps(sel, _mm512_castps128_ps512(d01));
    }

    // Blocks b..b+7 of a row in the grouped activation layout: V[k] holds quants
    // 8k..8k+7 of each block in turn, init the −128·Σw start per lane and dw each
    // block's scale twice.
    static void group(const Block* wb, int64_t b, __m512i V[4], __m512i& init, __m512& dw) {
        __m512i Z[4], ini[4];
        __m512 unused;
        for (int p = 0; p < 4; ++p) pair(wb, b + 2 * p, Z[p], ini[p], unused);
        // Z[p] qwords: block 2p's quants in 0..3, block 2p+1's in 4..7.
        const __m512i lo = _mm512_set_epi64(13, 9, 5, 1, 12, 8, 4, 0);
        const __m512i hi = _mm512_set_epi64(15, 11, 7, 3, 14, 10, 6, 2);
        const __m512i t01a = _mm512_permutex2var_epi64(Z[0], lo, Z[1]), t01b = _mm512_permutex2var_epi64(Z[0], hi, Z[1]);
        const __m512i t23a = _mm512_permutex2var_epi64(Z[2], lo, Z[3]), t23b = _mm512_permutex2var_epi64(Z[2], hi, Z[3]);
        V[0] = _mm512_shuffle_i64x2(t01a, t23a, _MM_SHUFFLE(1, 0, 1, 0));
        V[1] = _mm512_shuffle_i64x2(t01a, t23a, _MM_SHUFFLE(3, 2, 3, 2));
        V[2] = _mm512_shuffle_i64x2(t01b, t23b, _MM_SHUFFLE(1, 0, 1, 0));
        V[3] = _mm512_shuffle_i64x2(t01b, t23b, _MM_SHUFFLE(3, 2, 3, 2));
        const __m512i c80 = _mm512_set1_epi8(static_cast<char>(0x80));
        __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), c80, V[0]);
        for (int k = 1; k < 4; ++k) s = _mm512_dpbusd_epi32(s, c80, V[k]);
        init = _mm512_sub_epi32(_mm512_setzero_si512(), s);
        alignas(16) uint16_t d[8];
        for (int i = 0; i < 8; ++i) d[i] = wb[b + i].d;
        const __m256 d8 = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(d)));
        const __m512i dup = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
        dw = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(d8));
    }

    // One token (decode, see decode_rows): kS rows of separate streams side by side,
    // each with its weights prefetched as it goes (DecodePrefetch). Q4_0 takes two:
    // its nibble unpacking keeps the core busy enough that four streams' registers
    // spill (bench_matmul Q4_0 decode 2048x8192, 2 threads: 15.3 GB/s with one
    // stream, 15.3-15.5 with two, 11.1-12.9 with four).
    static constexpr int kStreams = kFour ? 2 : kDecodeStreams;

    // NR rows row_bytes apart × NT tokens: y[t · y_stride + r · y_row] = row r · token t.
    template <int NR, int NT, bool kPrefetch>
    static void rows(const uint8_t* w, size_t row_bytes, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride,
                     int64_t y_row, int64_t n) {
        const int64_t nb = n / kQK;
        WeightRows<Block, NR> rows_of(w, row_bytes);
        const auto& wb = rows_of.row;
        auto& prefetch = rows_of.prefetch;
        const uint8_t* aq[NT];
        const float* as[NT];
        for (int t = 0; t < NT; ++t) {
            aq[t] = x + static_cast<size_t>(t) * x_stride;
            as[t] = q8a_scales(aq[t], nb);
        }
        __m512 acc[NR][NT];
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
        }
        int64_t b = 0;
        for (; b + kQ8aGroup <= nb; b += kQ8aGroup) {
            if constexpr (kPrefetch) {
                for (int r = 0; r < NR; ++r) prefetch[r].through(wb[r] + b + kQ8aGroup);
            }
            __m512i V[NR][4], init[NR];
            __m512 dw[NR];
            for (int r = 0; r < NR; ++r) group(wb[r], b, V[r], init[r], dw[r]);
            for (int t = 0; t < NT; ++t) {
                const uint8_t* ag = aq[t] + kQK * b;
                const __m512i a0 = _mm512_loadu_si512(ag), a1 = _mm512_loadu_si512(ag + 64);
                const __m512i a2 = _mm512_loadu_si512(ag + 128), a3 = _mm512_loadu_si512(ag + 192);
                const __m512 sv = _mm512_loadu_ps(as[t] + 8 * b);
                for (int r = 0; r < NR; ++r) {
                    __m512i p = _mm512_dpbusd_epi32(init[r], a0, V[r][0]);
                    p = _mm512_dpbusd_epi32(p, a1, V[r][1]);
                    p = _mm512_dpbusd_epi32(p, a2, V[r][2]);
                    p = _mm512_dpbusd_epi32(p, a3, V[r][3]);
                    acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(sv, dw[r]), acc[r][t]);
                }
            }
        }
        if constexpr (kPrefetch) {  // the pairs and odd block after the groups
            for (int r = 0; r < NR; ++r) prefetch[r].through(wb[r] + nb);
        }
        for (; b + 2 <= nb; b += 2) {
            __m512i q[NR], init[NR];
            __m512 dw[NR];
            for (int r = 0; r < NR; ++r) pair(wb[r], b, q[r], init[r], dw[r]);
            for (int t = 0; t < NT; ++t) {
                const __m512i av = _mm512_loadu_si512(aq[t] + kQK * b);
                const __m512 sv = _mm512_loadu_ps(as[t] + 8 * b);
                for (int r = 0; r < NR; ++r) {
                    const __m512i p = _mm512_dpbusd_epi32(init[r], av, q[r]);
                    acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(p), sv), dw[r], acc[r][t]);
                }
            }
        }
        for (int r = 0; r < NR; ++r) {
            float sum[NT];
            for (int t = 0; t < NT; ++t) sum[t] = _mm512_reduce_add_ps(acc[r][t]);
            if (b < nb) odd_block<NT>(wb[r], b, aq, as, sum);
            for (int t = 0; t < NT; ++t) y[t * y_stride + r * y_row] = sum[t];
        }
    }

    // The last block of an odd count, added to sum[] as tile<NT> always did.
    template <int NT>
    static void odd_block(const Block* wb, int64_t b, const uint8_t* const* aq, const float* const* as, float* sum) {
        const __m256i c80y = _mm256_set1_epi8(static_cast<char>(0x80));
        const __m256i q = WQ::vec(wb[b]);
        const __m256i ax = _mm256_sign_epi8(q, q);
        const __m256 dw = _mm256_set1_ps(h2f(wb[b].d));
        for (int t = 0; t < NT; ++t) {
            const __m256i av = _mm256_xor_si256(loadu256(aq[t] + kQK * b), c80y);
            const __m256i p = dot_us8(ax, _mm256_sign_epi8(av, q));
            const __m256 ps = _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_loadu_ps(as[t] + 8 * b));
            sum[t] += hsum(_mm256_fmadd_ps(ps, dw, _mm256_setzero_ps()));
        }
    }

    template <int NT>
    static void tile(const uint8_t* w, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride, int64_t n) {
        rows<1, NT, false>(w, 0, x, x_stride, y, y_stride, 1, n);
    }
#else
#if defined(__AVX2__)
    // One token (decode, see decode_rows): kS rows of separate streams side by side
    // (two for Q4_0, as on AVX-512).
    static constexpr int kStreams = kFour ? 2 : kDecodeStreams;
#endif

    template <int NT>
    static void tile(const uint8_t* w, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride, int64_t n) {
        rows<1, NT, false>(w, 0, x, x_stride, y, y_stride, 0, n);
    }

    // NR rows row_bytes apart × NT tokens: y[t · y_stride + r · y_row]; each (row,
    // token) pair's arithmetic is the same whatever NR and NT are.
    template <int NR, int NT, bool kPrefetch>
    static void rows(const uint8_t* w, size_t row_bytes, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride,
                     int64_t y_row, int64_t n) {
        WeightRows<Block, NR> rows_of(w, row_bytes);
        const auto& wb = rows_of.row;
        const int64_t nb = n / kQK;
        const uint8_t* aq[NT];
        const float* as[NT];
        for (int t = 0; t < NT; ++t) {
            aq[t] = x + static_cast<size_t>(t) * x_stride;
            as[t] = q8a_scales(aq[t], nb);
        }
#if defined(__AVX2__)
        auto& prefetch = rows_of.prefetch;
        // Even and odd blocks in separate accumulators: with one token, a single chain
        // of FMAs (4-5 cycles each) would bound a block's few cycles of work.
        const __m256i c80y = _mm256_set1_epi8(static_cast<char>(0x80));
        __m256 acc8[NR][NT][2];
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) acc8[r][t][0] = acc8[r][t][1] = _mm256_setzero_ps();
        }
        const auto block = [&](int r, int64_t b, int half) {
            if constexpr (kPrefetch) prefetch[r].through(wb[r] + b + 1);
            const __m256i q = WQ::vec(wb[r][b]);
            const __m256i ax = _mm256_sign_epi8(q, q);
            const __m256 dw = _mm256_set1_ps(h2f(wb[r][b].d));
            for (int t = 0; t < NT; ++t) {
                const __m256i av = _mm256_xor_si256(loadu256(aq[t] + kQK * b), c80y);
                const __m256i p = dot_us8(ax, _mm256_sign_epi8(av, q));
                const __m256 ps = _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_loadu_ps(as[t] + 8 * b));
                acc8[r][t][half] = _mm256_fmadd_ps(ps, dw, acc8[r][t][half]);
            }
        };
        int64_t b = 0;
        for (; b + 2 <= nb; b += 2) {
            for (int r = 0; r < NR; ++r) {
                block(r, b, 0);
                block(r, b + 1, 1);
            }
        }
        if (b < nb) {
            for (int r = 0; r < NR; ++r) block(r, b, 0);
        }
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) y[t * y_stride + r * y_row] = 0.0f + hsum(_mm256_add_ps(acc8[r][t][0], acc8[r][t][1]));
        }
#else
        for (int r = 0; r < NR; ++r) {
            float sum[NT] = {};
            for (int64_t b = 0; b < nb; ++b) {
                int8_t q[kQK];
                WQ::scalar(wb[r][b], q);
                const float dw = h2f(wb[r][b].d);
                for (int t = 0; t < NT; ++t) {
                    int isum = 0;
                    for (int j = 0; j < kQK; ++j) isum += q[j] * (static_cast<int>(aq[t][kQK * b + j]) - 128);
                    sum[t] += static_cast<float>(isum) * as[t][8 * b] * dw;
                }
            }
            for (int t = 0; t < NT; ++t) y[t * y_stride + r * y_row] = sum[t];
        }
#endif
    }
#endif
};

#if defined(HEARTH_ROW_PANELS8)
// Q8_0 / Q4_0 in the AVX2 panels of isa_row_panels.h, one block (32 columns) per unit.

// One block of a tile of tokens: q[k][t] is token t's quants 4k..4k+3 (signed),
// d[t] its scale. Slots past the last token are zero.
struct alignas(32) P8Tokens {
    int32_t q[kQK / 4][kPanelTokens];
    float d[kPanelTokens];
};

template <bool kFour>
struct Panel8Qx_0 {
    using WQ = Q32Weights<kFour>;
    using Block = typename WQ::Block;
    using Tokens = P8Tokens;
    static constexpr int64_t kCols = kQK;
    // Per block: the quants (8 vectors), their magnitudes (maddubs' unsigned side;
    // −128 stays 0x80 = 128) and the 8 rows' scales.
    static constexpr size_t kBytes = 2 * 8 * 32 + 32;

    static void pack(const uint8_t* w, size_t row_bytes, int64_t nb, uint8_t* dst) {
        for (int64_t j = 0; j < nb; ++j) {
            uint8_t* P = dst + kBytes * static_cast<size_t>(j);
            __m256i v[kPanelRows];
            alignas(32) float d[kPanelRows];
            for (int r = 0; r < kPanelRows; ++r) {
                const Block& B = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * row_bytes)[j];
                v[r] = WQ::vec(B);
                d[r] = h2f(B.d);
            }
            transpose8x8_epi32(v);
            for (int k = 0; k < 8; ++k) {
                _mm256_store_si256(reinterpret_cast<__m256i*>(P + 32 * k), v[k]);
                _mm256_store_si256(reinterpret_cast<__m256i*>(P + 256 + 32 * k), _mm256_sign_epi8(v[k], v[k]));
            }
            std::memcpy(P + 512, d, sizeof d);
        }
    }

    // Token slot `slot` of a tile from one activation row (quants stored q + 128).
    static void interleave(const uint8_t* x, int64_t nb, P8Tokens* tile, int slot) {
        const float* scales = q8a_scales(x, nb);
        for (int64_t j = 0; j < nb; ++j) {
            for (int k = 0; k < kQK / 4; ++k) {
                uint32_t q;
                std::memcpy(&q, x + kQK * j + 4 * k, 4);
                tile[j].q[k][slot] = static_cast<int32_t>(q ^ 0x80808080u);
            }
            tile[j].d[slot] = scales[8 * j];
        }
    }

    template <int NT>
    static void tile(const uint8_t* panel, int64_t nb, const P8Tokens* xs, float* y, int64_t y_stride) {
        const __m256i ones = _mm256_set1_epi16(1);
        __m256 acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
        for (int64_t j = 0; j < nb; ++j) {
            const uint8_t* P = panel + kBytes * static_cast<size_t>(j);
            const P8Tokens& X = xs[j];
            __m256i s[NT];
            for (int k = 0; k < kQK / 4; ++k) {
                const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(P + 32 * k));
                const __m256i mag = _mm256_load_si256(reinterpret_cast<const __m256i*>(P + 256 + 32 * k));
                for (int t = 0; t < NT; ++t) {
                    const __m256i p = _mm256_madd_epi16(
                        _mm256_maddubs_epi16(mag, _mm256_sign_epi8(_mm256_set1_epi32(X.q[k][t]), wv)), ones);
                    s[t] = k == 0 ? p : _mm256_add_epi32(s[t], p);
                }
            }
            const __m256 dv = _mm256_load_ps(reinterpret_cast<const float*>(P + 512));
            for (int t = 0; t < NT; ++t) {
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(dv, _mm256_set1_ps(X.d[t])), acc[t]);
            }
        }
        for (int t = 0; t < NT; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
    }
};

#endif

#if defined(HEARTH_ROW_PANELS)
// Q8_0 / Q4_0 in row panels (isa_row_panels.h); a 256-column unit is 8 blocks.
// Weights keep their sign and the activations are stored as q + 128 (quant_dot.h),
// so each block's sum starts at its row's −128·Σw, as in KQx_0::pair. terms[j][t]
// is token t's scale of block j; TokenBlock::d is unused.
template <bool kFour>
struct PanelQx_0 {
    using WQ = Q32Weights<kFour>;
    using Block = typename WQ::Block;
    using Term = float;
    using Tokens = TokenBlock<Term>;
    static constexpr int64_t kCols = kQK_K;
    static constexpr size_t kBytes = 4096 + 2 * 8 * 64;  // quants, −128·Σw, weight scales

    static void interleave(const uint8_t* x, int64_t nb, TokenBlock<Term>* row, int slot) {
        // n is whole units, so every block is in the grouped layout of kQ8aGroup:
        // quant 8k+m of block j of unit g at 256g + 64k + 8j + m.
        const float* scales = q8a_scales(x, nb * kQ8aGroup);
        for (int64_t g = 0; g < nb; ++g) {
            const uint8_t* xg = x + kQK_K * g;
            for (int j = 0; j < 8; ++j) {
                for (int k = 0; k < 8; ++k) std::memcpy(&row[g].q[8 * j + k][slot], xg + 64 * (k / 2) + 8 * j + 4 * (k % 2), 4);
                row[g].terms[j][slot] = scales[64 * g + 2 * j];
            }
        }
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t nb, uint8_t* dst) {
        alignas(64) int8_t rows[kPanelRows * kQK_K];
        for (int64_t g = 0; g < nb; ++g) {
            uint8_t* P = dst + kBytes * static_cast<size_t>(g);
            auto* init = reinterpret_cast<int32_t*>(P + 4096);
            auto* dw = reinterpret_cast<float*>(P + 4096 + 512);
            for (int r = 0; r < kPanelRows; ++r) {
                const Block* wb = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * row_bytes) + 8 * g;
                for (int j = 0; j < 8; ++j) {
                    _mm256_store_si256(reinterpret_cast<__m256i*>(rows + kQK_K * r + 32 * j), WQ::vec(wb[j]));
                    dw[kPanelRows * j + r] = h2f(wb[j].d);
                }
            }
            transpose_panel(reinterpret_cast<const uint8_t*>(rows), P);
            // −128·Σw per row and block, from the transposed quants.
            const __m512i c80 = _mm512_set1_epi8(static_cast<char>(0x80));
            for (int j = 0; j < 8; ++j) {
                __m512i sum = _mm512_setzero_si512();
                for (int k = 0; k < 8; ++k) sum = _mm512_dpbusd_epi32(sum, c80, _mm512_load_si512(P + 64 * (8 * j + k)));
                _mm512_store_si512(init + kPanelRows * j, _mm512_sub_epi32(_mm512_setzero_si512(), sum));
            }
        }
    }

    template <int NT>
    static void tile(const uint8_t* panel, int64_t nb, const TokenBlock<Term>* xs, float* y, int64_t y_stride) {
        __m512 acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
        for (int64_t g = 0; g < nb; ++g) {
            const uint8_t* P = panel + kBytes * static_cast<size_t>(g);
            const auto* init = reinterpret_cast<const int32_t*>(P + 4096);
            const auto* dw = reinterpret_cast<const float*>(P + 4096 + 512);
            const TokenBlock<Term>& X = xs[g];
            for (int j = 0; j < 8; ++j) {
                const __m512i iv = _mm512_load_si512(init + kPanelRows * j);
                __m512i s[NT];
                for (int t = 0; t < NT; ++t) s[t] = iv;
                for (int k = 0; k < 8; ++k) {
                    const __m512i wv = _mm512_load_si512(P + 64 * (8 * j + k));
                    for (int t = 0; t < NT; ++t) s[t] = _mm512_dpbusd_epi32(s[t], _mm512_set1_epi32(X.q[8 * j + k][t]), wv);
                }
                const __m512 dv = _mm512_load_ps(dw + kPanelRows * j);
                for (int t = 0; t < NT; ++t) {
                    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(dv, _mm512_set1_ps(X.terms[j][t])), acc[t]);
                }
            }
        }
        for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
    }
};
#endif

#if defined(__AVX512F__)
// Float weights, four rows × four tokens per register tile: each weight and
// activation vector loaded feeds four FMAs.
template <class Load>
void tile_f_4x4(const uint8_t* w, size_t row_bytes, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride,
                int64_t n) {
    const float* xt[4];
    const uint8_t* wr[4];
    for (int k = 0; k < 4; ++k) {
        xt[k] = reinterpret_cast<const float*>(x + static_cast<size_t>(k) * x_stride);
        wr[k] = w + static_cast<size_t>(k) * row_bytes;
    }
    __m512 acc[4][4];
    for (int r = 0; r < 4; ++r) {
        for (int t = 0; t < 4; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 xv[4];
        for (int t = 0; t < 4; ++t) xv[t] = _mm512_loadu_ps(xt[t] + i);
        for (int r = 0; r < 4; ++r) {
            const __m512 wv = Load::vec16(wr[r], i);
            for (int t = 0; t < 4; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
    for (int r = 0; r < 4; ++r) {
        for (int t = 0; t < 4; ++t) {
            float sum = _mm512_reduce_add_ps(acc[r][t]);
            for (int64_t j = i; j < n; ++j) sum += Load::scalar(wr[r], j) * xt[t][j];
            y[t * y_stride + r] = sum;
        }
    }
}

template <class Load>
void gemm_float(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride, int64_t n_tokens,
                float* y, int64_t y_stride, int64_t n) {
    using K = KFloat<Load>;
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* xb = static_cast<const uint8_t*>(x);
    if (n_tokens < 4) {
        decode_rows<K>(wb, row_bytes, n_rows, xb, x_stride, n_tokens, y, y_stride, n);
        return;
    }
    int64_t block = static_cast<int64_t>((32u << 10) / std::max<size_t>(row_bytes, 1));
    block = std::max<int64_t>(4, block / 4 * 4);
    for (int64_t r0 = 0; r0 < n_rows; r0 += block) {
        const int64_t r1 = std::min(n_rows, r0 + block);
        int64_t t = 0;
        for (; t + 4 <= n_tokens; t += 4) {
            int64_t r = r0;
            for (; r + 4 <= r1; r += 4) {
                tile_f_4x4<Load>(wb + static_cast<size_t>(r) * row_bytes, row_bytes, xb + t * x_stride, x_stride,
                                 y + t * y_stride + r, y_stride, n);
            }
            for (; r < r1; ++r) {
                K::template tile<4>(wb + static_cast<size_t>(r) * row_bytes, xb + t * x_stride, x_stride,
                                    y + t * y_stride + r, y_stride, n);
            }
        }
        if (t < n_tokens) {
            for (int64_t r = r0; r < r1; ++r) {
                row_tokens<K>(wb + static_cast<size_t>(r) * row_bytes, xb + t * x_stride, x_stride, n_tokens - t,
                              y + t * y_stride + r, y_stride, n);
            }
        }
    }
}
#else
template <class Load>
void gemm_float(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride, int64_t n_tokens,
                float* y, int64_t y_stride, int64_t n) {
    gemm<KFloat<Load>>(w, row_bytes, n_rows, x, x_stride, n_tokens, y, y_stride, n);
}
#endif

}  // namespace

void add_quant_kernels(CpuKernels& k) {
#if defined(HEARTH_ROW_PANELS)
    k.gemm_token_budget = size_t{16} << 20;
#endif
    k.quantize_row_q8_0 = quantize_row_q8_0;
    k.quantize_row_q8_k = quantize_row_q8_k;
    k.gemm_f32 = gemm_float<LoadF32>;
    k.gemm_f16 = gemm_float<LoadF16>;
    k.gemm_bf16 = gemm_float<LoadBF16>;
#if defined(HEARTH_ROW_PANELS)
    k.gemm_q8_0 = gemm_panels<PanelQx_0<false>, KQx_0<false>>;
    k.gemm_q4_0 = gemm_panels<PanelQx_0<true>, KQx_0<true>>;
#elif defined(HEARTH_ROW_PANELS8)
    k.gemm_q8_0 = gemm_panels<Panel8Qx_0<false>, KQx_0<false>>;
    k.gemm_q4_0 = gemm_panels<Panel8Qx_0<true>, KQx_0<true>>;
#else
    k.gemm_q8_0 = gemm<KQx_0<false>>;
    k.gemm_q4_0 = gemm<KQx_0<true>>;
#endif
    add_kquant_kernels(k);
}

}  // namespace hearth::kernels::HEARTH_ISA_NS
