// Attention kernels (attend_rows for prefill, attend_group for decode, see
// cpu_kernels.h) for the AVX2 and AVX-512 tables; the generic table uses the
// backend's per-row loop.
//
// The rows of one attend_rows call share their keys and values, so the query rows go into the
// lanes of R / W vectors (transposed, pre-scaled): each key's scores for all rows
// are head_dim broadcast FMAs with no horizontal sums, the softmax runs down the
// lanes, and each value vector is converted once per group of output rows. Vec
// holds what differs between the two widths; attend_rows does the same arithmetic
// per output element on both (attend_group's horizontal sums differ by width).
#include <algorithm>
#include <cmath>
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/isa_vec.h"

#ifndef HEARTH_ISA_NS
#error "HEARTH_ISA_NS must name the instruction set this file is compiled for"
#endif

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

constexpr int R = kAttendRows;
constexpr int NQ = R / W;  // vectors per column of R rows

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

// Decode: the query rows m0..m0+G-1 of one token's GQA group, all at position
// a.pos[0]. Too few rows to fill the lanes, so this is the dot-product form: each
// key row is loaded once for the G rows (one horizontal sum per score), the softmax
// runs along the keys, and each value row is loaded once per block of output
// columns and accumulated into registers, JB keys at a time so that the block's
// values are re-read from L1. S holds G rows of `stride` floats.
template <int HD, bool kF16, int G>
void attend_group_rows(const AttendRows& a, int m0, int64_t n_keys, int64_t stride, float* S) {
    constexpr int NV = HD / W;
    // Output vectors per register block: G·CB accumulators + CB values + 1 broadcast.
    constexpr int CB = std::min(NV, W == 16 ? (G <= 2 ? 8 : 4) : (G <= 2 ? 4 : 2));
    constexpr int JB = 64;
    constexpr int64_t kAhead = 16;  // keys: software prefetch distance (rows are kv_stride apart)
    constexpr int kLines = static_cast<int>(HD * (kF16 ? 2 : 4) / 64);
    const float* q[G];
    float* o[G];
    for (int g = 0; g < G; ++g) q[g] = a.q[m0 + g], o[g] = a.out[m0 + g];

    for (int64_t j = 0; j < n_keys; ++j) {
        const uint8_t* kr = a.k + static_cast<size_t>(j) * a.kv_stride;
        if (j + kAhead < n_keys) {
            // The values too: the second pass then finds them in cache.
            const uint8_t* vr = a.v + static_cast<size_t>(j + kAhead) * a.kv_stride;
            for (int l = 0; l < kLines; ++l) {
                __builtin_prefetch(kr + kAhead * a.kv_stride + 64 * l, 0, 3);
                __builtin_prefetch(vr + 64 * l, 0, 2);
            }
        }
        V acc[G][2];
        for (int g = 0; g < G; ++g) acc[g][0] = acc[g][1] = Vec::zero();
        for (int i = 0; i < NV; ++i) {
            const V kv = load_kv<kF16>(kr, i);
            for (int g = 0; g < G; ++g) acc[g][i & 1] = Vec::fma(kv, Vec::load(q[g] + W * i), acc[g][i & 1]);
        }
        for (int g = 0; g < G; ++g) S[g * stride + j] = Vec::hsum(Vec::add(acc[g][0], acc[g][1])) * a.scale;
    }
    float inv[G];
    for (int g = 0; g < G; ++g) {
        float* s = S + g * stride;
        for (int64_t j = n_keys; j < stride; ++j) s[j] = -INFINITY;  // padding: e^-inf = 0
        V mx = Vec::set1(-INFINITY);
        for (int64_t j = 0; j < stride; j += W) mx = Vec::max(mx, Vec::load(s + j));
        const V m = Vec::set1(Vec::hmax(mx));
        V sum = Vec::zero();
        for (int64_t j = 0; j < stride; j += W) {
            const V e = exp_nonpositive(Vec::sub(Vec::load(s + j), m));
            Vec::store(s + j, e);
            sum = Vec::add(sum, e);
        }
        inv[g] = 1.0f / Vec::hsum(sum);
    }

    for (int64_t j0 = 0; j0 < n_keys; j0 += JB) {
        const int64_t j1 = std::min<int64_t>(n_keys, j0 + JB);
        for (int c0 = 0; c0 < NV; c0 += CB) {
            V acc[G][CB];
            for (int g = 0; g < G; ++g) {
                for (int i = 0; i < CB; ++i) acc[g][i] = j0 == 0 ? Vec::zero() : Vec::load(o[g] + W * (c0 + i));
            }
            for (int64_t j = j0; j < j1; ++j) {
                const uint8_t* vr = a.v + static_cast<size_t>(j) * a.kv_stride;
                if (c0 == 0 && j + kAhead < n_keys) {
                    for (int l = 0; l < kLines; ++l) __builtin_prefetch(vr + kAhead * a.kv_stride + 64 * l, 0, 3);
                }
                V vv[CB];
                for (int i = 0; i < CB; ++i) vv[i] = load_kv<kF16>(vr, c0 + i);
                for (int g = 0; g < G; ++g) {
                    const V p = Vec::set1(S[g * stride + j]);
                    for (int i = 0; i < CB; ++i) acc[g][i] = Vec::fma(p, vv[i], acc[g][i]);
                }
            }
            const bool last = j1 == n_keys;
            for (int g = 0; g < G; ++g) {
                const V s = Vec::set1(last ? inv[g] : 1.0f);
                for (int i = 0; i < CB; ++i) Vec::store(o[g] + W * (c0 + i), last ? Vec::mul(acc[g][i], s) : acc[g][i]);
            }
        }
    }
}

template <int HD, bool kF16>
void attend_group_hd(const AttendRows& a, float* scratch) {
    const int64_t n_keys = a.pos[0] + 1;
    const int64_t stride = attend_group_stride(a.pos[0]);
    for (int m0 = 0; m0 < a.n_rows; m0 += kAttendGroupRows) {
        switch (std::min(kAttendGroupRows, a.n_rows - m0)) {
            case 1: attend_group_rows<HD, kF16, 1>(a, m0, n_keys, stride, scratch); break;
            case 2: attend_group_rows<HD, kF16, 2>(a, m0, n_keys, stride, scratch); break;
            case 3: attend_group_rows<HD, kF16, 3>(a, m0, n_keys, stride, scratch); break;
            default: attend_group_rows<HD, kF16, 4>(a, m0, n_keys, stride, scratch); break;
        }
    }
}

void attend_group(const AttendRows& a, float* scratch) {
    if (a.n_rows <= 0 || a.n_rows > R) return;
    if (a.head_dim == 64) a.f16 ? attend_group_hd<64, true>(a, scratch) : attend_group_hd<64, false>(a, scratch);
    else if (a.head_dim == 128) a.f16 ? attend_group_hd<128, true>(a, scratch) : attend_group_hd<128, false>(a, scratch);
}

void attend_rows(const AttendRows& a, float* scratch) {
    if (a.n_rows <= 0 || a.n_rows > R) return;
    if (a.head_dim == 64) a.f16 ? attend<64, true>(a, scratch) : attend<64, false>(a, scratch);
    else if (a.head_dim == 128) a.f16 ? attend<128, true>(a, scratch) : attend<128, false>(a, scratch);
}

}  // namespace

void add_attention_kernels(CpuKernels& k) {
    k.attend_rows = attend_rows;
    k.attend_group = attend_group;
}

}  // namespace hearth::kernels::HEARTH_ISA_NS
