// Prefill attention on AVX-512 (attend_rows, see cpu_kernels.h). Compiled only for
// the avx512 table; the other tables use the backend's per-row loop.
//
// The rows of one call share their keys and values, so the query rows go into the
// 32 lanes of two vectors (transposed, pre-scaled): each key's scores for all rows
// are head_dim broadcast FMAs with no horizontal sums, the softmax runs down the
// lanes, and each value row is converted once per group of output rows.
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
static_assert(R == 32);

// e^x for x <= 0 (Cephes expf: range reduction by ln 2, degree-6 polynomial),
// exactly 0 below -87 where the true value is denormal.
inline __m512 exp_nonpositive(__m512 x) {
    const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(~tiny), _mm512_scalef_ps(p, n));
}

template <bool kF16>
inline __m512 load16(const uint8_t* row, int i) {
    if constexpr (kF16) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row) + i));
    } else {
        return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + 16 * i);
    }
}

// NV vectors of 16 per head row.
template <int NV, bool kF16>
void attend(const AttendRows& a, float* scratch) {
    constexpr int HD = 16 * NV;
    const int M = a.n_rows;
    int max_pos = 0;
    for (int m = 0; m < M; ++m) max_pos = std::max(max_pos, a.pos[m]);
    const int64_t n_keys = max_pos + 1;
    float* qt = scratch;             // HD × R: qt[d·R + m] = scale · q[m][d]
    float* S = qt + HD * R;          // n_keys × R scores, then probabilities
    float* inv_sum = S + n_keys * R;  // R

    for (int d = 0; d < HD; ++d) {
        for (int m = 0; m < R; ++m) qt[d * R + m] = m < M ? a.q[m][d] * a.scale : 0.0f;
    }
    alignas(64) int32_t pos[R];
    for (int m = 0; m < R; ++m) pos[m] = m < M ? a.pos[m] : max_pos;  // spare lanes: harmless finite rows
    const __m512i pos0 = _mm512_load_si512(pos), pos1 = _mm512_load_si512(pos + 16);
    const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
    __m512 mx0 = neg_inf, mx1 = neg_inf;

    // Scores, four keys per step so each pair of query vectors loaded feeds 8 FMAs.
    auto finish_key = [&](int64_t j, __m512 s0, __m512 s1) {
        const __m512i jv = _mm512_set1_epi32(static_cast<int32_t>(j));
        s0 = _mm512_mask_mov_ps(s0, _mm512_cmpgt_epi32_mask(jv, pos0), neg_inf);
        s1 = _mm512_mask_mov_ps(s1, _mm512_cmpgt_epi32_mask(jv, pos1), neg_inf);
        _mm512_storeu_ps(S + j * R, s0);
        _mm512_storeu_ps(S + j * R + 16, s1);
        mx0 = _mm512_max_ps(mx0, s0);
        mx1 = _mm512_max_ps(mx1, s1);
    };
    int64_t j = 0;
    alignas(64) float kb[4][HD];
    for (; j + 4 <= n_keys; j += 4) {
        for (int u = 0; u < 4; ++u) {
            const uint8_t* kr = a.k + static_cast<size_t>(j + u) * a.kv_stride;
            for (int i = 0; i < NV; ++i) _mm512_store_ps(kb[u] + 16 * i, load16<kF16>(kr, i));
        }
        __m512 acc[4][2];
        for (int u = 0; u < 4; ++u) acc[u][0] = acc[u][1] = _mm512_setzero_ps();
        for (int d = 0; d < HD; ++d) {
            const __m512 q0 = _mm512_loadu_ps(qt + d * R), q1 = _mm512_loadu_ps(qt + d * R + 16);
            for (int u = 0; u < 4; ++u) {
                const __m512 b = _mm512_set1_ps(kb[u][d]);
                acc[u][0] = _mm512_fmadd_ps(b, q0, acc[u][0]);
                acc[u][1] = _mm512_fmadd_ps(b, q1, acc[u][1]);
            }
        }
        for (int u = 0; u < 4; ++u) finish_key(j + u, acc[u][0], acc[u][1]);
    }
    for (; j < n_keys; ++j) {
        const uint8_t* kr = a.k + static_cast<size_t>(j) * a.kv_stride;
        for (int i = 0; i < NV; ++i) _mm512_store_ps(kb[0] + 16 * i, load16<kF16>(kr, i));
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        for (int d = 0; d < HD; ++d) {
            const __m512 b = _mm512_set1_ps(kb[0][d]);
            s0 = _mm512_fmadd_ps(b, _mm512_loadu_ps(qt + d * R), s0);
            s1 = _mm512_fmadd_ps(b, _mm512_loadu_ps(qt + d * R + 16), s1);
        }
        finish_key(j, s0, s1);
    }

    // Softmax down the lanes; masked scores become exactly 0.
    __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
    for (j = 0; j < n_keys; ++j) {
        const __m512 e0 = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(S + j * R), mx0));
        const __m512 e1 = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(S + j * R + 16), mx1));
        _mm512_storeu_ps(S + j * R, e0);
        _mm512_storeu_ps(S + j * R + 16, e1);
        sum0 = _mm512_add_ps(sum0, e0);
        sum1 = _mm512_add_ps(sum1, e1);
    }
    _mm512_storeu_ps(inv_sum, _mm512_div_ps(_mm512_set1_ps(1.0f), sum0));
    _mm512_storeu_ps(inv_sum + 16, _mm512_div_ps(_mm512_set1_ps(1.0f), sum1));

    // Outputs, RB rows at a time so their accumulators and one value row fit in registers.
    constexpr int RB = NV >= 8 ? 2 : 16 / NV;
    for (int m0 = 0; m0 < M; m0 += RB) {
        const int rb = std::min(RB, M - m0);
        int last = 0;
        for (int r = 0; r < rb; ++r) last = std::max(last, a.pos[m0 + r]);
        __m512 acc[RB][NV];
        for (int r = 0; r < RB; ++r) {
            for (int i = 0; i < NV; ++i) acc[r][i] = _mm512_setzero_ps();
        }
        for (int64_t jj = 0; jj <= last; ++jj) {
            const uint8_t* vr = a.v + static_cast<size_t>(jj) * a.kv_stride;
            __m512 vv[NV];
            for (int i = 0; i < NV; ++i) vv[i] = load16<kF16>(vr, i);
            const float* p = S + jj * R + m0;
            for (int r = 0; r < RB; ++r) {
                const __m512 pb = _mm512_set1_ps(p[r]);
                for (int i = 0; i < NV; ++i) acc[r][i] = _mm512_fmadd_ps(pb, vv[i], acc[r][i]);
            }
        }
        for (int r = 0; r < rb; ++r) {
            const __m512 s = _mm512_set1_ps(inv_sum[m0 + r]);
            for (int i = 0; i < NV; ++i) _mm512_storeu_ps(a.out[m0 + r] + 16 * i, _mm512_mul_ps(acc[r][i], s));
        }
    }
}

void attend_rows(const AttendRows& a, float* scratch) {
    if (a.n_rows <= 0 || a.n_rows > R) return;
    if (a.head_dim == 64) a.f16 ? attend<4, true>(a, scratch) : attend<4, false>(a, scratch);
    else if (a.head_dim == 128) a.f16 ? attend<8, true>(a, scratch) : attend<8, false>(a, scratch);
}

}  // namespace

void add_attention_kernels(CpuKernels& k) { k.attend_rows = attend_rows; }

}  // namespace hearth::kernels::HEARTH_ISA_NS
