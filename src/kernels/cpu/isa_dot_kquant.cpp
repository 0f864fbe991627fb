// K-quant matmul kernels (Q4_K, Q5_K, Q6_K weights against Q8_K activations),
// compiled per ISA like isa_quant_dot.cpp. add_kquant_kernels() is the only symbol
// outside the anonymous namespace.
#include <vector>

#include "kernels/cpu/isa_gemm_common.h"
#include "kernels/cpu/isa_q4_k_unit.h"
#include "kernels/cpu/isa_row_panels.h"

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

// A row's float scales of one super-block in a panel's tables (lane r of each
// sub-block's vector of `lanes` rows), shared by the AVX2 and AVX-512 panels:
// d·sc and dmin·m for Q4_K/Q5_K, d·sc for Q6_K.
template <class Block>
[[maybe_unused]] void panel_k_scales(const Block& B, int r, int lanes, float* dsc, float* dmm) {
    uint8_t sc[8], mn[8];
    k_scales(B.scales, sc, mn);
    const float d = h2f(B.d), dmin = h2f(B.dmin);
    for (int j = 0; j < 8; ++j) {
        dsc[lanes * j + r] = d * static_cast<float>(sc[j]);
        dmm[lanes * j + r] = dmin * static_cast<float>(mn[j]);
    }
}
[[maybe_unused]] void panel_q6_scales(const BlockQ6_K& B, int r, int lanes, float* dsc) {
    const float d = h2f(B.d);
    for (int j = 0; j < 16; ++j) dsc[lanes * j + r] = d * static_cast<float>(B.scales[j]);
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
// Quant unpacking shared by the AVX-512 decode kernels and the prefill row panels.

// Q4_K/Q5_K: elements 64c..64c+63 in order, as bytes 0..15 (0..31 for Q5_K): sub-block 2c
// from the low nibbles of qs[32c..32c+31], 2c+1 from the high nibbles; Q5_K adds 16 where
// its qh bit (2c, resp. 2c+1) is set.
template <bool kFive>
struct Q45Unpack {
    using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
    __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i hbit[4];
    Q45Unpack() {
        for (int c = 0; c < 4; ++c) {
            hbit[c] = _mm512_mask_blend_epi8(0xFFFFFFFF00000000ull, _mm512_set1_epi8(static_cast<char>(1 << (2 * c))),
                                             _mm512_set1_epi8(static_cast<char>(1 << (2 * c + 1))));
        }
    }
    // The block's qh bits, broadcast for chunk(); unused for Q4_K.
    static __m512i high_bits(const Block& B) {
        if constexpr (kFive) return _mm512_broadcast_i64x4(loadu256(B.qh));
        else return _mm512_setzero_si512();
    }
    __m512i chunk(const Block& B, int c, __m512i hb) const {
        const __m256i raw = loadu256(B.qs + 32 * c);
        __m512i q = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(raw), _mm256_srli_epi16(raw, 4), 1), m4);
        if constexpr (kFive) q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(hb, hbit[c]), q, _mm512_set1_epi8(16));
        return q;
    }
};

// Q6_K: elements 128h..128h+127 in order as bytes 0..63, in two registers. Quadrant q
// (32 quants) takes its two high bits from bits 2q..2q+1 of qh, moved to bits 4..5 with
// one 16-bit shift per register (left 4 and 2, right 0 and 2; what crosses into the
// other byte lands outside bits 4..5), then one select merges them with the low nibbles.
struct Q6Unpack {
    __m512i m4 = _mm512_set1_epi8(0x0F), m6 = _mm512_set1_epi8(0x3F);
    __m512i shl42 = _mm512_mask_blend_epi16(0xFFFF0000u, _mm512_set1_epi16(4), _mm512_set1_epi16(2));
    __m512i shr02 = _mm512_mask_blend_epi16(0xFFFF0000u, _mm512_set1_epi16(0), _mm512_set1_epi16(2));
    void half(const BlockQ6_K& B, int h, __m512i& lo, __m512i& hi) const {
        constexpr int kSelect = 0xE4;  // c ? a : b, bit by bit
        const __m512i L = _mm512_loadu_si512(B.ql + 64 * h);
        const __m512i H = _mm512_broadcast_i64x4(loadu256(B.qh + 32 * h));
        lo = _mm512_and_si512(_mm512_ternarylogic_epi32(L, _mm512_sllv_epi16(H, shl42), m4, kSelect), m6);
        hi = _mm512_and_si512(_mm512_ternarylogic_epi32(_mm512_srli_epi16(L, 4), _mm512_srlv_epi16(H, shr02), m4, kSelect), m6);
    }
};
#endif

#if defined(__AVX2__) && !defined(__AVX512F__)
// Q4_K/Q5_K quants of one super-block on AVX2: q[j] holds sub-block j (elements
// 32j..32j+31) in order; shared by the decode tiles and the prefill panels.
template <bool kFive>
inline void unpack_q45(const std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>& B, __m256i q[8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
        const __m256i raw = loadu256(B.qs + 32 * c);
        q[2 * c] = _mm256_and_si256(raw, m4);
        q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
    }
    if constexpr (kFive) {
        const __m256i hb = loadu256(B.qh);
        const __m256i one = _mm256_set1_epi8(1);
        for (int j = 0; j < 8; ++j) {
            const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(hb, j), one);
            q[j] = _mm256_or_si256(q[j], _mm256_slli_epi16(bit, 4));
        }
    }
}

