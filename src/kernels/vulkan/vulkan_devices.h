#pragma once

// The Vulkan compute devices of this machine. Built only with HEARTH_VULKAN; the
// rest of kernels/ reaches the Vulkan backend through these functions alone.

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "kernels/backend.h"

namespace hearth::kernels {

// Every physical device with a compute queue, kind "vulkan", index = position in this list.
// Software devices (lavapipe) are listed too; see vulkan_device_is_software().
std::vector<DeviceInfo> vulkan_list_devices();

// Why no device is usable ("" when one is): no loader, no driver (ICD), no compute queue...
std::string vulkan_probe_error();

// True for a CPU implementation of Vulkan (VK_PHYSICAL_DEVICE_TYPE_CPU, e.g. lavapipe):
// correct but slower than the CPU backend, so "auto" should not prefer it.
bool vulkan_device_is_software(int index);

// Opens device `index` of vulkan_list_devices(): an error value for a bad index, missing
// features or a failed initialisation.
Result<std::shared_ptr<Device>> open_vulkan_device(int index);

}  // namespace hearth::kernels
