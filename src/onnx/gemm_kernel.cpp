// The gemm micro-kernel, compiled three times with HEARTH_ISA_NS set to generic, avx2 or
// avx512 and that ISA's flags (see CMakeLists.txt); GCC vector extensions give each build
// its natural register width. A tile is kMr rows by two vectors of columns.
#include <cstdint>
#include <cstring>

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

// c(i, j) (+)= sum_k a[k * kMr + i] * b[k * kNr + j] for i < mr, j < nr.
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr, bool accumulate) {
    Vec c0[kMr], c1[kMr];
    for (int i = 0; i < kMr; ++i) {
        c0[i] = Vec{} ;
        c1[i] = Vec{};
    }
    for (int64_t k = 0; k < kc; ++k) {
        const Vec b0 = load(b + k * kNr);
        const Vec b1 = load(b + k * kNr + kLanes);
        const float* ak = a + k * kMr;
#pragma GCC unroll 12
        for (int i = 0; i < kMr; ++i) {
            const Vec ai = Vec{} + ak[i];
            c0[i] += ai * b0;
            c1[i] += ai * b1;
        }
    }
    if (mr == kMr && nr == kNr) {
        for (int i = 0; i < kMr; ++i) {
            float* ci = c + i * ldc;
            if (accumulate) {
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
            else c[i * ldc + j] = tmp[i * kNr + j];
        }
}

}  // namespace hearth::onnx::HEARTH_ISA_NS
