// hearth/kernels — compute kernels. cpu/ holds the CPU kernels, compiled once per
// instruction set (generic, AVX2, AVX-512) and chosen at run time from cpuid, so
// the build never depends on the build machine's CPU; cuda/ holds the CUDA backend,
// which a binary uses only when a driver and device are present. Kernels know the
// weight formats of tensor/ and nothing of models, files or HTTP.
#pragma once

#include <string>
#include <string_view>

namespace hearth::kernels {

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vnni = false;
    bool avx512bf16 = false;
};

const CpuFeatures& cpu_features();
bool cpu_supports(Isa isa);
// The widest instruction set this CPU runs, lowered by HEARTH_ISA=generic|avx2|avx512.
Isa preferred_isa();
std::string_view isa_name(Isa isa);
std::string cpu_feature_string();  // "avx2 fma f16c avx512f ..."

}  // namespace hearth::kernels