// Q6_K quants (0..63) of one super-block on AVX2: q[j] holds elements 32j..32j+31.
inline void unpack_q6(const BlockQ6_K& B, __m256i q[8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = loadu256(B.ql + 64 * h), ql1 = loadu256(B.ql + 64 * h + 32);
        const __m256i qh = loadu256(B.qh + 32 * h);
        const auto hi = [&](int shift) {
            return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m2), 4);
        };
        q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), hi(0));
        q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), hi(2));
        q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), hi(4));
        q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), hi(6));
    }
}
#endif

// ---------------------------------------------------------------------------
// Q4_K and Q5_K weights against Q8_K activations: per super-block
//   d·Σ_j sc_j·Σ(q·a) − dmin·Σ_j m_j·Σa, with Σa of each 32-sub-block from bsums.

template <bool kFive>
struct KQ45_K {
    using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;

#if defined(__AVX512F__) && defined(__AVX512BW__)
    // One token (decode, see decode_rows): the activations are re-laid once per call (a
    // thread's range of rows) so that a row's quants unpack straight from two 64-byte
    // loads. Of the 64 bytes qs[64h..], the low nibbles hold sub-blocks 4h and 4h+2, the
    // high nibbles 4h+1 and 4h+3, so qs[64k..64k+63] here is the activations of
    // sub-blocks kSub[k] (32 each, in order); bsums32 are the sums of each 32-sub-block.
    // (Xeon, bench_matmul Q4_K 2048x2048 from cache: 1 thread 13.6 -> 18.7 GB/s, 2 threads
    // 25.8 -> 32.0; tile<1> spends a vector insert per 64 quants and three shuffles per
    // block on the mins.)
    struct alignas(64) DecodeX {
        int8_t qs[kQK_K];
        int16_t bsums32[8];
        float d;
    };
    static constexpr int kSub[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};

    static void prepare_decode(const uint8_t* x, int64_t n, std::vector<DecodeX>& out) {
        const auto* a = reinterpret_cast<const BlockQ8_K*>(x);
        out.resize(static_cast<size_t>(n / kQK_K));
        for (size_t i = 0; i < out.size(); ++i) {
            for (int k = 0; k < 4; ++k) {
                for (int h = 0; h < 2; ++h) std::memcpy(out[i].qs + 64 * k + 32 * h, a[i].qs + 32 * kSub[k][h], 32);
            }
            for (int j = 0; j < 8; ++j) out[i].bsums32[j] = static_cast<int16_t>(a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
            out[i].d = a[i].d;
        }
    }

    // kS rows of separate streams side by side (see decode_rows), each row's arithmetic
    // the same whatever kS is: y[s · y_stream] = row s · x.
    static constexpr int kStreams = kDecodeStreams;
    template <int kS>
    static void decode_streams(const uint8_t* w, size_t stream_bytes, const uint8_t* x, float* y, int64_t y_stream,
                               int64_t n) {
        const auto* xs = reinterpret_cast<const DecodeX*>(x);
        const Block* wb[kS];
        DecodePrefetch prefetch[kS];
        for (int s = 0; s < kS; ++s) {
            wb[s] = reinterpret_cast<const Block*>(w + static_cast<size_t>(s) * stream_bytes);
            prefetch[s] = DecodePrefetch(wb[s]);
        }
        const int64_t nb = n / kQK_K;
        const __m512i m4 = _mm512_set1_epi8(0x0F);
        __m512i sidx[4], hbit[4];
        for (int k = 0; k < 4; ++k) {
            sidx[k] = _mm512_mask_blend_epi16(0xFFFF0000u, _mm512_set1_epi16(static_cast<int16_t>(kSub[k][0])),
                                              _mm512_set1_epi16(static_cast<int16_t>(kSub[k][1])));
            hbit[k] = _mm512_mask_blend_epi8(0xFFFFFFFF00000000ull, _mm512_set1_epi8(static_cast<char>(1 << kSub[k][0])),
                                             _mm512_set1_epi8(static_cast<char>(1 << kSub[k][1])));
        }
        __m512 acc[kS];
        for (int s = 0; s < kS; ++s) acc[s] = _mm512_setzero_ps();
        for (int64_t i = 0; i < nb; ++i) {
            const DecodeX& X = xs[i];
            for (int s = 0; s < kS; ++s) {
                const Block& B = wb[s][i];
                prefetch[s].through(&B + 1);
                const __m512i L0 = _mm512_loadu_si512(B.qs), L1 = _mm512_loadu_si512(B.qs + 64);
                __m512i W[4] = {_mm512_and_si512(L0, m4), _mm512_and_si512(_mm512_srli_epi16(L0, 4), m4),
                                _mm512_and_si512(L1, m4), _mm512_and_si512(_mm512_srli_epi16(L1, 4), m4)};
                if constexpr (kFive) {
                    const __m512i hb = _mm512_broadcast_i64x4(loadu256(B.qh));
                    for (int k = 0; k < 4; ++k) W[k] = _mm512_mask_add_epi8(W[k], _mm512_test_epi8_mask(hb, hbit[k]), W[k], _mm512_set1_epi8(16));
                }
                const KScales ks = k_scales(B.scales);
                const __m512i scw = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(ks.sc))));
                __m512i isum = _mm512_setzero_si512();
                for (int k = 0; k < 4; ++k) {
                    const __m512i p = _mm512_maddubs_epi16(W[k], _mm512_load_si512(X.qs + 64 * k));
                    isum = dot_s16_acc(isum, p, _mm512_permutexvar_epi16(sidx[k], scw));
                }
                const __m128i mins = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(ks.mn)));
                const __m128i msum = _mm_madd_epi16(mins, _mm_load_si128(reinterpret_cast<const __m128i*>(X.bsums32)));
                // d and dmin side by side, times the token's scale.
                const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(B.d | uint32_t{B.dmin} << 16))),
                                             _mm_set1_ps(X.d));
                acc[s] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_broadcastss_ps(dd), acc[s]);
                acc[s] = _mm512_fnmadd_ps(_mm512_zextps128_ps512(_mm_cvtepi32_ps(msum)),
                                          _mm512_broadcastss_ps(_mm_movehdup_ps(dd)), acc[s]);
            }
        }
        for (int s = 0; s < kS; ++s) y[s * y_stream] = _mm512_reduce_add_ps(acc[s]);
    }
