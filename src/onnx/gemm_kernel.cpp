// The gemm micro-kernel, compiled three times with HEARTH_ISA_NS set to generic, avx2 or
// avx512 and that ISA's flags (see CMakeLists.txt); GCC vector extensions give each build
// its natural register width. A tile is kMr rows by two vectors of columns.
#include <cstdint>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#ifndef HEARTH_ISA_NS
#error "HEARTH_ISA_NS must name the instruction set this file is compiled for"
#endif

namespace hearth::onnx::HEARTH_ISA_NS {

// Rows per tile: as many accumulators as the register file holds beside the two B vectors
// and a broadcast (AVX-512: 32 zmm, 24 accumulators; AVX2: 16 ymm, 12).
#if defined(__AVX512F__)
constexpr int kLanes = 16;
constexpr int kMr = 12;
#elif defined(__AVX2__)
constexpr int kLanes = 8;
constexpr int kMr = 6;
#else
constexpr int kLanes = 4;
constexpr int kMr = 6;
#endif
constexpr int kNr = 2 * kLanes;

typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

int tile_rows() { return kMr; }
int tile_cols() { return kNr; }

inline Vec load(const float* p) {
    Vec v;
    std::memcpy(&v, p, sizeof(Vec));
    return v;
}
inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof(Vec)); }

// Broadcast straight from memory: GCC lowers `Vec{} + *p` to a load plus a register
// broadcast, which competes with the FMAs for the shuffle port.
inline Vec broadcast(const float* p) {
#if defined(__AVX512F__)
    return (Vec)_mm512_set1_ps(*p);
#elif defined(__AVX2__)
    return (Vec)_mm256_broadcast_ss(p);
#else
    return Vec{} + *p;
#endif
}

// c(i, j) (+)= sum_k a[k * kMr + i] * row(k)[j] for i < mr, j < nr; without accumulate,
// c starts from bias[i] (when given) plus add[i * ldc + j] (when given: laid out as c). row(k) points
// at B's row k for this tile.
template <class RowB>
inline void tile(int64_t kc, const float* a, RowB row, float* c, int64_t ldc, int mr, int nr, bool accumulate,
                 const float* bias, const float* add) {
    Vec c0[kMr], c1[kMr];
    for (int i = 0; i < kMr; ++i) {
        c0[i] = Vec{};
        c1[i] = Vec{};
    }
    for (int64_t k = 0; k < kc; ++k) {
        const float* bk = row(k);
        const Vec b0 = load(bk);
        const Vec b1 = load(bk + kLanes);
        const float* ak = a + k * kMr;
#pragma GCC unroll 12
        for (int i = 0; i < kMr; ++i) {
            const Vec ai = broadcast(ak + i);
            c0[i] += ai * b0;
            c1[i] += ai * b1;
        }
    }
    if (!accumulate && bias)
        for (int i = 0; i < mr; ++i) {
            c0[i] += bias[i];
            c1[i] += bias[i];
        }
    if (mr == kMr && nr == kNr) {
        for (int i = 0; i < kMr; ++i) {
            float* ci = c + i * ldc;
            if (add && !accumulate) {
                store(ci, load(add + i * ldc) + c0[i]);
                store(ci + kLanes, load(add + i * ldc + kLanes) + c1[i]);
            } else if (accumulate) {
                store(ci, load(ci) + c0[i]);
                store(ci + kLanes, load(ci + kLanes) + c1[i]);
            } else {
                store(ci, c0[i]);
                store(ci + kLanes, c1[i]);
            }
        }
        return;
    }
    alignas(64) float tmp[kMr * kNr];
    for (int i = 0; i < kMr; ++i) {
        store(tmp + i * kNr, c0[i]);
        store(tmp + i * kNr + kLanes, c1[i]);
    }
    for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) {
            if (accumulate) c[i * ldc + j] += tmp[i * kNr + j];
            else c[i * ldc + j] = tmp[i * kNr + j] + (add ? add[i * ldc + j] : 0.0f);
        }
}

// B packed in panels: row k at b + k * kNr.
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr, bool accumulate) {
    tile(kc, a, [b](int64_t k) { return b + k * kNr; }, c, ldc, mr, nr, accumulate, nullptr, nullptr);
}

// B read in place: row k at b + koff[k] (a stride-1 convolution's im2col row is a shifted
// run of one input channel, so no packing is needed). kNr floats must be readable per row.
void micro_kernel_offsets(int64_t kc, const float* a, const float* b, const int64_t* koff, float* c, int64_t ldc, int mr,
                          int nr, const float* bias, const float* add) {
    tile(kc, a, [b, koff](int64_t k) { return b + koff[k]; }, c, ldc, mr, nr, false, bias, add);
}

}  // namespace hearth::onnx::HEARTH_ISA_NS
