#pragma once

#include <cstdint>

#include "gguf/ggml_type.h"
#include "kernels/cpu/cpu_features.h"

namespace hearth::kernels {

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using DotF32Fn = float (*)(const float* a, const float* b, int64_t n);

// One instruction set's kernels. Each table is built by the same source file
// compiled with that ISA's flags (isa_kernels.cpp).
struct CpuKernels {
    Isa isa = Isa::Generic;
    DotF32Fn dot_f32 = nullptr;
    DequantizeRowFn dequantize_f16 = nullptr;
    DequantizeRowFn dequantize_bf16 = nullptr;
    DequantizeRowFn dequantize_q8_0 = nullptr;
    DequantizeRowFn dequantize_q4_0 = nullptr;
    DequantizeRowFn dequantize_q4_k = nullptr;
    DequantizeRowFn dequantize_q5_k = nullptr;
    DequantizeRowFn dequantize_q6_k = nullptr;

    // nullptr for F32 (nothing to do) and types without a kernel.
    DequantizeRowFn dequantize(gguf::GgmlType type) const;
};

// The kernels of the preferred ISA (see preferred_isa()).
const CpuKernels& cpu_kernels();
// The kernels of one ISA, or nullptr when this CPU cannot run them.
const CpuKernels* cpu_kernels_for(Isa isa);

}  // namespace hearth::kernels
