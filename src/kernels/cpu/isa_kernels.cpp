// Compiled three times, with HEARTH_ISA_NS set to generic, avx2 or avx512 and the
// matching -m flags (see CMakeLists.txt). Intrinsics paths are selected by the
// compiler's own __AVX2__/__AVX512F__ macros; everything else is plain C++ that the
// compiler vectorizes for the target. Only static functions live here, so no
// wide-ISA code can leak into another table through the linker.
#include <cmath>
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "base/half.h"
#include "kernels/cpu/cpu_kernels.h"
#include "tensor/dequant_blocks.h"

#if defined(__AVX2__)
#include "kernels/cpu/isa_vec.h"
#endif

#ifndef HEARTH_ISA_NS
#error "HEARTH_ISA_NS must name the instruction set this file is compiled for"
#endif

namespace hearth::kernels::HEARTH_ISA_NS {
namespace {

using namespace hearth::tensor;

float dot_f32(const float* a, const float* b, int64_t n) {
    int64_t i = 0;
    float sum = 0;
#if defined(__AVX512F__)
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    }
    sum = Vec::hsum(_mm512_add_ps(acc0, acc1));
#elif defined(__AVX2__)
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    sum = Vec::hsum(_mm256_add_ps(acc0, acc1));
#else
    // Four partial sums break the dependency chain, as the SIMD paths do.
    float s[4] = {0, 0, 0, 0};
    for (; i + 4 <= n; i += 4) {
        for (int k = 0; k < 4; ++k) s[k] += a[i + k] * b[i + k];
    }
    sum = (s[0] + s[1]) + (s[2] + s[3]);
#endif
    for (; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

float dot_f16_f32(const uint16_t* a, const float* b, int64_t n) {
    int64_t i = 0;
    float sum = 0;
#if defined(__AVX512F__)
    __m512 acc = _mm512_setzero_ps();
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)));
        acc = _mm512_fmadd_ps(x, _mm512_loadu_ps(b + i), acc);
    }
    sum = Vec::hsum(acc);
#elif defined(__AVX2__)
    __m256 acc = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
        acc = _mm256_fmadd_ps(x, _mm256_loadu_ps(b + i), acc);
    }
    sum = Vec::hsum(acc);
#endif
    for (; i < n; ++i) sum += fp16_to_fp32(a[i]) * b[i];
    return sum;
}

void axpy_f32(float* y, float a, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];  // vectorized by the compiler for each ISA
}

void axpy_f16(float* y, float a, const uint16_t* x, int64_t n) {
    int64_t i = 0;
#if defined(__AVX512F__)
    const __m512 va = _mm512_set1_ps(a);
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, v, _mm512_loadu_ps(y + i)));
    }
#elif defined(__AVX2__)
    const __m256 va = _mm256_set1_ps(a);
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, v, _mm256_loadu_ps(y + i)));
    }
#endif
    for (; i < n; ++i) y[i] += a * fp16_to_fp32(x[i]);
}

void f32_to_f16(const float* x, uint16_t* y, int64_t n) {
    int64_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#elif defined(__AVX2__)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
    for (; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

void dequantize_f16_row(const void* src, float* dst, int64_t n) {
    const auto* h = static_cast<const uint16_t*>(src);
    int64_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i))));
#elif defined(__AVX2__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
#endif
    for (; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
}

void dequantize_bf16_row(const void* src, float* dst, int64_t n) {
    const auto* h = static_cast<const uint16_t*>(src);
    int64_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16) {
        const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i)));
        _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
    }
#elif defined(__AVX2__)
    for (; i + 8 <= n; i += 8) {
        const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
#endif
    for (; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
}

void dequantize_q8_0_row(const void* src, float* dst, int64_t n) {
    const auto* x = static_cast<const BlockQ8_0*>(src);
    const int64_t nb = n / kQK;
#if defined(__AVX2__)
    for (int64_t b = 0; b < nb; ++b, dst += kQK) {
        const __m256 d = _mm256_set1_ps(fp16_to_fp32(x[b].d));
        for (int j = 0; j < kQK; j += 8) {
            const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[b].qs + j));
            _mm256_storeu_ps(dst + j, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8))));
        }
    }
