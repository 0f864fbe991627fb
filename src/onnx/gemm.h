// Single-precision matrix multiply for MatMul, Gemm and the convolutions: C = A·B (+ C),
// blocked and packed for the cache, a register-tiled micro-kernel compiled per instruction
// set (gemm_kernel.cpp) and chosen at run time, threaded over columns or rows.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"

namespace hearth::onnx {

// Where B's elements come from. The conv kernels supply B on the fly (im2col while packing),
// so the driver only asks for packed panels.
class GemmSource {
public:
    virtual ~GemmSource() = default;
    // Writes rows [k0, k0+kc) of columns [n0, n0+nc) in panels of `width` columns: column
    // n0 + p*width + j of row k0 + k goes to dst[p*width*kc + k*width + j]; the last panel's
    // columns past nc are zero.
    virtual void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int64_t width, float* dst) const = 0;
};

// B(k, n) = p[k * row_stride + n * col_stride].
class StridedSource final : public GemmSource {
public:
    StridedSource(const float* p, int64_t row_stride, int64_t col_stride) : p_(p), rs_(row_stride), cs_(col_stride) {}
    void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int64_t width, float* dst) const override;

private:
    const float* p_;
    int64_t rs_, cs_;
};

struct GemmA {
    const float* p;
    int64_t row_stride;  // A(m, k) = p[m * row_stride + k * col_stride]
    int64_t col_stride;
};

// C[m * ldc + n] (+)= sum_k A(m, k) B(k, n) for m < M, n < N. pool may be null (one thread).
void sgemm(int64_t M, int64_t N, int64_t K, const GemmA& a, const GemmSource& b, float* c, int64_t ldc, bool accumulate,
           ThreadPool* pool);

// A (typically weights) packed once into the micro-kernel's row panels, for sgemm_offsets.
struct PackedA {
    std::vector<float> data;
    int64_t M = 0, K = 0;
};
void pack_a_panels(const GemmA& a, int64_t M, int64_t K, PackedA& out);

// C[m * ldc + n] = bias[m] + add[m * ldc + n] + sum_k A(m, k) * b[koff[k] + n] for n < N
// (bias and add may be null), on one thread, B read in place (no packing). Each row
// b + koff[k] must be readable for N rounded up to gemm_tile_cols() floats.
void sgemm_offsets(const PackedA& a, const float* b, const int64_t* koff, int64_t N, float* c, int64_t ldc, const float* bias,
                   const float* add);

// The micro-kernel's tile, for tests and benchmarks.
int gemm_tile_rows();
int gemm_tile_cols();
const char* gemm_isa_name();

}  // namespace hearth::onnx
