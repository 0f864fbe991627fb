// One SIMD width's float vector operations for the kernels that are written once
// for AVX2 and AVX-512 (isa_attention.cpp, isa_kernels.cpp): Vec holds what differs
// between the widths. Elementwise code over it (exp, swiglu, attend_rows) does the
// same arithmetic per element on both; horizontal sums (attend_group) do not.
// Included only by files compiled per ISA: everything here is inline and inside the
// ISA's own namespace, so no copy can stand in for another ISA's at link time.
#pragma once

#if !defined(__AVX2__)
#error "isa_vec.h is for the AVX2 and AVX-512 builds"
#endif

#include <cmath>
#include <cstdint>
#include <immintrin.h>

namespace hearth::kernels::HEARTH_ISA_NS {

#if defined(__AVX512F__)
struct Vec {
    using T = __m512;
    static constexpr int W = 16;
    static T zero() { return _mm512_setzero_ps(); }
    static T set1(float x) { return _mm512_set1_ps(x); }
    static T load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
    static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
    static T max(T a, T b) { return _mm512_max_ps(a, b); }
    static T add(T a, T b) { return _mm512_add_ps(a, b); }
    static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
    static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
    static T div(T a, T b) { return _mm512_div_ps(a, b); }
    static T f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static float hsum(T v) { return _mm512_reduce_add_ps(v); }
    static T neg_abs(T x) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))); }
    // a where x has its sign bit set, else b.
    static T if_negative(T x, T a, T b) { return _mm512_mask_mov_ps(b, _mm512_movepi32_mask(_mm512_castps_si512(x)), a); }
    static float hmax(T v) { return _mm512_reduce_max_ps(v); }
    // s where key j is at or before the row's position (pos: W int32), else −∞.
    static T mask_future(T s, int32_t j, const int32_t* pos) {
        const __mmask16 later = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(j), _mm512_loadu_si512(pos));
        return _mm512_mask_mov_ps(s, later, _mm512_set1_ps(-INFINITY));
    }
    static T round(T x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    // p · 2^n for integral n in [−126, 0].
    static T scale2(T p, T n) { return _mm512_scalef_ps(p, n); }
    static T zero_below(T e, T x, float limit) {
        return _mm512_maskz_mov_ps(static_cast<__mmask16>(~_mm512_cmp_ps_mask(x, set1(limit), _CMP_LT_OQ)), e);
    }
};
#else
struct Vec {
    using T = __m256;
    static constexpr int W = 8;
    static T zero() { return _mm256_setzero_ps(); }
    static T set1(float x) { return _mm256_set1_ps(x); }
    static T load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
    static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
    static T max(T a, T b) { return _mm256_max_ps(a, b); }
    static T add(T a, T b) { return _mm256_add_ps(a, b); }
    static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
    static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
    static T div(T a, T b) { return _mm256_div_ps(a, b); }
    static T f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static T neg_abs(T x) { return _mm256_or_ps(x, _mm256_set1_ps(-0.0f)); }
    static T if_negative(T x, T a, T b) { return _mm256_blendv_ps(b, a, x); }
    static float hsum(T v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static float hmax(T v) {
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static T mask_future(T s, int32_t j, const int32_t* pos) {
        const __m256i later = _mm256_cmpgt_epi32(_mm256_set1_epi32(j), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pos)));
        return _mm256_blendv_ps(s, _mm256_set1_ps(-INFINITY), _mm256_castsi256_ps(later));
    }
    static T round(T x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    // p · 2^n for integral n in [−126, 0]: 2^n built in the exponent field is exact.
    static T scale2(T p, T n) {
        const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    }
    static T zero_below(T e, T x, float limit) {
        return _mm256_andnot_ps(_mm256_cmp_ps(x, set1(limit), _CMP_LT_OQ), e);
    }
};
#endif
using V = Vec::T;
constexpr int W = Vec::W;

// e^x for x <= 0 (Cephes expf: range reduction by ln 2, degree-6 polynomial),
// exactly 0 below -87 where the true value is denormal.
inline V exp_nonpositive(V x0) {
    const V x = Vec::max(Vec::set1(-87.0f), x0);  // max returns its second operand for NaN: NaN stays NaN
    const V n = Vec::round(Vec::mul(x, Vec::set1(1.44269504088896341f)));
    V r = Vec::fma(n, Vec::set1(-0.693359375f), x);
    r = Vec::fma(n, Vec::set1(2.12194440e-4f), r);
    V p = Vec::set1(1.9875691500e-4f);
    p = Vec::fma(p, r, Vec::set1(1.3981999507e-3f));
    p = Vec::fma(p, r, Vec::set1(8.3334519073e-3f));
    p = Vec::fma(p, r, Vec::set1(4.1665795894e-2f));
    p = Vec::fma(p, r, Vec::set1(1.6666665459e-1f));
    p = Vec::fma(p, r, Vec::set1(5.0000001201e-1f));
    p = Vec::fma(p, Vec::mul(r, r), Vec::add(r, Vec::set1(1.0f)));
    return Vec::zero_below(Vec::scale2(p, n), x0, -87.0f);
}

}  // namespace hearth::kernels::HEARTH_ISA_NS
