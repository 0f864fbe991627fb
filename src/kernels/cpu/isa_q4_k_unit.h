// Reading one unit (16 rows × 256 columns) of the Q4_K panels of q4_k_panels.h on
// AVX-512: shared by the panel kernels (isa_q4_k_panels.cpp) and the prefill row
// panels packed from them (isa_dot_kquant.cpp). Included only by per-ISA files.
#pragma once

#include "kernels/cpu/isa_gemm_common.h"
#include "kernels/cpu/q4_k_panels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

// A unit's scales and mins as floats for its 16 rows, sub-block j of row r at [16j + r]:
// dsc = d·sc_j, times `high` for odd j (the sub-blocks in high nibbles), dmm = dmin·m_j.
// The one computation behind both readers of the panels, so their results agree bit for bit.
// The 12 packed bytes give j < 4 from the low 6 bits of bytes j and j + 4; j ≥ 4 take their
// low 4 bits from byte j + 4 and their top 2 from the top bits of bytes j - 4 (scales) and
// j (mins), as k_scales does for one row.
inline void unit_float_scales(const uint8_t* u, float high, float* dsc, float* dmm) {
    constexpr int kSelect = 0xE4;  // c ? a : b, bit by bit
    const __m512i b0_3 = _mm512_loadu_si512(u + kQ4KPanelScales), b4_7 = _mm512_loadu_si512(u + kQ4KPanelScales + 64),
                  b8_11 = _mm512_loadu_si512(u + kQ4KPanelScales + 128);
    const __m512i m6 = _mm512_set1_epi8(0x3F), m4 = _mm512_set1_epi8(0x0F);
    alignas(64) uint8_t sc[128], mn[128];
    _mm512_store_si512(sc, _mm512_and_si512(b0_3, m6));
    _mm512_store_si512(mn, _mm512_and_si512(b4_7, m6));
    _mm512_store_si512(sc + 64, _mm512_and_si512(_mm512_ternarylogic_epi32(b8_11, _mm512_srli_epi16(b0_3, 2), m4, kSelect), m6));
    _mm512_store_si512(mn + 64, _mm512_and_si512(
        _mm512_ternarylogic_epi32(_mm512_srli_epi16(b8_11, 4), _mm512_srli_epi16(b4_7, 2), m4, kSelect), m6));
    const __m512 d = _mm512_cvtph_ps(loadu256(u + kQ4KPanelD)), dmin = _mm512_cvtph_ps(loadu256(u + kQ4KPanelDmin));
    const __m512 dj[2] = {d, _mm512_mul_ps(d, _mm512_set1_ps(high))};
    for (int j = 0; j < 8; ++j) {
        const auto bytes = [&](const uint8_t* b) {
            return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b + 16 * j))));
        };
        _mm512_store_ps(dsc + kQ4KPanelRows * j, _mm512_mul_ps(bytes(sc), dj[j % 2]));
        _mm512_store_ps(dmm + kQ4KPanelRows * j, _mm512_mul_ps(bytes(mn), dmin));
    }
}

}  // namespace
// The prefill of Q4_K panels (isa_dot_kquant.cpp): n_tokens ≥ kPanelPrefillTokens,
// arguments as GemmFn.
void gemm_q4_k_panel_prefill(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride,
                             int64_t n_tokens, float* y, int64_t y_stride, int64_t n);
inline constexpr int64_t kPanelPrefillTokens = 32;
}  // namespace hearth::kernels::HEARTH_ISA_NS
#endif
