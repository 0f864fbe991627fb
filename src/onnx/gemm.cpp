// The gemm driver: cache blocking, packing of A and B into the micro-kernel's layout, and
// the split of work across threads. See gemm.h.
#include "onnx/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_features.h"

namespace hearth::onnx {

#define HEARTH_GEMM_ISA(ns)                                                                              \
    namespace ns {                                                                                       \
    int tile_rows();                                                                                     \
    int tile_cols();                                                                                     \
    void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr, \
                      bool accumulate);                                                                  \
    void micro_kernel_offsets(int64_t kc, const float* a, const float* b, const int64_t* koff, float* c,         \
                              int64_t ldc, int mr, int nr, const float* bias, const float* add);                 \
    }
HEARTH_GEMM_ISA(generic)
HEARTH_GEMM_ISA(avx2)
HEARTH_GEMM_ISA(avx512)
#undef HEARTH_GEMM_ISA

namespace {

using MicroKernel = void (*)(int64_t, const float*, const float*, float*, int64_t, int, int, bool);
using OffsetsKernel = void (*)(int64_t, const float*, const float*, const int64_t*, float*, int64_t, int, int,
                               const float*, const float*);

struct KernelChoice {
    MicroKernel fn;
    OffsetsKernel offsets_fn;
    int mr, nr;
    const char* name;
};

const KernelChoice& choice() {
    static const KernelChoice k = [] {
        switch (kernels::preferred_isa()) {
            case kernels::Isa::Avx512: return KernelChoice{avx512::micro_kernel, avx512::micro_kernel_offsets, avx512::tile_rows(), avx512::tile_cols(), "avx512"};
            case kernels::Isa::Avx2: return KernelChoice{avx2::micro_kernel, avx2::micro_kernel_offsets, avx2::tile_rows(), avx2::tile_cols(), "avx2"};
            default: return KernelChoice{generic::micro_kernel, generic::micro_kernel_offsets, generic::tile_rows(), generic::tile_cols(), "generic"};
        }
    }();
    return k;
}

constexpr int64_t kKc = 256;  // depth of a packed block: A and B panels stay in L1/L2
constexpr int64_t kMc = 96;   // rows of A per block (multiple of the tile rows: 6 and 12)
constexpr int64_t kNc = 1024; // columns of B per block

// Packs rows [m0, m0+mc) x depth [k0, k0+kc) of A as panels of mr rows, k-major.
void pack_a(const GemmA& a, int64_t m0, int64_t mc, int64_t k0, int64_t kc, int mr, float* dst) {
    for (int64_t i0 = 0; i0 < mc; i0 += mr) {
        const int64_t rows = std::min<int64_t>(mr, mc - i0);
        for (int64_t k = 0; k < kc; ++k) {
            const float* src = a.p + (m0 + i0) * a.row_stride + (k0 + k) * a.col_stride;
            int64_t i = 0;
            for (; i < rows; ++i) dst[i] = src[i * a.row_stride];
            for (; i < mr; ++i) dst[i] = 0.0f;
            dst += mr;
        }
    }
}

void gemm_block_range(int64_t M, int64_t n_begin, int64_t n_end, int64_t m_begin, int64_t m_end, int64_t K,
                      const GemmA& a, const GemmSource& b, float* c, int64_t ldc, bool accumulate) {
    const KernelChoice& kc_ = choice();
    const int mr = kc_.mr, nr = kc_.nr;
    (void)M;
    thread_local std::vector<float> a_buf, b_buf;
    a_buf.resize(static_cast<size_t>(kMc * kKc) + 64);
    b_buf.resize(static_cast<size_t>(kNc * kKc) + 64);
    for (int64_t jc = n_begin; jc < n_end; jc += kNc) {
        const int64_t nc = std::min(kNc, n_end - jc);
        for (int64_t pc = 0; pc < K; pc += kKc) {
            const int64_t kc = std::min(kKc, K - pc);
            b.pack(pc, kc, jc, nc, nr, b_buf.data());
            const bool acc = accumulate || pc > 0;
            for (int64_t ic = m_begin; ic < m_end; ic += kMc) {
                const int64_t mc = std::min(kMc, m_end - ic);
                pack_a(a, ic, mc, pc, kc, mr, a_buf.data());
                for (int64_t jr = 0; jr < nc; jr += nr) {
                    const int cols = static_cast<int>(std::min<int64_t>(nr, nc - jr));
                    for (int64_t ir = 0; ir < mc; ir += mr) {
                        const int rows = static_cast<int>(std::min<int64_t>(mr, mc - ir));
                        kc_.fn(kc, a_buf.data() + ir * kc, b_buf.data() + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, rows,
                               cols, acc);
                    }
                }
            }
        }
    }
}

}  // namespace

