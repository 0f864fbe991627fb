#include "kernels/cpu/matmul.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/quant_dot.h"
#include "tensor/quant.h"

namespace hearth::kernels {
namespace {

using gguf::GgmlType;

enum class ActFormat { F32, Q8_0, Q8_K };

ActFormat act_format(GgmlType type) {
    switch (type) {
        case GgmlType::Q8_0:
        case GgmlType::Q4_0: return ActFormat::Q8_0;
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K: return ActFormat::Q8_K;
        default: return ActFormat::F32;
    }
}

size_t act_row_bytes(ActFormat f, int64_t cols) {
    switch (f) {
        case ActFormat::Q8_0: return q8_0_act_row_bytes(cols / tensor::kQK);
        case ActFormat::Q8_K: return static_cast<size_t>(cols / tensor::kQK_K) * sizeof(BlockQ8_K);
        case ActFormat::F32: break;
    }
    return static_cast<size_t>(cols) * sizeof(float);
}

[[noreturn]] void fail(const char* what, const WeightMatrix& w) {
    std::fprintf(stderr, "hearth matmul: %s (type %s, %lld x %lld, row_bytes %zu)\n", what,
                 std::string(gguf::type_name(w.type)).c_str(), static_cast<long long>(w.rows),
                 static_cast<long long>(w.cols), w.row_bytes);
    std::abort();
}

void check(const WeightMatrix& w) {
    if (!matmul_supported(w.type)) fail("unsupported weight type", w);
    const auto need = gguf::checked_row_bytes(w.type, static_cast<uint64_t>(w.cols));
    if (!need || w.row_bytes < *need) fail("columns do not fit the type's blocks or row_bytes", w);
}

// Activation scratch, one per calling thread: matmuls issued from different threads
// (with different pools) never share it; workers of one call only read it.
std::vector<uint8_t>& scratch(size_t bytes) {
    thread_local std::vector<uint8_t> buf;
    if (buf.size() < bytes) buf.resize(bytes);
    return buf;
}

// Tokens per block so the block's activations stay in L2 while every row of a
// thread's range streams past them. A multiple of the kernels' token tile, and
// independent of the thread count, so results do not depend on it.
int64_t token_block(size_t x_stride) {
    constexpr size_t kBudget = 1024 * 1024;
    int64_t tb = static_cast<int64_t>(kBudget / std::max<size_t>(x_stride, 1));
    tb = std::max<int64_t>(kGemmTokenTile, tb / kGemmTokenTile * kGemmTokenTile);
    return std::min<int64_t>(tb, 512);
}

}  // namespace

bool matmul_supported(GgmlType type) {
    switch (type) {
        case GgmlType::F32:
        case GgmlType::F16:
        case GgmlType::BF16:
        case GgmlType::Q8_0:
        case GgmlType::Q4_0:
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K: return true;
        default: return false;
    }
}

void matmul_with(const CpuKernels& k, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
                 ThreadPool& pool) {
    if (n_tokens <= 0 || w.rows <= 0) return;
    check(w);
    const GemmFn gemm = k.gemm(w.type);
    if (gemm == nullptr) fail("no kernel for this type", w);
    const int64_t cols = w.cols, rows = w.rows;
    const ActFormat fmt = act_format(w.type);
    const size_t x_stride = act_row_bytes(fmt, cols);
    const void* xa = x;

    if (fmt != ActFormat::F32) {
        const QuantizeRowFn quant = fmt == ActFormat::Q8_0 ? k.quantize_row_q8_0 : k.quantize_row_q8_k;
        std::vector<uint8_t>& buf = scratch(x_stride * static_cast<size_t>(n_tokens));
        uint8_t* dst = buf.data();
        xa = dst;
        if (n_tokens == 1 || pool.size() == 1) {
            for (int64_t t = 0; t < n_tokens; ++t) quant(x + t * cols, dst + t * x_stride, cols);
        } else {
            pool.run([&](int thread, int n_threads) {
                int64_t t0 = 0, t1 = 0;
                ThreadPool::chunk(n_tokens, thread, n_threads, t0, t1);
                for (int64_t t = t0; t < t1; ++t) quant(x + t * cols, dst + t * x_stride, cols);
            });
        }
    }

    const auto* xb = static_cast<const uint8_t*>(xa);
    const int64_t tb = token_block(x_stride);
    auto work = [&](int thread, int n_threads) {
        int64_t r0 = 0, r1 = 0;
        ThreadPool::chunk(rows, thread, n_threads, r0, r1, kGemmRowAlign);
        if (r0 >= r1) return;
        for (int64_t t0 = 0; t0 < n_tokens; t0 += tb) {
            const int64_t nt = std::min(tb, n_tokens - t0);
            gemm(w.data + static_cast<size_t>(r0) * w.row_bytes, w.row_bytes, r1 - r0, xb + t0 * x_stride, x_stride, nt,
                 y + t0 * rows + r0, rows, cols);
        }
    };
    if (pool.size() == 1) work(0, 1);
    else pool.run(work);
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
    matmul_with(cpu_kernels(), w, x, n_tokens, y, pool);
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = 0; r < w.rows; ++r) {
        auto ok = tensor::dequantize_row(w.type, w.data + static_cast<size_t>(r) * w.row_bytes, row.data(), w.cols);
        if (!ok) fail("reference cannot dequantize this type", w);
        for (int64_t t = 0; t < n_tokens; ++t) {
            const float* xt = x + t * w.cols;
            double s = 0;
            for (int64_t i = 0; i < w.cols; ++i) s += static_cast<double>(row[i]) * xt[i];
            y[t * w.rows + r] = static_cast<float>(s);
        }
    }
}

}  // namespace hearth::kernels
