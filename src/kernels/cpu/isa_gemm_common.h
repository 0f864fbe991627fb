// Helpers and the row × token gemm driver shared by the per-ISA matmul files
// (isa_quant_dot.cpp, isa_dot_kquant.cpp). Only those files include it, each compiled
// three times with HEARTH_ISA_NS and the ISA's -m flags; everything here lives in an
// anonymous namespace so no wide-ISA code can leak into another table.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "base/half.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/quant_dot.h"
#include "tensor/quant_blocks.h"

#ifndef HEARTH_ISA_NS
#error "HEARTH_ISA_NS must name the instruction set this file is compiled for"
#endif

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

using tensor::BlockQ4_0;
using tensor::BlockQ4_K;
using tensor::BlockQ5_K;
using tensor::BlockQ6_K;
using tensor::BlockQ8_0;
using tensor::kQK;
using tensor::kQK_K;


inline float h2f(uint16_t h) {
#if defined(__F16C__)
    return _cvtsh_ss(h);
#else
    return fp16_to_fp32(h);
#endif
}

// The 6-bit scales and mins of the eight sub-blocks of a Q4_K/Q5_K super-block,
// unpacked four at a time from the 12 packed bytes (same result as k_scale_min):
// byte j of `sc` (`mn`) is sub-block j's scale (min). Kept in registers so that the
// SIMD kernels can move them to a vector without a round trip through memory.
struct KScales {
    uint64_t sc, mn;
};
inline KScales k_scales(const uint8_t* q) {
    uint32_t a0, a1, a2;
    std::memcpy(&a0, q, 4);
    std::memcpy(&a1, q + 4, 4);
    std::memcpy(&a2, q + 8, 4);
    const uint32_t s_lo = a0 & 0x3f3f3f3fu, m_lo = a1 & 0x3f3f3f3fu;
    const uint32_t s_hi = (a2 & 0x0f0f0f0fu) | ((a0 >> 2) & 0x30303030u);
    const uint32_t m_hi = ((a2 >> 4) & 0x0f0f0f0fu) | ((a1 >> 2) & 0x30303030u);
    return {s_lo | uint64_t{s_hi} << 32, m_lo | uint64_t{m_hi} << 32};
}
inline void k_scales(const uint8_t* q, uint8_t sc[8], uint8_t mn[8]) {
    const KScales k = k_scales(q);
    std::memcpy(sc, &k.sc, 8);
    std::memcpy(mn, &k.mn, 8);
}

// ---------------------------------------------------------------------------
// SIMD helpers.

#if defined(__AVX2__)
inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Σ u·s over pairs of unsigned × signed bytes, as 8 int32 lanes.
inline __m256i dot_us8(__m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}


inline __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
#endif

#if defined(__AVX512F__) && defined(__AVX512BW__)
// acc + Σ of pairs of int16 products.
inline __m512i dot_s16_acc(__m512i acc, __m512i a, __m512i b) {
#if defined(__AVX512VNNI__)
    return _mm512_dpwssd_epi32(acc, a, b);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
#endif
}
#endif

template <class Block>
inline const Block* act_block(const uint8_t* x, size_t x_stride, int t) {
    return reinterpret_cast<const Block*>(x + static_cast<size_t>(t) * x_stride);
}

// ---------------------------------------------------------------------------
// Row × token drivers. matmul() hands each thread a range of rows and blocks of
// tokens (a multiple of kGemmTokenTile) whose activations fit in L2.

#if defined(__AVX512F__)
constexpr int kTile = 8;  // 32 vector registers: room for eight tokens' accumulators
#else
constexpr int kTile = 4;
#endif
static_assert(kGemmTokenTile % kTile == 0);

// One weight row against n_tokens (any count) activation rows, in tiles of kTile.
template <class K>
void row_tokens(const uint8_t* wr, const uint8_t* x, size_t x_stride, int64_t n_tokens, float* y, int64_t y_stride,
                int64_t n) {
    int64_t t = 0;
    for (; t + kTile <= n_tokens; t += kTile) K::template tile<kTile>(wr, x + t * x_stride, x_stride, y + t * y_stride, y_stride, n);
    const uint8_t* xr = x + t * x_stride;
    float* yr = y + t * y_stride;
    int64_t left = n_tokens - t;
    if constexpr (kTile > 4) {
        if (left >= 4) {
            K::template tile<4>(wr, xr, x_stride, yr, y_stride, n);
            xr += 4 * x_stride;
            yr += 4 * y_stride;
            left -= 4;
        }
    }
    switch (left) {
        case 3: K::template tile<3>(wr, xr, x_stride, yr, y_stride, n); break;
        case 2: K::template tile<2>(wr, xr, x_stride, yr, y_stride, n); break;
        case 1: K::template tile<1>(wr, xr, x_stride, yr, y_stride, n); break;
        default: break;
    }
}