#endif

#if defined(__AVX2__) && !defined(__AVX512F__)
    // One token (decode, see decode_rows): kS rows of separate streams side by side.
    static constexpr int kStreams = kDecodeStreams;

    // NR rows row_bytes apart × NT tokens: y[t · y_stride + r · y_row]; each (row,
    // token) pair's arithmetic is the same whatever NR and NT are.
    template <int NR, int NT, bool kPrefetch>
    static void rows(const uint8_t* w, size_t row_bytes, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride,
                     int64_t y_row, int64_t n) {
        WeightRows<Block, NR> rows_of(w, row_bytes);
        const auto& wb = rows_of.row;
        auto& prefetch = rows_of.prefetch;
        const int64_t nb = n / kQK_K;
        const BlockQ8_K* a[NT];
        for (int t = 0; t < NT; ++t) a[t] = act_block<BlockQ8_K>(x, x_stride, t);
        // q[j] holds sub-block j (32 quants); its int16 pair sums are scaled by
        // sc[j], taken from one register of the eight scales with a byte shuffle.
        __m256 acc[NR][NT];
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) acc[r][t] = _mm256_setzero_ps();
        }
        for (int64_t i = 0; i < nb; ++i) {
            for (int r = 0; r < NR; ++r) {
                const Block& B = wb[r][i];
                if constexpr (kPrefetch) prefetch[r].through(&B + 1);
                const KScales ks = k_scales(B.scales);
                const __m256i scb = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(ks.sc))));
                const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(ks.mn)));
                // Each min twice, against the two 16-sums of its sub-block in bsums.
                const __m256i mins = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
                __m256i q[8], scv[8];
                unpack_q45<kFive>(B, q);
                for (int j = 0; j < 8; ++j) {
                    scv[j] = _mm256_shuffle_epi8(scb, _mm256_set1_epi16(static_cast<int16_t>((2 * j + 1) << 8 | 2 * j)));
                }
                // d and dmin side by side, times each token's scale below.
                const __m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(B.d | uint32_t{B.dmin} << 16)));
                for (int t = 0; t < NT; ++t) {
                    const BlockQ8_K& A = a[t][i];
                    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
                    for (int j = 0; j < 8; j += 2) {
                        const __m256i p0 = _mm256_maddubs_epi16(q[j], loadu256(A.qs + 32 * j));
                        const __m256i p1 = _mm256_maddubs_epi16(q[j + 1], loadu256(A.qs + 32 * j + 32));
                        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p0, scv[j]));
                        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p1, scv[j + 1]));
                    }
                    const __m256i msum = _mm256_madd_epi16(loadu256(A.bsums), mins);
                    const __m128 f = _mm_mul_ps(dd, _mm_set1_ps(A.d));
                    acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), _mm256_broadcastss_ps(f),
                                                acc[r][t]);
                    acc[r][t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum),
                                                 _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), _mm256_set1_epi32(1)),
                                                 acc[r][t]);
                }
            }
        }
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) y[t * y_stride + r * y_row] = hsum(acc[r][t]);
        }
    }
#endif

    template <int NT>
    static void tile(const uint8_t* w, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride, int64_t n) {
#if defined(__AVX2__) && !defined(__AVX512F__)
        rows<1, NT, false>(w, 0, x, x_stride, y, y_stride, 0, n);
#else
        const auto* wb = reinterpret_cast<const Block*>(w);
        const int64_t nb = n / kQK_K;
        const BlockQ8_K* a[NT];
        for (int t = 0; t < NT; ++t) a[t] = act_block<BlockQ8_K>(x, x_stride, t);
#if defined(__AVX512F__) && defined(__AVX512BW__)
        // Two 32-sub-blocks per register: W[c] holds sub-blocks 2c (low nibbles) and
        // 2c+1 (high nibbles) of qs[32c..32c+31], i.e. elements 64c..64c+63 in order.
        const Q45Unpack<kFive> unpack;
        __m512i sidx[4];
        for (int c = 0; c < 4; ++c) {
            sidx[c] = _mm512_mask_blend_epi16(0xFFFF0000u, _mm512_set1_epi16(static_cast<int16_t>(2 * c)),
                                              _mm512_set1_epi16(static_cast<int16_t>(2 * c + 1)));
        }
        __m512 acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
        for (int64_t i = 0; i < nb; ++i) {
            const Block& B = wb[i];
            alignas(16) uint8_t sc[16], mn[16];
            k_scales(B.scales, sc, mn);
            const __m512i scw = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc))));
            const __m128i m16 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn)));
            const __m256i mins = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
            __m512i W[4], scv[4];
            const __m512i hb = unpack.high_bits(B);
            for (int c = 0; c < 4; ++c) {
                W[c] = unpack.chunk(B, c, hb);
                scv[c] = _mm512_permutexvar_epi16(sidx[c], scw);
            }
            const float d = h2f(B.d), dmin = h2f(B.dmin);
            for (int t = 0; t < NT; ++t) {
                const BlockQ8_K& A = a[t][i];
                __m512i isum = _mm512_setzero_si512();
                for (int c = 0; c < 4; ++c) {
                    const __m512i p = _mm512_maddubs_epi16(W[c], _mm512_loadu_si512(A.qs + 64 * c));
                    isum = dot_s16_acc(isum, p, scv[c]);
                }
                const __m256i msum = _mm256_madd_epi16(loadu256(A.bsums), mins);
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d * A.d), acc[t]);
                // The mins term in the low 8 lanes of the same accumulator.
                acc[t] = _mm512_fnmadd_ps(_mm512_zextps256_ps512(_mm256_cvtepi32_ps(msum)), _mm512_set1_ps(dmin * A.d), acc[t]);
            }
        }
        for (int t = 0; t < NT; ++t) y[t * y_stride] = _mm512_reduce_add_ps(acc[t]);