#else
    dequantize_q8_0(x, dst, nb);
#endif
}

void dequantize_q4_0_row(const void* src, float* dst, int64_t n) {
    dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, n / kQK);
}
void dequantize_q4_k_row(const void* src, float* dst, int64_t n) {
    dequantize_q4_k(static_cast<const BlockQ4_K*>(src), dst, n / kQK_K);
}
void dequantize_q5_k_row(const void* src, float* dst, int64_t n) {
    dequantize_q5_k(static_cast<const BlockQ5_K*>(src), dst, n / kQK_K);
}
void dequantize_q6_k_row(const void* src, float* dst, int64_t n) {
    dequantize_q6_k(static_cast<const BlockQ6_K*>(src), dst, n / kQK_K);
}

// y = x / sqrt(mean(x²) + eps) · w. The squares are summed in double (exact products, as
// llama.cpp sums them), in several partial sums so the adds do not wait on each other:
// in decode this runs on one thread between the pool's matmuls. The scaling is the same
// two float products per element on every ISA.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
    int64_t i = 0;
    double sum = 0;
#if defined(__AVX512F__)
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    for (; i + 16 <= n; i += 16) {
        const __m512d a = _mm512_cvtps_pd(_mm256_loadu_ps(x + i)), b = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8));
        acc0 = _mm512_fmadd_pd(a, a, acc0);
        acc1 = _mm512_fmadd_pd(b, b, acc1);
    }
    sum = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
#elif defined(__AVX2__)
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    for (; i + 8 <= n; i += 8) {
        const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), b = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
        acc0 = _mm256_fmadd_pd(a, a, acc0);
        acc1 = _mm256_fmadd_pd(b, b, acc1);
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
    sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#else
    double s[4] = {0, 0, 0, 0};
    for (; i + 4 <= n; i += 4) {
        for (int k = 0; k < 4; ++k) s[k] += static_cast<double>(x[i + k]) * x[i + k];
    }
    sum = (s[0] + s[1]) + (s[2] + s[3]);
#endif
    for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
    int64_t j = 0;
#if defined(__AVX2__)
    for (; j + Vec::W <= n; j += Vec::W) Vec::store(y + j, Vec::mul(Vec::mul(Vec::load(x + j), Vec::set1(scale)), Vec::load(w + j)));
#endif
    for (; j < n; ++j) y[j] = x[j] * scale * w[j];
}

// gate = silu(gate) · up with silu(g) = g · sigmoid(g); the sigmoid from e^-|g|, which
// cannot overflow: 1 / (1 + e) for g >= 0, e / (1 + e) below.
// Every element takes the same arithmetic wherever it falls (the tail goes through the
// vector code too), so results do not depend on how a batch was split into calls.
void swiglu(float* gate, const float* up, int64_t n) {
    int64_t i = 0;
#if defined(__AVX2__)
    const auto step = [](const float* gp, const float* upp, float* out) {
        const V g = Vec::load(gp);
        const V e = exp_nonpositive(Vec::neg_abs(g));
        const V r = Vec::div(Vec::set1(1.0f), Vec::add(Vec::set1(1.0f), e));
        const V sig = Vec::if_negative(g, Vec::mul(e, r), r);
        Vec::store(out, Vec::mul(Vec::mul(g, sig), Vec::load(upp)));
    };
    for (; i + W <= n; i += W) step(gate + i, up + i, gate + i);
    if (i < n) {
        float g[W] = {}, u[W] = {};
        std::memcpy(g, gate + i, static_cast<size_t>(n - i) * sizeof(float));
        std::memcpy(u, up + i, static_cast<size_t>(n - i) * sizeof(float));
        step(g, u, g);
        std::memcpy(gate + i, g, static_cast<size_t>(n - i) * sizeof(float));
        return;
    }
#endif
    for (; i < n; ++i) {
        const float g = gate[i];
        const float e = std::exp(-std::fabs(g));
        const float sig = g >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
        gate[i] = g * sig * up[i];
    }
}

