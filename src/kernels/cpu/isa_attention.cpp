// Prefill attention (attend_rows, see cpu_kernels.h) for the AVX2 and AVX-512 tables;
// the generic table uses the backend's per-row loop.
//
// The rows of one call share their keys and values, so the query rows go into the
// lanes of R / W vectors (transposed, pre-scaled): each key's scores for all rows
// are head_dim broadcast FMAs with no horizontal sums, the softmax runs down the
// lanes, and each value vector is converted once per group of output rows. Vec
// holds what differs between the two widths; the arithmetic of every output element
// is the same on both.
#include <algorithm>
#include <cmath>
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"

#ifndef HEARTH_ISA_NS
#error "HEARTH_ISA_NS must name the instruction set this file is compiled for"
#endif

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

constexpr int R = kAttendRows;

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
constexpr int NQ = R / W;  // vectors per column of R rows

// e^x for x <= 0 (Cephes expf: range reduction by ln 2, degree-6 polynomial),
// exactly 0 below -87 where the true value is denormal.
inline V exp_nonpositive(V x0) {
    const V x = Vec::max(x0, Vec::set1(-87.0f));
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

template <bool kF16>
inline V load_kv(const uint8_t* row, int i) {
    if constexpr (kF16) return Vec::f16(reinterpret_cast<const uint16_t*>(row) + W * i);
    else return Vec::load(reinterpret_cast<const float*>(row) + W * i);
}

// HD values per head row.
template <int HD, bool kF16>
void attend(const AttendRows& a, float* scratch) {
    constexpr int NV = HD / W;
    const int M = a.n_rows;
    int max_pos = 0;
    for (int m = 0; m < M; ++m) max_pos = std::max(max_pos, a.pos[m]);
    const int64_t n_keys = max_pos + 1;
    float* qt = scratch;              // HD × R: qt[d·R + m] = scale · q[m][d]
    float* S = qt + HD * R;           // n_keys × R scores, then probabilities
    float* inv_sum = S + n_keys * R;  // R

    for (int d = 0; d < HD; ++d) {
        for (int m = 0; m < R; ++m) qt[d * R + m] = m < M ? a.q[m][d] * a.scale : 0.0f;
    }
    alignas(64) int32_t pos[R];
    for (int m = 0; m < R; ++m) pos[m] = m < M ? a.pos[m] : max_pos;  // spare lanes: harmless finite rows
    V mx[NQ];
    for (int c = 0; c < NQ; ++c) mx[c] = Vec::set1(-INFINITY);

    // Scores, KU keys per step so each query vector loaded feeds KU FMAs (8 accumulators).
    constexpr int KU = 8 / NQ;
    auto finish_key = [&](int64_t j, V* s) {
        for (int c = 0; c < NQ; ++c) {
            const V v = Vec::mask_future(s[c], static_cast<int32_t>(j), pos + W * c);
            Vec::store(S + j * R + W * c, v);
            mx[c] = Vec::max(mx[c], v);
        }
    };
    alignas(64) float kb[KU][HD];
    int64_t j = 0;
    for (; j < n_keys; j += KU) {
        const int ku = static_cast<int>(std::min<int64_t>(KU, n_keys - j));
        for (int u = 0; u < ku; ++u) {
            const uint8_t* kr = a.k + static_cast<size_t>(j + u) * a.kv_stride;
            for (int i = 0; i < NV; ++i) Vec::store(kb[u] + W * i, load_kv<kF16>(kr, i));
        }
        V acc[KU][NQ];
        for (int u = 0; u < KU; ++u) {
            for (int c = 0; c < NQ; ++c) acc[u][c] = Vec::zero();
        }
        if (ku == KU) {
            for (int d = 0; d < HD; ++d) {
                V q[NQ];
                for (int c = 0; c < NQ; ++c) q[c] = Vec::load(qt + d * R + W * c);
                for (int u = 0; u < KU; ++u) {
                    const V b = Vec::set1(kb[u][d]);
                    for (int c = 0; c < NQ; ++c) acc[u][c] = Vec::fma(b, q[c], acc[u][c]);
                }
            }
        } else {
            for (int u = 0; u < ku; ++u) {
                for (int d = 0; d < HD; ++d) {
                    const V b = Vec::set1(kb[u][d]);
                    for (int c = 0; c < NQ; ++c) acc[u][c] = Vec::fma(b, Vec::load(qt + d * R + W * c), acc[u][c]);
                }
            }
        }
        for (int u = 0; u < ku; ++u) finish_key(j + u, acc[u]);
    }

    // Softmax down the lanes; masked scores become exactly 0.
    V sum[NQ];
    for (int c = 0; c < NQ; ++c) sum[c] = Vec::zero();
    for (j = 0; j < n_keys; ++j) {
        for (int c = 0; c < NQ; ++c) {
            const V e = exp_nonpositive(Vec::sub(Vec::load(S + j * R + W * c), mx[c]));
            Vec::store(S + j * R + W * c, e);
            sum[c] = Vec::add(sum[c], e);
        }
    }
    for (int c = 0; c < NQ; ++c) Vec::store(inv_sum + W * c, Vec::div(Vec::set1(1.0f), sum[c]));

    // Outputs, RB rows × CB vectors at a time so their accumulators and the value
    // vectors fit in registers (32 on AVX-512, 16 on AVX2).
    constexpr int CB = W == 16 ? NV : 4;
    constexpr int RB = W == 16 ? (NV >= 8 ? 2 : 16 / NV) : 3;
    for (int m0 = 0; m0 < M; m0 += RB) {
        const int rb = std::min(RB, M - m0);
        int last = 0;
        for (int r = 0; r < rb; ++r) last = std::max(last, a.pos[m0 + r]);
        for (int c0 = 0; c0 < NV; c0 += CB) {
            V acc[RB][CB];
            for (int r = 0; r < RB; ++r) {
                for (int i = 0; i < CB; ++i) acc[r][i] = Vec::zero();
            }
            for (int64_t jj = 0; jj <= last; ++jj) {
                const uint8_t* vr = a.v + static_cast<size_t>(jj) * a.kv_stride;
                V vv[CB];
                for (int i = 0; i < CB; ++i) vv[i] = load_kv<kF16>(vr, c0 + i);
                const float* p = S + jj * R + m0;
                for (int r = 0; r < RB; ++r) {
                    const V pb = Vec::set1(p[r]);
                    for (int i = 0; i < CB; ++i) acc[r][i] = Vec::fma(pb, vv[i], acc[r][i]);
                }
            }
            for (int r = 0; r < rb; ++r) {
                const V s = Vec::set1(inv_sum[m0 + r]);
                for (int i = 0; i < CB; ++i) Vec::store(a.out[m0 + r] + W * (c0 + i), Vec::mul(acc[r][i], s));
            }
        }
    }
}

void attend_rows(const AttendRows& a, float* scratch) {
    if (a.n_rows <= 0 || a.n_rows > R) return;
    if (a.head_dim == 64) a.f16 ? attend<64, true>(a, scratch) : attend<64, false>(a, scratch);
    else if (a.head_dim == 128) a.f16 ? attend<128, true>(a, scratch) : attend<128, false>(a, scratch);
}

}  // namespace

void add_attention_kernels(CpuKernels& k) { k.attend_rows = attend_rows; }

}  // namespace hearth::kernels::HEARTH_ISA_NS