#else
        float sum[NT] = {};
        for (int64_t i = 0; i < nb; ++i) {
            const Block& B = wb[i];
            uint8_t q[kQK_K];
            for (int c = 0; c < 4; ++c) {
                for (int l = 0; l < 32; ++l) {
                    q[64 * c + l] = B.qs[32 * c + l] & 0xF;
                    q[64 * c + 32 + l] = B.qs[32 * c + l] >> 4;
                }
            }
            if constexpr (kFive) {
                for (int j = 0; j < 8; ++j) {
                    for (int l = 0; l < 32; ++l) q[32 * j + l] |= static_cast<uint8_t>(((B.qh[l] >> j) & 1) << 4);
                }
            }
            uint8_t sc[8], mn[8];
            k_scales(B.scales, sc, mn);
            const float d = h2f(B.d), dmin = h2f(B.dmin);
            for (int t = 0; t < NT; ++t) {
                const BlockQ8_K& A = a[t][i];
                int sumi = 0, summ = 0;
                for (int j = 0; j < 8; ++j) {
                    int s = 0;
                    for (int l = 0; l < 32; ++l) s += q[32 * j + l] * A.qs[32 * j + l];
                    sumi += sc[j] * s;
                    summ += mn[j] * (A.bsums[2 * j] + A.bsums[2 * j + 1]);
                }
                sum[t] += A.d * (d * static_cast<float>(sumi) - dmin * static_cast<float>(summ));
            }
        }
        for (int t = 0; t < NT; ++t) y[t * y_stride] = sum[t];
#endif
#endif
    }
};

// ---------------------------------------------------------------------------
// Q6_K weights against Q8_K activations: d·Σ_g sc_g·(Σ q·a − 32·Σa) with q in 0..63
// and Σa of each 16-group from bsums.

struct KQ6_K {
#if defined(__AVX512F__) && defined(__AVX512BW__)
    // One token (decode, see decode_rows): kS rows of separate streams side by side,
    // each with its weights prefetched as it goes (DecodePrefetch).
    static constexpr int kStreams = kDecodeStreams;

    template <int NT>
    static void tile(const uint8_t* w, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride, int64_t n) {
        rows<1, NT, false>(w, 0, x, x_stride, y, y_stride, 0, n);
    }

    // NR rows row_bytes apart × NT tokens: y[t · y_stride + r · y_row]. Each (row,
    // token) pair's arithmetic is the same whatever NR and NT are.
    template <int NR, int NT, bool kPrefetch>
    static void rows(const uint8_t* w, size_t row_bytes, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride,
                     int64_t y_row, int64_t n) {
        WeightRows<BlockQ6_K, NR> rows_of(w, row_bytes);
        const auto& wb = rows_of.row;
        auto& prefetch = rows_of.prefetch;
        const int64_t nb = n / kQK_K;
        const BlockQ8_K* a[NT];
        for (int t = 0; t < NT; ++t) a[t] = act_block<BlockQ8_K>(x, x_stride, t);
        // Q[p] holds elements 64p..64p+63 (q in 0..63); its 16-bit products cover
        // the four 16-groups 4p..4p+3, whose scales scv[p] spreads over the lanes.
        const Q6Unpack unpack;
        __m512i sidx[4];
        for (int p = 0; p < 4; ++p) {
            alignas(64) int16_t idx[32];
            for (int l = 0; l < 32; ++l) idx[l] = static_cast<int16_t>(4 * p + l / 8);
            sidx[p] = _mm512_load_si512(idx);
        }
        __m512 acc[NR][NT];
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
        }
        for (int64_t i = 0; i < nb; ++i) {
            for (int r = 0; r < NR; ++r) {
                const BlockQ6_K& B = wb[r][i];
                if constexpr (kPrefetch) prefetch[r].through(&B + 1);
                __m512i Q[4], scv[4];
                for (int h = 0; h < 2; ++h) unpack.half(B, h, Q[2 * h], Q[2 * h + 1]);
                const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(B.scales));
                const __m512i scw = _mm512_castsi256_si512(sc16);
                for (int p = 0; p < 4; ++p) scv[p] = _mm512_permutexvar_epi16(sidx[p], scw);
                const float d = h2f(B.d);
                for (int t = 0; t < NT; ++t) {
                    const BlockQ8_K& A = a[t][i];
                    __m512i isum = _mm512_setzero_si512();
                    for (int p = 0; p < 4; ++p) {
                        const __m512i prod = _mm512_maddubs_epi16(Q[p], _mm512_loadu_si512(A.qs + 64 * p));
                        isum = dot_s16_acc(isum, prod, scv[p]);
                    }
                    const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(loadu256(A.bsums), sc16), 5);
                    isum = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(corr));
                    acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d * A.d), acc[r][t]);
                }
            }
        }
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) y[t * y_stride + r * y_row] = _mm512_reduce_add_ps(acc[r][t]);
        }
    }