void StridedSource::pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int64_t width, float* dst) const {
    for (int64_t p0 = 0; p0 < nc; p0 += width) {
        const int64_t cols = std::min(width, nc - p0);
        float* panel = dst + p0 * kc;
        if (cs_ == 1) {
            for (int64_t k = 0; k < kc; ++k) {
                float* d = panel + k * width;
                std::memcpy(d, p_ + (k0 + k) * rs_ + n0 + p0, static_cast<size_t>(cols) * sizeof(float));
                for (int64_t j = cols; j < width; ++j) d[j] = 0.0f;
            }
        } else {
            // Transposed B (weights stored [N, K]): walk each column's contiguous k run.
            for (int64_t j = 0; j < width; ++j) {
                if (j >= cols) {
                    for (int64_t k = 0; k < kc; ++k) panel[k * width + j] = 0.0f;
                    continue;
                }
                const float* src = p_ + k0 * rs_ + (n0 + p0 + j) * cs_;
                for (int64_t k = 0; k < kc; ++k) panel[k * width + j] = src[k * rs_];
            }
        }
    }
}

void sgemm(int64_t M, int64_t N, int64_t K, const GemmA& a, const GemmSource& b, float* c, int64_t ldc, bool accumulate,
           ThreadPool* pool) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int64_t m = 0; m < M; ++m) std::fill(c + m * ldc, c + m * ldc + N, 0.0f);
        return;
    }
    const int threads = pool ? pool->size() : 1;
    const int64_t work = M * N * K;
    const int nr = choice().nr, mr = choice().mr;
    if (threads == 1 || work < (int64_t{1} << 16)) {
        gemm_block_range(M, 0, N, 0, M, K, a, b, c, ldc, accumulate);
        return;
    }
    // Split the wider dimension so each thread packs a disjoint part of it.
    const bool split_n = N >= static_cast<int64_t>(nr) * threads * 2 || N >= M;
    pool->run([&](int t, int nt) {
        int64_t b0, e0;
        if (split_n) {
            ThreadPool::chunk(N, t, nt, b0, e0, nr);
            if (b0 < e0) gemm_block_range(M, b0, e0, 0, M, K, a, b, c, ldc, accumulate);
        } else {
            ThreadPool::chunk(M, t, nt, b0, e0, mr);
            if (b0 < e0) gemm_block_range(M, 0, N, b0, e0, K, a, b, c, ldc, accumulate);
        }
    });
}

void pack_a_panels(const GemmA& a, int64_t M, int64_t K, PackedA& out) {
    const int mr = choice().mr;
    out.M = M, out.K = K;
    out.data.resize(static_cast<size_t>((M + mr - 1) / mr * mr * K));  // whole row panels
    pack_a(a, 0, M, 0, K, mr, out.data.data());
}

// The whole depth in one pass: each output tile is written once, with bias and add, and
// B's rows (a strip of input channels) stay in L1/L2 across the row tiles.
void sgemm_offsets(const PackedA& a, const float* b, const int64_t* koff, int64_t N, float* c, int64_t ldc, const float* bias,
                   const float* add) {
    const KernelChoice& kc_ = choice();
    const int mr = kc_.mr, nr = kc_.nr;
    for (int64_t jr = 0; jr < N; jr += nr) {
        const int cols = static_cast<int>(std::min<int64_t>(nr, N - jr));
        for (int64_t ir = 0; ir < a.M; ir += mr) {
            const int rows = static_cast<int>(std::min<int64_t>(mr, a.M - ir));
            kc_.offsets_fn(a.K, a.data.data() + ir * a.K, b + jr, koff, c + ir * ldc + jr, ldc, rows, cols,
                           bias ? bias + ir : nullptr, add ? add + ir * ldc + jr : nullptr);
        }
    }
}

int gemm_tile_rows() { return choice().mr; }
int gemm_tile_cols() { return choice().nr; }
const char* gemm_isa_name() { return choice().name; }

}  // namespace hearth::onnx
