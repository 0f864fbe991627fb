// Row panels: the prefill kernels of the AVX-512 VNNI table for Q8_0, Q4_0 and the
// k-quants. Included only by the per-ISA matmul files after isa_gemm_common.h;
// defines HEARTH_ROW_PANELS where the ISA has them.
//
// The one-row tiles spend one or two integer ops per 64 products plus a rescale for
// every (row, token) pair. Here a panel of kPanelRows weight rows is repacked once
// per call so that int32 lane r of every vector belongs to row r: vector g of a
// 256-column unit holds elements 4g..4g+3 of each row, and one vpdpbusd against a
// token's 4 activations broadcast to all lanes does 64 products. Block sums are
// then scaled in float for the 16 rows at once. The tiles of a format (struct P)
// define the panel layout (P::kBytes per unit, P::pack), how a token's activations
// are interleaved (P::interleave into TokenBlock) and the arithmetic (P::tile<NT>).
#pragma once

#include <vector>

#include "kernels/cpu/isa_gemm_common.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define HEARTH_ROW_PANELS 1

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

constexpr int kPanelRows = 16;
static_assert(kGemmRowAlign % kPanelRows == 0);
constexpr int kPanelTokens = 8;  // token accumulators per tile: 3 × 8 of the 32 registers
// Packing a panel costs about as much as 8-16 tokens of products, so below this
// count the one-row tiles win (bench_matmul batch8/batch12 on Zen 4: 1.5-1.9x).
constexpr int64_t kPanelMinTokens = 16;

struct alignas(64) Line {
    uint8_t b[64];
};

// One 256-column unit of the activations of kPanelTokens tokens, interleaved so that a
// tile reads all its tokens at fixed offsets from one pointer: q[g][t] holds token
// t's quants 4g..4g+3, terms[j][t] its per-sub-block term (see the panels), d[t] its
// scale. Slots past the last token are zero and never read.
template <class Term>
struct alignas(64) TokenBlock {
    int32_t q[kQK_K / 4][kPanelTokens];
    Term terms[16][kPanelTokens];
    float d[kPanelTokens];
};

// 16 rows' unpacked quants (256 bytes each, in element order, signed or not) to 64 vectors whose
// lane r holds row r's elements 4g..4g+3.
inline void transpose_panel(const uint8_t* rows, uint8_t* dst) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi32(kQK_K / 4));
    for (int g = 0; g < kQK_K / 4; ++g) {
        _mm512_store_si512(dst + 64 * g, _mm512_i32gather_epi32(idx, rows + 4 * g, 4));
    }
}

// The last n_tokens % kPanelTokens tokens of a panel.
template <class P, int NT>
void panel_tail(int left, const uint8_t* panel, int64_t nb, const TokenBlock<typename P::Term>* xs, float* y,
                int64_t y_stride) {
    if constexpr (NT > 0) {
        if (left == NT) P::template tile<NT>(panel, nb, xs, y, y_stride);
        else panel_tail<P, NT - 1>(left, panel, nb, xs, y, y_stride);
    }
}

// A GemmFn (see cpu_kernels.h): full panels of kPanelRows rows, counted from the
// first row so that a row's arithmetic depends only on its index and not on how
// matmul() split rows between threads (in multiples of kGemmRowAlign), then the
// remaining rows with K's one-row tiles. Fewer than kPanelMinTokens tokens, and widths
// that are not whole 256-column units, keep K's tiles throughout.
template <class P, class K>
void gemm_panels(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride, int64_t n_tokens,
                 float* y, int64_t y_stride, int64_t n) {
    if (n_tokens < kPanelMinTokens || n_rows < kPanelRows || n % kQK_K != 0) {
        gemm<K>(w, row_bytes, n_rows, x, x_stride, n_tokens, y, y_stride, n);
        return;
    }
    using TB = TokenBlock<typename P::Term>;
    const auto* wb = static_cast<const uint8_t*>(w);
    const int64_t nb = n / kQK_K;  // panel units of 256 columns
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