#else
#if defined(__AVX2__)
    // One token (decode, see decode_rows): kS rows of separate streams side by side.
    static constexpr int kStreams = kDecodeStreams;

    // NR rows row_bytes apart × NT tokens: y[t · y_stride + r · y_row]; each (row,
    // token) pair's arithmetic is the same whatever NR and NT are.
    template <int NR, int NT, bool kPrefetch>
    static void rows(const uint8_t* w, size_t row_bytes, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride,
                     int64_t y_row, int64_t n) {
        WeightRows<BlockQ6_K, NR> rows_of(w, row_bytes);
        const auto& wb = rows_of.row;
        auto& prefetch = rows_of.prefetch;
        const int64_t nb = n / kQK_K;
        const BlockQ8_K* a[NT];
        for (int t = 0; t < NT; ++t) a[t] = act_block<BlockQ8_K>(x, x_stride, t);
        __m256 acc[NR][NT];
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) acc[r][t] = _mm256_setzero_ps();
        }
        for (int64_t i = 0; i < nb; ++i) {
            for (int r = 0; r < NR; ++r) {
                const BlockQ6_K& B = wb[r][i];
                if constexpr (kPrefetch) prefetch[r].through(&B + 1);
                __m256i q[8], scv[8];
                unpack_q6(B, q);
                // scv[j]: scale 2j over the low 128-bit lane, 2j+1 over the high one, shuffled
                // from the eight int16 scales of its half of the block in both lanes.
                const __m128i sc8 = loadu128(B.scales);
                const __m256i sch[2] = {_mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(sc8)),
                                        _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_unpackhi_epi64(sc8, sc8)))};
                for (int j = 0; j < 8; ++j) {
                    const int lo = (2 * j) % 8, hi = lo + 1;
                    const __m256i pick =
                        _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>((2 * hi + 1) << 8 | 2 * hi)),
                                         _mm_set1_epi16(static_cast<int16_t>((2 * lo + 1) << 8 | 2 * lo)));
                    scv[j] = _mm256_shuffle_epi8(sch[j / 4], pick);
                }
                const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
                const float d = h2f(B.d);
                for (int t = 0; t < NT; ++t) {
                    const BlockQ8_K& A = a[t][i];
                    __m256i isum = _mm256_setzero_si256();
                    for (int j = 0; j < 8; ++j) {
                        const __m256i p = _mm256_maddubs_epi16(q[j], loadu256(A.qs + 32 * j));
                        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, scv[j]));
                    }
                    const __m256i corr = _mm256_madd_epi16(loadu256(A.bsums), sc16);
                    isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(corr, 5));
                    acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d * A.d), acc[r][t]);
                }
            }
        }
        for (int r = 0; r < NR; ++r) {
            for (int t = 0; t < NT; ++t) y[t * y_stride + r * y_row] = hsum(acc[r][t]);
        }
    }
