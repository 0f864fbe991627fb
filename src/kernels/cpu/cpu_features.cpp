#include "kernels/cpu/cpu_features.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace hearth::kernels {

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = [] {
        CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
        const bool osxsave = c & (1u << 27), avx = c & (1u << 28);
        if (!osxsave || !avx) return f;
        // The OS must save the wider registers on context switch: XCR0 says which.
        uint32_t xcr0_lo = 0, xcr0_hi = 0;
        __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
        const bool os_avx = (xcr0_lo & 0x6) == 0x6;
        const bool os_avx512 = os_avx && (xcr0_lo & 0xe0) == 0xe0;
        if (!os_avx) return f;
        f.fma = c & (1u << 12);
        f.f16c = c & (1u << 29);
        if (__get_cpuid_max(0, nullptr) < 7) return f;
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = b & (1u << 5);
        if (os_avx512) {
            f.avx512f = b & (1u << 16);
            f.avx512dq = b & (1u << 17);
            f.avx512bw = b & (1u << 30);
            f.avx512vl = b & (1u << 31);
            f.avx512vnni = c & (1u << 11);
            __cpuid_count(7, 1, a, b, c, d);
            f.avx512bf16 = a & (1u << 5);
        }
#endif
        return f;
    }();
    return features;
}

bool cpu_supports(Isa isa) {
    const CpuFeatures& f = cpu_features();
    switch (isa) {
        case Isa::Generic: return true;
        case Isa::Avx2: return f.avx2 && f.fma && f.f16c;
        // VNNI too: the matmul kernels (isa_quant_dot.cpp) use vpdpbusd/vpdpwssd.
        case Isa::Avx512:
            return cpu_supports(Isa::Avx2) && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
    }
    return false;
}

Isa preferred_isa() {
    Isa best = Isa::Generic;
    for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        if (cpu_supports(isa)) best = isa;
    }
    if (const char* env = std::getenv("HEARTH_ISA")) {
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
            if (isa_name(isa) == env && static_cast<int>(isa) < static_cast<int>(best)) best = isa;
        }
    }
    return best;
}

std::string_view isa_name(Isa isa) {
    switch (isa) {
        case Isa::Generic: return "generic";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512";
    }
    return "?";
}

std::string cpu_feature_string() {
    const CpuFeatures& f = cpu_features();
    std::string s;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!s.empty()) s += ' ';
        s += name;
    };
    add(f.avx2, "avx2");
    add(f.fma, "fma");
    add(f.f16c, "f16c");
    add(f.avx512f, "avx512f");
    add(f.avx512bw, "avx512bw");
    add(f.avx512vl, "avx512vl");
    add(f.avx512dq, "avx512dq");
    add(f.avx512vnni, "avx512vnni");
    add(f.avx512bf16, "avx512bf16");
    return s.empty() ? "none" : s;
}

}  // namespace hearth::kernels
