// The instruction sets whose kernels this CPU can run (the others are reported as skipped).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace hearth::test {

inline std::vector<kernels::Isa> runnable_isas() {
    using kernels::Isa;
    std::vector<Isa> isas;
    for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
        if (kernels::cpu_kernels_for(isa) != nullptr) isas.push_back(isa);
        else std::printf("skipping %s kernels: this CPU lacks them\n", std::string(kernels::isa_name(isa)).c_str());
    }
    return isas;
}

}  // namespace hearth::test