#endif

    template <int NT>
    static void tile(const uint8_t* w, const uint8_t* x, size_t x_stride, float* y, int64_t y_stride, int64_t n) {
#if defined(__AVX2__)
        rows<1, NT, false>(w, 0, x, x_stride, y, y_stride, 0, n);
#else
        const auto* wb = reinterpret_cast<const BlockQ6_K*>(w);
        const int64_t nb = n / kQK_K;
        const BlockQ8_K* a[NT];
        for (int t = 0; t < NT; ++t) a[t] = act_block<BlockQ8_K>(x, x_stride, t);
        float sum[NT] = {};
        for (int64_t i = 0; i < nb; ++i) {
            const BlockQ6_K& B = wb[i];
            uint8_t q[kQK_K];
            for (int h = 0; h < 2; ++h) {
                const uint8_t* ql = B.ql + 64 * h;
                const uint8_t* qh = B.qh + 32 * h;
                uint8_t* o = q + 128 * h;
                for (int l = 0; l < 32; ++l) {
                    o[l] = static_cast<uint8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                    o[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                    o[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                    o[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
                }
            }
            const float d = h2f(B.d);
            for (int t = 0; t < NT; ++t) {
                const BlockQ8_K& A = a[t][i];
                int sumi = 0;
                for (int g = 0; g < 16; ++g) {
                    int s = 0;
                    for (int l = 0; l < 16; ++l) s += q[16 * g + l] * A.qs[16 * g + l];
                    sumi += B.scales[g] * (s - 32 * A.bsums[g]);
                }
                sum[t] += d * A.d * static_cast<float>(sumi);
            }
        }
        for (int t = 0; t < NT; ++t) y[t * y_stride] = sum[t];
#endif
    }
#endif
};

#if defined(HEARTH_ROW_PANELS) || defined(HEARTH_ROW_PANELS8)
// Q8_K activations as the panels of both widths read them; `terms` writes token a's
// per-sub-block terms of one super-block `stride` apart.
template <class Term>
void interleave_q8_k(const uint8_t* x, int64_t nb, TokenBlock<Term>* row, int slot,
                     void (*terms)(const BlockQ8_K& a, Term* out, int stride)) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(x);
    for (int64_t i = 0; i < nb; ++i) {
        for (int g = 0; g < kQK_K / 4; ++g) std::memcpy(&row[i].q[g][slot], a[i].qs + 4 * g, 4);
        terms(a[i], &row[i].terms[0][slot], kPanelTokens);
        row[i].d[slot] = a[i].d;
    }
}

// Q4_K/Q5_K panels: Σa of each 32-sub-block.
void q45_token_terms(const BlockQ8_K& a, float* out, int stride) {
    for (int j = 0; j < 8; ++j) out[j * stride] = static_cast<float>(a.bsums[2 * j] + a.bsums[2 * j + 1]);
}
// Q6_K panels: −32·Σa of each 16-sub-block (the format's offset).
void q6_token_terms(const BlockQ8_K& a, int32_t* out, int stride) {
    for (int j = 0; j < 16; ++j) out[j * stride] = -32 * a.bsums[j];
}
#endif

#if defined(HEARTH_ROW_PANELS)
// Prefill on AVX-512 VNNI: the row panels of isa_row_panels.h.

// Q4_K / Q5_K: 8 sub-blocks of 32; per token and super-block the 8 sub-block sums Σa.
template <bool kFive>
struct PanelQ45 {
    using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
    using Term = float;
    using Tokens = TokenBlock<Term>;
    static constexpr int64_t kCols = kQK_K;
    static constexpr size_t kBytes = 4096 + 2 * 8 * 64;  // quants, d·sc, dmin·m

    static void interleave(const uint8_t* x, int64_t nb, Tokens* row, int slot) {
        interleave_q8_k<Term>(x, nb, row, slot, q45_token_terms);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t nb, uint8_t* dst) {
        alignas(64) uint8_t rows[kPanelRows * kQK_K];
        const Q45Unpack<kFive> unpack;
        for (int64_t i = 0; i < nb; ++i) {
            uint8_t* P = dst + kBytes * static_cast<size_t>(i);
            auto* dsc = reinterpret_cast<float*>(P + 4096);
            float* dmm = dsc + 8 * kPanelRows;
            for (int r = 0; r < kPanelRows; ++r) {
                const Block& B = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * row_bytes)[i];
                const __m512i hb = unpack.high_bits(B);
                for (int c = 0; c < 4; ++c) _mm512_store_si512(rows + kQK_K * r + 64 * c, unpack.chunk(B, c, hb));
                panel_k_scales(B, r, kPanelRows, dsc, dmm);
            }
            transpose_panel(rows, P);
        }
    }

    template <int NT>
    static void tile(const uint8_t* panel, int64_t nb, const TokenBlock<Term>* xs, float* y, int64_t y_stride) {
        __m512 acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t* P = panel + kBytes * static_cast<size_t>(i);
            const auto* dsc = reinterpret_cast<const float*>(P + 4096);
            const float* dmm = dsc + 8 * kPanelRows;
            const TokenBlock<Term>& X = xs[i];
            __m512 f[NT];
            for (int t = 0; t < NT; ++t) f[t] = _mm512_setzero_ps();
            for (int j = 0; j < 8; ++j) {
                __m512i s[NT];
                for (int t = 0; t < NT; ++t) s[t] = _mm512_setzero_si512();
                for (int k = 0; k < 8; ++k) {
                    const __m512i wv = _mm512_load_si512(P + 64 * (8 * j + k));
                    for (int t = 0; t < NT; ++t) s[t] = _mm512_dpbusd_epi32(s[t], wv, _mm512_set1_epi32(X.q[8 * j + k][t]));
                }
                const __m512 dv = _mm512_load_ps(dsc + kPanelRows * j), mv = _mm512_load_ps(dmm + kPanelRows * j);
                for (int t = 0; t < NT; ++t) {
                    f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), dv, f[t]);
                    f[t] = _mm512_fnmadd_ps(mv, _mm512_set1_ps(X.terms[j][t]), f[t]);
                }
            }
            for (int t = 0; t < NT; ++t) acc[t] = _mm512_fmadd_ps(f[t], _mm512_set1_ps(X.d[t]), acc[t]);
        }
        for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
    }
};

// PanelQ45<false> packed from Q4_K panels (q4_k_panels.h) instead of from rows: their
// quants are already interleaved by row, so packing is a mask (and a shift) per vector
// and the scales are decoded for 16 rows at once.
struct PanelQ4FromPanels : PanelQ45<false> {
    static void pack(const uint8_t* w, size_t /*row_bytes*/, int64_t nb, uint8_t* dst) {
        const __m512i m4 = _mm512_set1_epi8(0x0F);
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t* u = w + kQ4KPanelUnit * static_cast<size_t>(i);
            uint8_t* P = dst + kBytes * static_cast<size_t>(i);
            // Nibbles of vector 8c + k: elements 64c + 4k.. (low), 64c + 32 + 4k.. (high).
            for (int c = 0; c < 4; ++c) {
                for (int k = 0; k < 8; ++k) {
                    const __m512i v = _mm512_loadu_si512(u + 64 * (8 * c + k));
                    _mm512_store_si512(P + 64 * (16 * c + k), _mm512_and_si512(v, m4));
                    _mm512_store_si512(P + 64 * (16 * c + 8 + k), _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
                }
            }
            auto* dsc = reinterpret_cast<float*>(P + 4096);
            unit_float_scales(u, 1.0f, dsc, dsc + 8 * kPanelRows);
        }
    }
};

// Q6_K: 16 sub-blocks of 16 with signed 8-bit scales; quants 0..63 stay unsigned and
// each sub-block's sum starts at the token's −32·Σa (the format's offset).
struct PanelQ6 {
    using Term = int32_t;
    using Tokens = TokenBlock<Term>;
    static constexpr int64_t kCols = kQK_K;
    static constexpr size_t kBytes = 4096 + 16 * 64;  // quants, d·sc

