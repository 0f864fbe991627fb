// Row panels: the prefill kernels of the AVX-512 VNNI table (HEARTH_ROW_PANELS) and
// of the AVX2 table (HEARTH_ROW_PANELS8) for Q8_0, Q4_0 and the k-quants, and the
// gemm driver both share. Included only by the per-ISA matmul files after
// isa_gemm_common.h.
//
// The one-row tiles spend one or two integer ops per 64 products plus a rescale for
// every (row, token) pair. Here a panel of kPanelRows weight rows is repacked once
// per call so that int32 lane r of every vector belongs to row r: each vector holds
// 4 consecutive elements of every row, and one vpdpbusd (AVX-512: 16 rows, 64
// products) or maddubs + madd (AVX2: 8 rows, 32 products, plus a sign for signed
// weights) against a token's 4 activations broadcast to all lanes does the products.
// Block sums are then scaled in float for all rows at once. A format's struct P
// defines the unit of columns (P::kCols), the panel layout (P::kBytes per unit,
// P::pack), how a token's activations are interleaved (P::Tokens, P::interleave)
// and the arithmetic (P::tile<NT>).
#pragma once

#include <vector>

#include "kernels/cpu/isa_gemm_common.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define HEARTH_ROW_PANELS 1

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

constexpr int kPanelRows = 16;
constexpr int kPanelTokens = 8;  // token accumulators per tile: 3 × 8 of the 32 registers

// 16 rows' unpacked quants (256 bytes each, in element order, signed or not) to 64 vectors whose
// lane r holds row r's elements 4g..4g+3.
inline void transpose_panel(const uint8_t* rows, uint8_t* dst) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi32(kQK_K / 4));
    for (int g = 0; g < kQK_K / 4; ++g) {
        _mm512_store_si512(dst + 64 * g, _mm512_i32gather_epi32(idx, rows + 4 * g, 4));
    }
}

}  // namespace
}  // namespace hearth::kernels::HEARTH_ISA_NS
#elif defined(__AVX2__)
#define HEARTH_ROW_PANELS8 1

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

constexpr int kPanelRows = 8;
constexpr int kPanelTokens = 4;  // accumulators for 4 tokens leave room in the 16 registers

// v[r] (row r's 8 int32) to v[k] (lane r = row r's int32 k).
inline void transpose8x8_epi32(__m256i v[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
    }
    for (int h = 0; h < 2; ++h) {  // rows 0-3, then 4-7
        const __m256i* a = t + 4 * h;
        u[4 * h + 0] = _mm256_unpacklo_epi64(a[0], a[2]);
        u[4 * h + 1] = _mm256_unpackhi_epi64(a[0], a[2]);
        u[4 * h + 2] = _mm256_unpacklo_epi64(a[1], a[3]);
        u[4 * h + 3] = _mm256_unpackhi_epi64(a[1], a[3]);
    }
    for (int k = 0; k < 4; ++k) {
        v[k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
        v[k + 4] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
    }
}

// 8 rows' unpacked quants (`bytes` each, in element order) to bytes / 4 vectors whose
// lane r holds row r's elements 4g..4g+3.
inline void transpose_panel8(const uint8_t* rows, int bytes, uint8_t* dst) {
    for (int q = 0; q < bytes / 32; ++q) {
        __m256i v[kPanelRows];
        for (int r = 0; r < kPanelRows; ++r) v[r] = _mm256_load_si256(reinterpret_cast<const __m256i*>(rows + bytes * r + 32 * q));
        transpose8x8_epi32(v);
        for (int k = 0; k < 8; ++k) _mm256_store_si256(reinterpret_cast<__m256i*>(dst + 32 * (8 * q + k)), v[k]);
    }
}

}  // namespace
}  // namespace hearth::kernels::HEARTH_ISA_NS
#endif

#if defined(HEARTH_ROW_PANELS) || defined(HEARTH_ROW_PANELS8)
namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

static_assert(kGemmRowAlign % kPanelRows == 0);
// Packing a panel costs about as much as 8-16 tokens of products, so below this
// count the one-row tiles win (bench_matmul batch8/batch12 on Zen 4: 1.5-1.9x).
constexpr int64_t kPanelMinTokens = 16;

struct alignas(64) Line {
    uint8_t b[64];
};

