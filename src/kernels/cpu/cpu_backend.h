#pragma once

// The CPU device's own types: how it holds weights and activations. Code outside
// kernels/ sees them only as kernels::Weights and kernels::Buffer; CPU tests and
// benchmarks may look inside.

#include <memory>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu/matmul.h"

namespace hearth::kernels {

// A matrix or vector prepared by the CPU device. A matrix's `matrix.data` is the stored
// layout (in the file's mapping or in `own`), `matrix.panels` a re-layout where the
// kernels want one; a vector's values are f32 (`values`, pointing into the caller's
// memory or `own_values`).
class CpuWeights final : public Weights {
public:
    CpuWeights(const WeightMatrix& m, PackedWeights memory, bool reads_host)
        : Weights(m.type, m.rows, m.cols, reads_host), matrix(m), own(std::move(memory)) {}
    CpuWeights(const float* v, int64_t n) : Weights(gguf::GgmlType::F32, 1, n, true), values(v) {}

    WeightMatrix matrix;
    PackedWeights own;
    const float* values = nullptr;
};

const CpuWeights& cpu_weights(const Weights& w);

class CpuBuffer final : public Buffer {
public:
    explicit CpuBuffer(int64_t n) : Buffer(n), values(static_cast<size_t>(n)) {}
    std::vector<float> values;
};

// The CPU backend with `n_threads` threads (0: all cores).
std::unique_ptr<Backend> make_cpu_backend(int n_threads);

}  // namespace hearth::kernels