    static void interleave(const uint8_t* x, int64_t nb, Tokens* row, int slot) {
        interleave_q8_k<Term>(x, nb, row, slot, q6_token_terms);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t nb, uint8_t* dst) {
        alignas(64) uint8_t rows[kPanelRows * kQK_K];
        const Q6Unpack unpack;
        for (int64_t i = 0; i < nb; ++i) {
            uint8_t* P = dst + kBytes * static_cast<size_t>(i);
            auto* dsc = reinterpret_cast<float*>(P + 4096);
            for (int r = 0; r < kPanelRows; ++r) {
                const BlockQ6_K& B = reinterpret_cast<const BlockQ6_K*>(w + static_cast<size_t>(r) * row_bytes)[i];
                for (int h = 0; h < 2; ++h) {
                    __m512i lo, hi;
                    unpack.half(B, h, lo, hi);
                    _mm512_store_si512(rows + kQK_K * r + 128 * h, lo);
                    _mm512_store_si512(rows + kQK_K * r + 128 * h + 64, hi);
                }
                panel_q6_scales(B, r, kPanelRows, dsc);
            }
            transpose_panel(rows, P);
        }
    }

    template <int NT>
    static void tile(const uint8_t* panel, int64_t nb, const TokenBlock<Term>* xs, float* y, int64_t y_stride) {
        __m512 acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t* P = panel + kBytes * static_cast<size_t>(i);
            const auto* dsc = reinterpret_cast<const float*>(P + 4096);
            const TokenBlock<Term>& X = xs[i];
            __m512 f[NT];
            for (int t = 0; t < NT; ++t) f[t] = _mm512_setzero_ps();
            for (int j = 0; j < 16; ++j) {
                __m512i s[NT];
                for (int t = 0; t < NT; ++t) s[t] = _mm512_set1_epi32(X.terms[j][t]);
                for (int k = 0; k < 4; ++k) {
                    const __m512i wv = _mm512_load_si512(P + 64 * (4 * j + k));
                    for (int t = 0; t < NT; ++t) s[t] = _mm512_dpbusd_epi32(s[t], wv, _mm512_set1_epi32(X.q[4 * j + k][t]));
                }
                const __m512 dv = _mm512_load_ps(dsc + kPanelRows * j);
                for (int t = 0; t < NT; ++t) f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), dv, f[t]);
            }
            for (int t = 0; t < NT; ++t) acc[t] = _mm512_fmadd_ps(f[t], _mm512_set1_ps(X.d[t]), acc[t]);
        }
        for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
    }
};

#endif

#if defined(HEARTH_ROW_PANELS8)
// Prefill on AVX2: the 8-row panels of isa_row_panels.h, one super-block (256 columns)
// per unit. The quants are unsigned, so maddubs takes them against the signed
// activations directly, and its int16 sums run over as many steps as cannot overflow
// (Q4_K 8 × 2·15·127, Q5_K 4 × 2·31·127, Q6_K 2 × 2·63·127) before one madd widens
// them. Per sub-block the integers are the same as the AVX-512 panels' and the float
// arithmetic is the same, so both tables' prefill results agree.

template <bool kFive>
struct Panel8Q45 {
    using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
    using Term = float;
    using Tokens = TokenBlock<Term>;
    static constexpr int64_t kCols = kQK_K;
    static constexpr size_t kBytes = 2048 + 2 * 8 * 32;  // quants, d·sc, dmin·m
    static constexpr int kRun = kFive ? 4 : 8;

    static void interleave(const uint8_t* x, int64_t nb, Tokens* row, int slot) {
        interleave_q8_k<Term>(x, nb, row, slot, q45_token_terms);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t nb, uint8_t* dst) {
        alignas(32) uint8_t rows[kPanelRows * kQK_K];
        for (int64_t i = 0; i < nb; ++i) {
            uint8_t* P = dst + kBytes * static_cast<size_t>(i);
            auto* dsc = reinterpret_cast<float*>(P + 2048);
            float* dmm = dsc + 8 * kPanelRows;
            for (int r = 0; r < kPanelRows; ++r) {
                const Block& B = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * row_bytes)[i];
                __m256i q[8];
                unpack_q45<kFive>(B, q);
                for (int j = 0; j < 8; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(rows + kQK_K * r + 32 * j), q[j]);
                panel_k_scales(B, r, kPanelRows, dsc, dmm);
            }
            transpose_panel8(rows, kQK_K, P);
        }
    }

    template <int NT>
    static void tile(const uint8_t* panel, int64_t nb, const Tokens* xs, float* y, int64_t y_stride) {
        const __m256i ones = _mm256_set1_epi16(1);
        __m256 acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t* P = panel + kBytes * static_cast<size_t>(i);
            const auto* dsc = reinterpret_cast<const float*>(P + 2048);
            const float* dmm = dsc + 8 * kPanelRows;
            const Tokens& X = xs[i];
            __m256 f[NT];
            for (int t = 0; t < NT; ++t) f[t] = _mm256_setzero_ps();
            for (int j = 0; j < 8; ++j) {
                __m256i s[NT];
                for (int k0 = 0; k0 < 8; k0 += kRun) {
                    __m256i h[NT];
                    for (int k = k0; k < k0 + kRun; ++k) {
                        const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(P + 32 * (8 * j + k)));
                        for (int t = 0; t < NT; ++t) {
                            const __m256i p = _mm256_maddubs_epi16(wv, _mm256_set1_epi32(X.q[8 * j + k][t]));
                            h[t] = k == k0 ? p : _mm256_add_epi16(h[t], p);
                        }
                    }
                    for (int t = 0; t < NT; ++t) {
                        const __m256i m = _mm256_madd_epi16(h[t], ones);
                        s[t] = k0 == 0 ? m : _mm256_add_epi32(s[t], m);
                    }
                }
                const __m256 dv = _mm256_load_ps(dsc + kPanelRows * j), mv = _mm256_load_ps(dmm + kPanelRows * j);
                for (int t = 0; t < NT; ++t) {
                    f[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), dv, f[t]);
                    f[t] = _mm256_fnmadd_ps(mv, _mm256_set1_ps(X.terms[j][t]), f[t]);
                }
            }
            for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(f[t], _mm256_set1_ps(X.d[t]), acc[t]);
        }
        for (int t = 0; t < NT; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
    }
};

