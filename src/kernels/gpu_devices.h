#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace hearth::kernels {

struct GpuDevice {
    int index = 0;
    std::string name;
    int compute_major = 0;
    int compute_minor = 0;
    uint64_t total_memory = 0;
};

// True when this binary was built with the CUDA backend.
bool cuda_compiled();
// The CUDA devices usable now. Empty when CUDA is not compiled in, no driver is
// installed, the driver is too old or no device is present: any runtime error
// means "no GPU" and the caller falls back to the CPU.
std::vector<GpuDevice> gpu_devices();
// Why gpu_devices() is empty ("" when it is not).
std::string gpu_unavailable_reason();

// Dequantizes n Q8_0 values on device 0 (a small end-to-end check of the CUDA
// path: upload, kernel, download).
Result<std::vector<float>> cuda_dequantize_q8_0(std::span<const uint8_t> blocks, int64_t n);

}  // namespace hearth::kernels
