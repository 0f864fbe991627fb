// Reading one unit (16 rows × 256 columns) of the Q4_K panels of q4_k_panels.h on
// AVX-512: shared by the panel kernels (isa_q4_k_panels.cpp) and the prefill row
// panels packed from them (isa_dot_kquant.cpp). Included only by per-ISA files.
#pragma once

#include "kernels/cpu/isa_gemm_common.h"
#include "kernels/cpu/q4_k_panels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

// A unit's scales and mins as bytes, sub-block j of row r at [16j + r].
struct alignas(64) UnitScales {
    uint8_t sc[128];
    uint8_t mn[128];
};

// The 12 packed bytes of 16 rows to 8 scales and 8 mins each (k_scales for 16 rows):
// j < 4 are the low 6 bits of bytes j and j + 4; j ≥ 4 take their low 4 bits from byte
// j + 4 and their top 2 from the top bits of bytes j - 4 (scales) and j (mins).
inline void unit_scales(const uint8_t* u, UnitScales& s) {
    constexpr int kSelect = 0xE4;  // c ? a : b, bit by bit
    const __m512i b0_3 = _mm512_loadu_si512(u + kQ4KPanelScales), b4_7 = _mm512_loadu_si512(u + kQ4KPanelScales + 64),
                  b8_11 = _mm512_loadu_si512(u + kQ4KPanelScales + 128);
    const __m512i m6 = _mm512_set1_epi8(0x3F), m4 = _mm512_set1_epi8(0x0F);
    _mm512_store_si512(s.sc, _mm512_and_si512(b0_3, m6));
    _mm512_store_si512(s.mn, _mm512_and_si512(b4_7, m6));
    _mm512_store_si512(s.sc + 64, _mm512_and_si512(_mm512_ternarylogic_epi32(b8_11, _mm512_srli_epi16(b0_3, 2), m4, kSelect), m6));
    _mm512_store_si512(s.mn + 64, _mm512_and_si512(
        _mm512_ternarylogic_epi32(_mm512_srli_epi16(b8_11, 4), _mm512_srli_epi16(b4_7, 2), m4, kSelect), m6));
}

}  // namespace
// The prefill of Q4_K panels (isa_dot_kquant.cpp): n_tokens ≥ kPanelPrefillTokens,
// arguments as GemmFn.
void gemm_q4_k_panel_prefill(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride,
                             int64_t n_tokens, float* y, int64_t y_stride, int64_t n);
inline constexpr int64_t kPanelPrefillTokens = 32;
}  // namespace hearth::kernels::HEARTH_ISA_NS
#endif
