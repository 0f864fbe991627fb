#pragma once

// The process-wide Vulkan instance and what it knows of the physical devices. Created
// on first use and kept for the life of the process (devices opened from it may live
// until exit), so that listing devices, probing and opening all see one enumeration.

#include <vulkan/vulkan.h>

#include <string>
#include <vector>

#include "kernels/backend.h"

namespace hearth::kernels::vk {

struct PhysicalDeviceEntry {
    VkPhysicalDevice handle = VK_NULL_HANDLE;
    DeviceInfo info;
    bool is_software = false;      // VK_PHYSICAL_DEVICE_TYPE_CPU (lavapipe, SwiftShader)
    uint32_t compute_family = 0;   // a queue family with VK_QUEUE_COMPUTE_BIT
    uint32_t api_version = 0;
    std::string unusable_reason;   // "" when this backend can run on it
};

struct InstanceState {
    VkInstance instance = VK_NULL_HANDLE;
    std::vector<PhysicalDeviceEntry> devices;  // those with a compute queue
    std::string error;                         // why there is no instance or no device
};

const InstanceState& instance_state();

}  // namespace hearth::kernels::vk