// Q6_K: 16 sub-blocks of 16 with signed 8-bit scales; each sub-block's sum starts at
// the token's −32·Σa (the format's offset), as in PanelQ6.
struct Panel8Q6 {
    using Term = int32_t;
    using Tokens = TokenBlock<Term>;
    static constexpr int64_t kCols = kQK_K;
    static constexpr size_t kBytes = 2048 + 16 * 32;  // quants, d·sc

    static void interleave(const uint8_t* x, int64_t nb, Tokens* row, int slot) {
        interleave_q8_k<Term>(x, nb, row, slot, q6_token_terms);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t nb, uint8_t* dst) {
        alignas(32) uint8_t rows[kPanelRows * kQK_K];
        for (int64_t i = 0; i < nb; ++i) {
            uint8_t* P = dst + kBytes * static_cast<size_t>(i);
            auto* dsc = reinterpret_cast<float*>(P + 2048);
            for (int r = 0; r < kPanelRows; ++r) {
                const BlockQ6_K& B = reinterpret_cast<const BlockQ6_K*>(w + static_cast<size_t>(r) * row_bytes)[i];
                __m256i q[8];
                unpack_q6(B, q);
                for (int j = 0; j < 8; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(rows + kQK_K * r + 32 * j), q[j]);
                panel_q6_scales(B, r, kPanelRows, dsc);
            }
            transpose_panel8(rows, kQK_K, P);
        }
    }

    template <int NT>
    static void tile(const uint8_t* panel, int64_t nb, const Tokens* xs, float* y, int64_t y_stride) {
        const __m256i ones = _mm256_set1_epi16(1);
        __m256 acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t* P = panel + kBytes * static_cast<size_t>(i);
            const auto* dsc = reinterpret_cast<const float*>(P + 2048);
            const Tokens& X = xs[i];
            __m256 f[NT];
            for (int t = 0; t < NT; ++t) f[t] = _mm256_setzero_ps();
            for (int j = 0; j < 16; ++j) {
                __m256i s[NT];
                for (int t = 0; t < NT; ++t) s[t] = _mm256_set1_epi32(X.terms[j][t]);
                for (int k0 = 0; k0 < 4; k0 += 2) {
                    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(P + 32 * (4 * j + k0)));
                    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(P + 32 * (4 * j + k0 + 1)));
                    for (int t = 0; t < NT; ++t) {
                        const __m256i h = _mm256_add_epi16(_mm256_maddubs_epi16(w0, _mm256_set1_epi32(X.q[4 * j + k0][t])),
                                                           _mm256_maddubs_epi16(w1, _mm256_set1_epi32(X.q[4 * j + k0 + 1][t])));
                        s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(h, ones));
                    }
                }
                const __m256 dv = _mm256_load_ps(dsc + kPanelRows * j);
                for (int t = 0; t < NT; ++t) f[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), dv, f[t]);
            }
            for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(f[t], _mm256_set1_ps(X.d[t]), acc[t]);
        }
        for (int t = 0; t < NT; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
    }
};
#endif

}  // namespace

#if defined(HEARTH_ROW_PANELS)
void gemm_q4_k_panel_prefill(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride,
                             int64_t n_tokens, float* y, int64_t y_stride, int64_t n) {
    static_assert(kPanelPrefillTokens >= kPanelMinTokens && kPanelRows == kQ4KPanelRows);
    // Whole panels and enough tokens: gemm_panels never falls back to KQ45_K's row
    // tiles, which could not read this layout.
    gemm_panels<PanelQ4FromPanels, KQ45_K<false>>(w, row_bytes, n_rows, x, x_stride, n_tokens, y, y_stride, n);
}
#endif

void add_kquant_kernels(CpuKernels& k) {
#if defined(HEARTH_ROW_PANELS)
    k.gemm_q4_k = gemm_panels<PanelQ45<false>, KQ45_K<false>>;
    k.gemm_q5_k = gemm_panels<PanelQ45<true>, KQ45_K<true>>;
    k.gemm_q6_k = gemm_panels<PanelQ6, KQ6_K>;
#elif defined(HEARTH_ROW_PANELS8)
    k.gemm_q4_k = gemm_panels<Panel8Q45<false>, KQ45_K<false>>;
    k.gemm_q5_k = gemm_panels<Panel8Q45<true>, KQ45_K<true>>;
    k.gemm_q6_k = gemm_panels<Panel8Q6, KQ6_K>;
#else
    k.gemm_q4_k = gemm<KQ45_K<false>>;
    k.gemm_q5_k = gemm<KQ45_K<true>>;
    k.gemm_q6_k = gemm<KQ6_K>;
#endif
}

}  // namespace hearth::kernels::HEARTH_ISA_NS
