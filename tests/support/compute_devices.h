// The devices this build and machine can compute on, for tests that run on each.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "kernels/backend.h"

namespace hearth::test {

// "cpu" and "vulkan:N" for every Vulkan device (software ones too: CI has Mesa's
// lavapipe). Says once on stdout why there is no Vulkan device, where there is none.
inline std::vector<std::string> compute_devices() {
    std::vector<std::string> specs{"cpu"};
    for (const kernels::DeviceInfo& d : kernels::list_devices()) {
        if (d.kind == "vulkan") specs.push_back("vulkan:" + std::to_string(d.index));
    }
    static bool said = false;
    if (specs.size() == 1 && !said) {
        said = true;
        std::printf("Vulkan tests skipped: %s\n", kernels::vulkan_unavailable_reason().c_str());
    }
    return specs;
}

// Test-name-safe form of a device spec ("vulkan:0" -> "vulkan0").
inline std::string device_test_name(std::string spec) {
    std::erase(spec, ':');
    return spec;
}

}  // namespace hearth::test
