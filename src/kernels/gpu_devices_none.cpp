// The GPU entry points of a build without the CUDA backend (HEARTH_CUDA=OFF).
#include "kernels/gpu_devices.h"

namespace hearth::kernels {

bool cuda_compiled() { return false; }
std::vector<GpuDevice> gpu_devices() { return {}; }
std::string gpu_unavailable_reason() { return "hearth was built without CUDA (HEARTH_CUDA=OFF)"; }
Result<std::vector<float>> cuda_dequantize_q8_0(std::span<const uint8_t>, int64_t) {
    return make_error(gpu_unavailable_reason());
}

}  // namespace hearth::kernels