// The bandwidth probe's read: the widest loads, independent accumulators so that only
// loads are on the critical path, and every line prefetched at the decode matmul's two
// distances, in kDecodeStreams streams side by side as decode reads its rows, since
// that is the ceiling decode is held to.
// (Xeon, 1 thread: scalar words 8 GB/s, SSE 9, AVX2 14, AVX2 + prefetch 14.5-15.3.)
uint64_t read_sum(const void* p, size_t bytes) {
    const auto* b = static_cast<const uint8_t*>(p);
    const size_t n_words = bytes / 8;
    size_t i = 0;  // words
    uint64_t total = 0;
#if defined(__AVX512F__) || defined(__AVX2__)
    constexpr size_t kStep = 32;  // words: four lines per stream per step
    const size_t part = n_words / kDecodeStreams / kStep * kStep;
#endif
#if defined(__AVX512F__)
    __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    for (; i < part; i += kStep) {
        for (int st = 0; st < kDecodeStreams; ++st) {
            const uint8_t* at = b + 8 * (st * part + i);
            for (int k = 0; k < 4; ++k) {
                prefetch_decode_line(at + 64 * k);
                s[k] = _mm512_add_epi64(s[k], _mm512_load_si512(at + 64 * k));
            }
        }
    }
    i = part * kDecodeStreams;
    total = static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s[0], s[1]), _mm512_add_epi64(s[2], s[3]))));
#elif defined(__AVX2__)
    __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    for (; i < part; i += kStep) {
        for (int st = 0; st < kDecodeStreams; ++st) {
            const uint8_t* at = b + 8 * (st * part + i);
            for (int h = 0; h < 2; ++h, at += 128) {
                prefetch_decode_line(at);
                prefetch_decode_line(at + 64);
                for (int k = 0; k < 4; ++k) s[k] = _mm256_add_epi64(s[k], _mm256_load_si256(reinterpret_cast<const __m256i*>(at + 32 * k)));
            }
        }
    }
    i = part * kDecodeStreams;
    const __m256i s4 = _mm256_add_epi64(_mm256_add_epi64(s[0], s[1]), _mm256_add_epi64(s[2], s[3]));
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s4);
    total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
#else
    uint64_t s[8] = {};
    for (; i + 8 <= n_words; i += 8) {
        prefetch_decode_line(b + 8 * i);
        for (int k = 0; k < 8; ++k) {
            uint64_t w;
            std::memcpy(&w, b + 8 * (i + k), 8);
            s[k] += w;
        }
    }
    for (uint64_t v : s) total += v;
#endif
    for (; i < n_words; ++i) {
        uint64_t w;
        std::memcpy(&w, b + 8 * i, 8);
        total += w;
    }
    return total;
}

}  // namespace

CpuKernels make_kernels() {
    CpuKernels k;
#if defined(__AVX512F__)
    k.isa = Isa::Avx512;
#elif defined(__AVX2__)
    k.isa = Isa::Avx2;
#else
    k.isa = Isa::Generic;
#endif
    k.dot_f32 = dot_f32;
    k.dot_f16_f32 = dot_f16_f32;
    k.axpy_f32 = axpy_f32;
    k.axpy_f16 = axpy_f16;
    k.f32_to_f16 = f32_to_f16;
    k.swiglu = swiglu;
    k.rms_norm = rms_norm;
    k.read_sum = read_sum;
    k.dequantize_f16 = dequantize_f16_row;
    k.dequantize_bf16 = dequantize_bf16_row;
    k.dequantize_q8_0 = dequantize_q8_0_row;
    k.dequantize_q4_0 = dequantize_q4_0_row;
    k.dequantize_q4_k = dequantize_q4_k_row;
    k.dequantize_q5_k = dequantize_q5_k_row;
    k.dequantize_q6_k = dequantize_q6_k_row;
    return k;
}

}  // namespace hearth::kernels::HEARTH_ISA_NS