// One 256-column unit (Q8_K super-block) of the activations of kPanelTokens tokens, interleaved so that a
// tile reads all its tokens at fixed offsets from one pointer: q[g][t] holds token
// t's quants 4g..4g+3, terms[j][t] its per-sub-block term (see the panels), d[t] its
// scale. Slots past the last token are zero and never read.
template <class Term>
struct alignas(64) TokenBlock {
    int32_t q[kQK_K / 4][kPanelTokens];
    Term terms[16][kPanelTokens];
    float d[kPanelTokens];
};

// The last n_tokens % kPanelTokens tokens of a panel.
template <class P, int NT>
void panel_tail(int left, const uint8_t* panel, int64_t nb, const typename P::Tokens* xs, float* y, int64_t y_stride) {
    if constexpr (NT > 0) {
        if (left == NT) P::template tile<NT>(panel, nb, xs, y, y_stride);
        else panel_tail<P, NT - 1>(left, panel, nb, xs, y, y_stride);
    }
}

// A GemmFn (see cpu_kernels.h): full panels of kPanelRows rows, counted from the
// first row so that a row's arithmetic depends only on its index and not on how
// matmul() split rows between threads (in multiples of kGemmRowAlign), then the
// remaining rows with K's one-row tiles. Fewer than kPanelMinTokens tokens, and widths
// that are not whole units of P::kCols columns, keep K's tiles throughout.
template <class P, class K>
void gemm_panels(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride, int64_t n_tokens,
                 float* y, int64_t y_stride, int64_t n) {
    if (n_tokens < kPanelMinTokens || n_rows < kPanelRows || n % P::kCols != 0) {
        gemm<K>(w, row_bytes, n_rows, x, x_stride, n_tokens, y, y_stride, n);
        return;
    }
    using TB = typename P::Tokens;
    const auto* wb = static_cast<const uint8_t*>(w);
    const int64_t nb = n / P::kCols;  // panel units
    const int64_t tiles = (n_tokens + kPanelTokens - 1) / kPanelTokens;
    thread_local std::vector<TB> tokens;
    thread_local std::vector<Line> panel;
    tokens.resize(static_cast<size_t>(tiles * nb));
    panel.resize((P::kBytes * static_cast<size_t>(nb) + 63) / 64);
    // Only the last tile can have empty slots.
    std::memset(static_cast<void*>(tokens.data() + (tiles - 1) * nb), 0, sizeof(TB) * static_cast<size_t>(nb));
    for (int64_t t = 0; t < n_tokens; ++t) {
        P::interleave(static_cast<const uint8_t*>(x) + static_cast<size_t>(t) * x_stride, nb,
                      tokens.data() + (t / kPanelTokens) * nb, static_cast<int>(t % kPanelTokens));
    }
    auto* pb = reinterpret_cast<uint8_t*>(panel.data());
    int64_t r = 0;
    for (; r + kPanelRows <= n_rows; r += kPanelRows) {
        P::pack(wb + static_cast<size_t>(r) * row_bytes, row_bytes, nb, pb);
        // The next panel's weights come from memory: fetch them into L2 a slice per
        // tile while this panel computes, so pack() does not wait for DRAM.
        const uint8_t* next = wb + static_cast<size_t>(r + kPanelRows) * row_bytes;
        const size_t next_bytes = r + 2 * kPanelRows <= n_rows ? kPanelRows * row_bytes : 0;
        const size_t slice = (next_bytes / static_cast<size_t>(tiles) + 63) & ~size_t{63};
        size_t fetched = 0;
        int64_t t = 0;
        for (; t + kPanelTokens <= n_tokens; t += kPanelTokens) {
            for (size_t end = std::min(next_bytes, fetched + slice); fetched < end; fetched += 64) {
                _mm_prefetch(reinterpret_cast<const char*>(next + fetched), _MM_HINT_T1);
            }
            P::template tile<kPanelTokens>(pb, nb, tokens.data() + (t / kPanelTokens) * nb, y + t * y_stride + r,
                                           y_stride);
        }
        panel_tail<P, kPanelTokens - 1>(static_cast<int>(n_tokens - t), pb, nb,
                                        tokens.data() + (t / kPanelTokens) * nb, y + t * y_stride + r, y_stride);
    }
    for (; r < n_rows; ++r) {
        row_tokens<K>(wb + static_cast<size_t>(r) * row_bytes, static_cast<const uint8_t*>(x), x_stride, n_tokens,
                      y + r, y_stride, n);
    }
}

}  // namespace
}  // namespace hearth::kernels::HEARTH_ISA_NS
#endif