// Few tokens (decode): each row is read once from DRAM and used for little
// arithmetic, so the kernel waits on memory unless the row is on its way in time.
// The hardware prefetchers stop at 4 KiB pages and ramp up slowly behind a
// compute-heavy loop, so each row is prefetched in software at two distances
// (prefetch_decode_line, cpu_kernels.h): far ahead into L2, where a miss does not hold
// one of the few L1 fill buffers for the whole trip to DRAM, and near into L1, where
// the line then comes from L2.
// (Zen 3, 2 threads, Qwen3-0.6B-shape Q4_K_M tg128 with one T0 prefetch at 4 KiB:
// 32 -> 38-40 t/s. Xeon, bench_matmul decode 1 thread, against that one prefetch:
// Q8_0 10.8 -> 13.5 GB/s, Q6_K 9.9 -> 11.8-12.5, 2 threads +15-20%; 8 or 32 KiB far
// about the same, 1 KiB near less.)
//
// DecodePrefetch asks for each line of a row once, as a kernel reaches it: spread
// through the arithmetic, the prefetches queue behind fewer outstanding misses than
// one burst per row (Xeon, bench_matmul Q4_K decode 2048x8192: 9.2 -> 12.1-12.8 GB/s
// on 1 thread, 18.1 -> 20.5-24.0 on 2). The one-token kernels (decode_streams) use it
// block by block, one per stream; the others take the burst, prefetch_decode_row.
class DecodePrefetch {
public:
    DecodePrefetch() = default;
    explicit DecodePrefetch(const void* row) : next_(reinterpret_cast<uintptr_t>(row) & ~uintptr_t{63}) {}
    void through(const void* end) {
        for (; next_ < reinterpret_cast<uintptr_t>(end); next_ += 64) prefetch_decode_line(reinterpret_cast<const void*>(next_));
    }

    // The start of a range nothing prefetched yet (the chunk of rows a thread just took,
    // see matmul.cpp): the lines through() would have asked for before it, so the first
    // kDecodeFarPrefetch bytes do not wait on DRAM one miss at a time.
    static void warm(const void* begin, const void* end) {
        const auto* b = static_cast<const char*>(begin);
        const size_t n = std::min<size_t>(kDecodeFarPrefetch, static_cast<size_t>(static_cast<const char*>(end) - b));
        for (size_t o = 0; o < n; o += 64) {
            if (o < kDecodeNearPrefetch) __builtin_prefetch(b + o, 0, 3);
            else __builtin_prefetch(b + o, 0, 2);
        }
    }

private:
    uintptr_t next_ = 0;
};

inline void prefetch_decode_row(const uint8_t* wr, size_t row_bytes) { DecodePrefetch(wr).through(wr + row_bytes); }

// NR weight rows row_bytes apart, as blocks, each with the DecodePrefetch that walks it.
template <class Block, int NR>
struct WeightRows {
    const Block* row[NR];
    DecodePrefetch prefetch[NR];
    WeightRows(const uint8_t* w, size_t row_bytes) {
        for (int r = 0; r < NR; ++r) {
            row[r] = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * row_bytes);
            prefetch[r] = DecodePrefetch(row[r]);
        }
    }
};

// One token against n_units units (rows, or panels of rows) unit_bytes apart, read
// as kS streams (see kDecodeStreams, cpu_kernels.h): the units split into kS equal
// ranges, and step(Streams<kS>{}, i, L) works on unit i of every range at once (units
// i, i + L, …, i + (kS − 1)·L), block by block. The few units past the last whole
// share go side by side too, step(Streams<n>{}, first, 1) with n < kS, rather than one
// after another as a single stream. Each range's first lines are asked for before it
// starts (DecodePrefetch::warm), as nothing prefetched them.
template <int N>
using Streams = std::integral_constant<int, N>;

template <int kS, class Step>
void decode_rest_in_streams(int64_t rest, int64_t first, Step& step) {
    if constexpr (kS > 0) {
        if (rest == kS) step(Streams<kS>{}, first, 1);
        else decode_rest_in_streams<kS - 1>(rest, first, step);
    }
}

