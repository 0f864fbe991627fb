#pragma once

// Small helpers shared by the Vulkan backend's sources: VkResult → error values.

#include <vulkan/vulkan.h>

#include <string>
#include <string_view>

#include "base/result.h"

namespace hearth::kernels::vk {

const char* result_name(VkResult r);

// "vkCreateInstance failed: VK_ERROR_INCOMPATIBLE_DRIVER"
inline Error error(std::string_view what, VkResult r) {
    return make_error(std::string(what) + " failed: " + result_name(r));
}

// A zeroed Vulkan struct with its sType (and pNext) set.
template <class T>
T vk_struct(VkStructureType type, void* next = nullptr) {
    T t{};
    t.sType = type;
    t.pNext = next;
    return t;
}

// "1.5 GiB", for messages about memory.
std::string format_bytes(uint64_t bytes);

}  // namespace hearth::kernels::vk
