#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/large_buffer.h"
#include "base/thread_pool.h"
#include "gguf/ggml_type.h"

namespace hearth::kernels {

// A weight matrix as stored in GGUF: `rows` output features, each a row of `cols`
// input features in `type`'s block layout, rows `row_bytes` apart.
struct WeightMatrix {
    gguf::GgmlType type = gguf::GgmlType::F32;
    const uint8_t* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    size_t row_bytes = 0;
    // The same rows re-laid out for the CPU kernels (q4_k_panels.h), or null; owned by
    // whoever packed them (pack_for_matmul). matmul() reads these where its kernels
    // take them and `data` otherwise; get_rows() always reads `data`.
    const uint8_t* panels = nullptr;
};

// Memory holding packed weights (a LargeBuffer: 2 MiB aligned, huge pages where offered).
struct PackedWeights {
    LargeBuffer bytes;
    size_t size = 0;
};

// Packs `w` for the preferred kernels if they run it faster so (Q4_K in 16-row panels
// on AVX-512) and points w.panels at the copy, which the caller keeps alive as long as
// w is used; returns an empty PackedWeights and leaves w alone otherwise.
PackedWeights pack_for_matmul(WeightMatrix& w);

// y = x · Wᵀ: x is n_tokens × cols, y is n_tokens × rows, both f32 row-major and
// contiguous. Uses the preferred ISA's kernels and every thread of the pool.
// Activations are quantized to the weight type's dot-product partner (Q8_0 for
// Q8_0/Q4_0, Q8_K for the k-quants) where that is how the format is meant to run.
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// One product of matmul_shared_input(): y = x · wᵀ.
struct MatmulOutput {
    const WeightMatrix* w = nullptr;
    float* y = nullptr;
};

// Every product of `outs` over the same input x (attention q/k/v, ffn gate/up): x is
// quantized once per activation format, and one parallel pass runs all products.
// Results are bit-identical to one matmul() per output.
void matmul_shared_input(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool);

struct CpuKernels;

// matmul() with one instruction set's kernels (tests and benchmarks run every ISA).
void matmul_with(const CpuKernels& kernels, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
                 ThreadPool& pool);

// matmul_shared_input() with one instruction set's kernels.
void matmul_shared_input_with(const CpuKernels& kernels, std::span<const MatmulOutput> outs, const float* x,
                              int64_t n_tokens, ThreadPool& pool);

// Reference for tests: dequantizes each weight row with tensor/'s scalar code and
// accumulates in double. Single-threaded and slow.
void matmul_reference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y);

}  // namespace hearth::kernels