template <int kS, class Step>
void decode_in_streams(const uint8_t* w, size_t unit_bytes, int64_t n_units, Step&& step) {
    const int64_t L = n_units / kS;
    const auto unit = [&](int64_t u) { return w + static_cast<size_t>(u) * unit_bytes; };
    if (L > 0) {
        for (int s = 0; s < kS; ++s) DecodePrefetch::warm(unit(s * L), unit((s + 1) * L));
        for (int64_t i = 0; i < L; ++i) step(Streams<kS>{}, i, L);
    }
    const int64_t first = kS * L;
    if (first < n_units) {
        DecodePrefetch::warm(unit(first), unit(n_units));
        decode_rest_in_streams<kS - 1>(n_units - first, first, step);
    }
}

// One token against kS rows of separate streams, stream_bytes apart: y[s · y_stream] =
// row s · x. A kernel's own decode_streams where it has one, else its rows<NR, NT,
// kPrefetch>(w, row_bytes, x, x_stride, y, y_stride, y_row, n) with one token and its
// prefetch on.
template <class K, int kS>
void decode_streams(const uint8_t* w, size_t stream_bytes, const uint8_t* x, float* y, int64_t y_stream, int64_t n) {
    if constexpr (requires { K::template decode_streams<kS>; }) {
        K::template decode_streams<kS>(w, stream_bytes, x, y, y_stream, n);
    } else {
        K::template rows<kS, 1, true>(w, stream_bytes, x, 0, y, 0, y_stream, n);
    }
}

template <class K>
void decode_rows(const uint8_t* wb, size_t row_bytes, int64_t n_rows, const uint8_t* x, size_t x_stride,
                 int64_t n_tokens, float* y, int64_t y_stride, int64_t n) {
    if constexpr (requires { K::kStreams; }) {
        // One token, and a kernel that reads several rows side by side (K::kStreams, see
        // decode_in_streams) and prefetches as it goes (see DecodePrefetch); some want the
        // activations re-laid first, once per call (per range of rows a thread takes:
        // 1.25 bytes per column, from cache), then every row of the range reads them.
        if (n_tokens == 1) {
            const uint8_t* xd = x;
            if constexpr (requires { typename K::DecodeX; }) {
                thread_local std::vector<typename K::DecodeX> xs;
                K::prepare_decode(x, n, xs);
                xd = reinterpret_cast<const uint8_t*>(xs.data());
            }
            decode_in_streams<K::kStreams>(
                wb, row_bytes, n_rows,
                [&](auto streams, int64_t i, int64_t L) {
                    decode_streams<K, decltype(streams)::value>(wb + static_cast<size_t>(i) * row_bytes,
                                                                static_cast<size_t>(L) * row_bytes, xd, y + i, L, n);
                });
            return;
        }
    }
    for (int64_t r = 0; r < n_rows; ++r) {
        const uint8_t* wr = wb + static_cast<size_t>(r) * row_bytes;
        prefetch_decode_row(wr, row_bytes);
        row_tokens<K>(wr, x, x_stride, n_tokens, y + r, y_stride, n);
    }
}

// Weight rows per register tile: K::kRows where the kernel has one (its rows<NR, …>).
template <class K>
constexpr int register_rows_of() {
    if constexpr (requires { K::kRows; }) return K::kRows;
    else return 1;
}

// Rows in blocks small enough to stay in L1/L2 while each tile of tokens (whose
// activations then come from L1) runs over every row of the block.
template <class K>
void gemm(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride, int64_t n_tokens, float* y,
          int64_t y_stride, int64_t n) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* xb = static_cast<const uint8_t*>(x);
    if (n_tokens < kTile) {
        decode_rows<K>(wb, row_bytes, n_rows, xb, x_stride, n_tokens, y, y_stride, n);
        return;
    }
    constexpr int NR = register_rows_of<K>();
    int64_t block = std::max<int64_t>(1, static_cast<int64_t>((16u << 10) / std::max<size_t>(row_bytes, 1)));
    block = std::max<int64_t>(NR, block / NR * NR);
    for (int64_t r0 = 0; r0 < n_rows; r0 += block) {
        const int64_t r1 = std::min(n_rows, r0 + block);
        int64_t t = 0;
        for (; t + kTile <= n_tokens; t += kTile) {
            int64_t r = r0;
            if constexpr (NR > 1) {
                for (; r + NR <= r1; r += NR) {
                    K::template rows<NR, kTile, false>(wb + static_cast<size_t>(r) * row_bytes, row_bytes, xb + t * x_stride,
                                                       x_stride, y + t * y_stride + r, y_stride, 1, n);
                }
            }
            for (; r < r1; ++r) {
                K::template tile<kTile>(wb + static_cast<size_t>(r) * row_bytes, xb + t * x_stride, x_stride,
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

}  // namespace
}  // namespace hearth::kernels::HEARTH_ISA_NS
