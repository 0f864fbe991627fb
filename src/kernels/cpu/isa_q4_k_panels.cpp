// The matmul of Q4_K weights laid out in 16-row panels (q4_k_panels.h) against Q8_K
// activations, on AVX-512 VNNI: add_q4_k_panel_kernels() is the only symbol outside
// the anonymous namespace, and it adds nothing where the ISA lacks those instructions.
//
// Per panel unit (16 rows × 256 columns) and token: 64 vpdpbusd of one vector of
// nibbles against 4 activations broadcast to every lane, and per 32-column sub-block a
// float scale and min for all 16 rows. About 15 vector ops per row-block, where the
// one-row kernel spends 33.
#include "kernels/cpu/isa_q4_k_unit.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

inline __m512i broadcast32(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// Rows of NP panels (panel_bytes apart) against NT tokens: y[t · y_stride + p · y_panel
// + r]. A token's arithmetic is that of the prefill panels (PanelQ45 packed by
// PanelQ4FromPanels, whose float operations it repeats in the same order), so its result
// is the same bit for bit whether it is decoded alone, in a tile of up to 8, or in a
// prefill, and whatever NP is. The high nibbles are taken in place (16 × the quant)
// against a scale of d·sc / 16; 16 and 1/16 are powers of two, so the products round
// exactly as the prefill's do. With `prefetch` the panels' lines are asked for as the
// loop reaches them (DecodePrefetch, one per panel): the first tile over a panel is the
// one that brings it from memory. One token takes NP ≤ kDecodeStreams panels of separate
// streams (see decode_in_streams), more tokens one panel.
template <int NP, int NT>
void panel_tile(const uint8_t* panel, size_t panel_bytes, int64_t nb, const uint8_t* x, size_t x_stride, float* y,
                int64_t y_stride, int64_t y_panel, bool prefetch) {
    const BlockQ8_K* a[NT];
    for (int t = 0; t < NT; ++t) a[t] = act_block<BlockQ8_K>(x, x_stride, t);
    const __m512i nibble[2] = {_mm512_set1_epi8(0x0F), _mm512_set1_epi8(static_cast<char>(0xF0))};
    WeightRows<uint8_t, NP> panels_of(panel, panel_bytes);
    const auto& panels = panels_of.row;
    auto& fetch = panels_of.prefetch;
    __m512 acc[NP][NT];
    for (int p = 0; p < NP; ++p) {
        for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_setzero_ps();
    }
    alignas(64) float dsc[NP][8][kQ4KPanelRows], dmm[NP][8][kQ4KPanelRows];
    alignas(32) float terms[NT][8];
    for (int64_t i = 0; i < nb; ++i) {
        // Σa of each sub-block: the sums of its two 16-groups.
        for (int t = 0; t < NT; ++t) {
            _mm256_store_ps(terms[t], _mm256_cvtepi32_ps(_mm256_madd_epi16(loadu256(a[t][i].bsums), _mm256_set1_epi16(1))));
        }
        const uint8_t* u[NP];
        __m512 f[NP][NT];
        for (int p = 0; p < NP; ++p) {
            u[p] = panels[p] + static_cast<size_t>(i) * kQ4KPanelUnit;
            unit_float_scales(u[p], 1.0f / 16, dsc[p][0], dmm[p][0]);
            for (int t = 0; t < NT; ++t) f[p][t] = _mm512_setzero_ps();
        }
        if constexpr (NT == 1) {
            // One token (the decode streams): each vector is loaded once for both of its
            // nibbles, and 2·NP sums run side by side, none waiting on its own previous
            // vpdpbusd (Xeon, matmul time of a tg run, calls alternating with the loop
            // below: -3 to -4% on Qwen3-0.6B-shape Q4_K_M, 1 and 2 threads).
            for (int c = 0; c < 4; ++c) {  // sub-blocks 2c (low nibbles) and 2c + 1 (high) of vectors 8c + k
                if (prefetch) {
                    for (int p = 0; p < NP; ++p) fetch[p].through(u[p] + (c + 1) * (kQ4KPanelUnit / 4));
                }
                __m512i s[2][NP];
                for (int p = 0; p < NP; ++p) s[0][p] = s[1][p] = _mm512_setzero_si512();
                for (int k = 0; k < 8; ++k) {
                    const __m512i lo = broadcast32(a[0][i].qs + 64 * c + 4 * k), hi = broadcast32(a[0][i].qs + 64 * c + 32 + 4 * k);
#pragma GCC unroll 4
                    for (int p = 0; p < NP; ++p) {
                        const __m512i v = _mm512_loadu_si512(u[p] + 64 * (8 * c + k));
                        s[0][p] = _mm512_dpbusd_epi32(s[0][p], _mm512_and_si512(v, nibble[0]), lo);
                        s[1][p] = _mm512_dpbusd_epi32(s[1][p], _mm512_and_si512(v, nibble[1]), hi);
                    }
                }
                for (int h = 0; h < 2; ++h) {
                    const int j = 2 * c + h;
                    for (int p = 0; p < NP; ++p) {
                        f[p][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[h][p]), _mm512_load_ps(dsc[p][j]), f[p][0]);
                        f[p][0] = _mm512_fnmadd_ps(_mm512_load_ps(dmm[p][j]), _mm512_set1_ps(terms[0][j]), f[p][0]);
                    }
                }
            }
        } else {  // up to 8 tokens: their accumulators fill the registers
            for (int j = 0; j < 8; ++j) {  // sub-block j: nibbles (j % 2) of vectors 8c + k
                const int c = j / 2, h = j % 2;
                for (int p = 0; p < NP; ++p) {
                    if (prefetch && h == 0) fetch[p].through(u[p] + (c + 1) * (kQ4KPanelUnit / 4));
                    __m512i sj[NT];
                    for (int t = 0; t < NT; ++t) sj[t] = _mm512_setzero_si512();
                    for (int k = 0; k < 8; ++k) {
                        const __m512i q = _mm512_and_si512(_mm512_loadu_si512(u[p] + 64 * (8 * c + k)), nibble[h]);
                        for (int t = 0; t < NT; ++t) sj[t] = _mm512_dpbusd_epi32(sj[t], q, broadcast32(a[t][i].qs + 64 * c + 32 * h + 4 * k));
                    }
                    const __m512 dv = _mm512_load_ps(dsc[p][j]), mv = _mm512_load_ps(dmm[p][j]);
                    for (int t = 0; t < NT; ++t) {
                        f[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sj[t]), dv, f[p][t]);
                        f[p][t] = _mm512_fnmadd_ps(mv, _mm512_set1_ps(terms[t][j]), f[p][t]);
                    }
                }
            }
        }
        for (int p = 0; p < NP; ++p) {
            for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_fmadd_ps(f[p][t], _mm512_set1_ps(a[t][i].d), acc[p][t]);
        }
    }
    for (int p = 0; p < NP; ++p) {
        for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride + p * y_panel, acc[p][t]);
    }
}

