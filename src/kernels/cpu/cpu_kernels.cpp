#include "kernels/cpu/cpu_kernels.h"

namespace hearth::kernels {

namespace generic { CpuKernels make_kernels(); }
namespace avx2 { CpuKernels make_kernels(); }
namespace avx512 { CpuKernels make_kernels(); }
namespace generic { void add_quant_kernels(CpuKernels&); }
namespace avx2 { void add_quant_kernels(CpuKernels&); }
namespace avx512 { void add_quant_kernels(CpuKernels&); }
namespace generic { void add_q4_k_panel_kernels(CpuKernels&); }
namespace avx2 { void add_q4_k_panel_kernels(CpuKernels&); }
namespace avx512 { void add_q4_k_panel_kernels(CpuKernels&); }
namespace avx2 { void add_attention_kernels(CpuKernels&); }
namespace avx512 { void add_attention_kernels(CpuKernels&); }

namespace {
CpuKernels with_kernels(CpuKernels k, void (*add)(CpuKernels&)) {
    add(k);
    return k;
}
}  // namespace

GemmFn CpuKernels::gemm(gguf::GgmlType type) const {
    using gguf::GgmlType;
    switch (type) {
        case GgmlType::F32: return gemm_f32;
        case GgmlType::F16: return gemm_f16;
        case GgmlType::BF16: return gemm_bf16;
        case GgmlType::Q8_0: return gemm_q8_0;
        case GgmlType::Q4_0: return gemm_q4_0;
        case GgmlType::Q4_K: return gemm_q4_k;
        case GgmlType::Q5_K: return gemm_q5_k;
        case GgmlType::Q6_K: return gemm_q6_k;
        default: return nullptr;
    }
}

DequantizeRowFn CpuKernels::dequantize(gguf::GgmlType type) const {
    using gguf::GgmlType;
    switch (type) {
        case GgmlType::F16: return dequantize_f16;
        case GgmlType::BF16: return dequantize_bf16;
        case GgmlType::Q8_0: return dequantize_q8_0;
        case GgmlType::Q4_0: return dequantize_q4_0;
        case GgmlType::Q4_K: return dequantize_q4_k;
        case GgmlType::Q5_K: return dequantize_q5_k;
        case GgmlType::Q6_K: return dequantize_q6_k;
        default: return nullptr;
    }
}

// Each table is built on first use and only where the CPU runs its ISA: the wide
// ISA's make_kernels() is itself compiled with that ISA's instructions.
const CpuKernels* cpu_kernels_for(Isa isa) {
    if (!cpu_supports(isa)) return nullptr;
    switch (isa) {
        case Isa::Generic: {
            static const CpuKernels table =
                with_kernels(with_kernels(generic::make_kernels(), generic::add_quant_kernels), generic::add_q4_k_panel_kernels);
            return &table;
        }
        case Isa::Avx2: {
            static const CpuKernels table =
                with_kernels(with_kernels(with_kernels(avx2::make_kernels(), avx2::add_quant_kernels), avx2::add_attention_kernels),
                             avx2::add_q4_k_panel_kernels);
            return &table;
        }
        case Isa::Avx512: {
            static const CpuKernels table =
                with_kernels(with_kernels(with_kernels(avx512::make_kernels(), avx512::add_quant_kernels),
                                          avx512::add_attention_kernels),
                             avx512::add_q4_k_panel_kernels);
            return &table;
        }
    }
    return nullptr;
}

const CpuKernels& cpu_kernels() {
    static const CpuKernels* chosen = cpu_kernels_for(preferred_isa());
    return *chosen;
}

}  // namespace hearth::kernels