template <int NT>
void panel_tail(int left, const uint8_t* panel, int64_t nb, const uint8_t* x, size_t x_stride, float* y,
                int64_t y_stride, bool prefetch) {
    if constexpr (NT > 0) {
        if (left == NT) panel_tile<1, NT>(panel, 0, nb, x, x_stride, y, y_stride, 0, prefetch);
        else panel_tail<NT - 1>(left, panel, nb, x, x_stride, y, y_stride, prefetch);
    }
}

// A GemmFn over panels: w is the panel of the range's first row (a multiple of 16, as
// matmul() splits rows), n_rows a multiple of 16.
void gemm_q4_k_panels(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride, int64_t n_tokens,
                      float* y, int64_t y_stride, int64_t n) {
    if (n_tokens >= kPanelPrefillTokens) {
        gemm_q4_k_panel_prefill(w, row_bytes, n_rows, x, x_stride, n_tokens, y, y_stride, n);
        return;
    }
    constexpr int kTokens = 8;  // 3 × 8 accumulators of the 32 registers
    const int64_t nb = n / kQK_K;
    const auto* xb = static_cast<const uint8_t*>(x);
    const auto* wb = static_cast<const uint8_t*>(w);
    const size_t panel_bytes = kQ4KPanelRows * row_bytes;
    if (n_tokens == 1) {
        decode_in_streams<kDecodeStreams>(
            wb, panel_bytes, n_rows / kQ4KPanelRows,
            [&](auto streams, int64_t i, int64_t L) {
                panel_tile<decltype(streams)::value, 1>(wb + static_cast<size_t>(i) * panel_bytes,
                                                        static_cast<size_t>(L) * panel_bytes, nb, xb, x_stride,
                                                        y + kQ4KPanelRows * i, y_stride, kQ4KPanelRows * L, true);
            });
        return;
    }
    DecodePrefetch::warm(w, wb + static_cast<size_t>(n_rows) * row_bytes);
    for (int64_t r = 0; r < n_rows; r += kQ4KPanelRows) {
        const uint8_t* panel = wb + static_cast<size_t>(r) * row_bytes;
        int64_t t = 0;
        for (; t + kTokens <= n_tokens; t += kTokens) {
            panel_tile<1, kTokens>(panel, 0, nb, xb + t * x_stride, x_stride, y + t * y_stride + r, y_stride, 0, t == 0);
        }
        panel_tail<kTokens - 1>(static_cast<int>(n_tokens - t), panel, nb, xb + t * x_stride, x_stride,
                                y + t * y_stride + r, y_stride, t == 0);
    }
}

}  // namespace

void add_q4_k_panel_kernels(CpuKernels& k) { k.gemm_q4_k_panels = gemm_q4_k_panels; }

}  // namespace hearth::kernels::HEARTH_ISA_NS
#else
namespace hearth::kernels::HEARTH_ISA_NS {
void add_q4_k_panel_kernels(CpuKernels&) {}
}  // namespace hearth::kernels::HEARTH_ISA_NS
#endif
