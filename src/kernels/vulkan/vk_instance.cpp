#include "kernels/vulkan/vk_instance.h"

#include <cstring>
#include <mutex>

#include "kernels/vulkan/vk_util.h"
#include "kernels/vulkan/vulkan_devices.h"

namespace hearth::kernels::vk {
namespace {

// The Vulkan version the backend asks for; shaders are SPIR-V for Vulkan 1.1.
constexpr uint32_t kApiVersion = VK_API_VERSION_1_2;

bool has_extension(VkPhysicalDevice pd, const char* name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr) != VK_SUCCESS) return false;
    std::vector<VkExtensionProperties> exts(n);
    if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data()) != VK_SUCCESS) return false;
    for (const VkExtensionProperties& e : exts) {
        if (std::strcmp(e.extensionName, name) == 0) return true;
    }
    return false;
}

// The largest DEVICE_LOCAL heap: what weights and caches can live in.
uint64_t device_local_bytes(VkPhysicalDevice pd) {
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    uint64_t best = 0;
    for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
        if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) best = std::max(best, mem.memoryHeaps[i].size);
    }
    return best;
}

// The requirements of our shaders, checked here so that opening fails with a message
// rather than a pipeline failing later.
std::string unusable_reason(VkPhysicalDevice pd, uint32_t api_version) {
    if (api_version < VK_API_VERSION_1_1) return "needs Vulkan 1.1";
    auto subgroup = vk_struct<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
    auto props = vk_struct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &subgroup);
    vkGetPhysicalDeviceProperties2(pd, &props);
    const VkPhysicalDeviceLimits& lim = props.properties.limits;
    const VkSubgroupFeatureFlags needed = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    if (!(subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) || (subgroup.supportedOperations & needed) != needed)
        return "no subgroup arithmetic in compute shaders";
    if (lim.maxComputeSharedMemorySize < 32768) return "less than 32 KiB of shared memory per workgroup";
    if (lim.maxComputeWorkGroupInvocations < 256 || lim.maxComputeWorkGroupSize[0] < 256)
        return "workgroups of 256 invocations not supported";
    if (lim.maxPushConstantsSize < 128) return "less than 128 bytes of push constants";
    return "";
}

PhysicalDeviceEntry describe(VkPhysicalDevice pd, uint32_t compute_family) {
    PhysicalDeviceEntry e;
    e.handle = pd;
    e.compute_family = compute_family;
    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(pd, &base);
    e.api_version = base.apiVersion;
    e.is_software = base.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    e.info.name = base.deviceName;
    e.info.kind = "vulkan";
    e.info.memory_bytes = device_local_bytes(pd);
    if (base.apiVersion >= VK_API_VERSION_1_2) {
        auto driver = vk_struct<VkPhysicalDeviceDriverProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES);
        auto props = vk_struct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &driver);
        vkGetPhysicalDeviceProperties2(pd, &props);
        e.info.driver = std::string(driver.driverName) + " " + driver.driverInfo;

        auto dot = vk_struct<VkPhysicalDeviceShaderIntegerDotProductFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES);
        auto f16 = vk_struct<VkPhysicalDeviceShaderFloat16Int8Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES);
        const bool dot_known = base.apiVersion >= VK_API_VERSION_1_3 || has_extension(pd, "VK_KHR_shader_integer_dot_product");
        if (dot_known) f16.pNext = &dot;
        auto features = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f16);
        vkGetPhysicalDeviceFeatures2(pd, &features);
        e.info.fp16 = f16.shaderFloat16 == VK_TRUE;
        e.info.int_dot = dot_known && dot.shaderIntegerDotProduct == VK_TRUE;
    } else {
        e.info.driver = "driver version " + std::to_string(base.driverVersion);
    }
    e.info.coopmat = has_extension(pd, "VK_KHR_cooperative_matrix");
    e.unusable_reason = unusable_reason(pd, base.apiVersion);
    return e;
}

// A queue family with compute; one without graphics is preferred (an async compute
// queue does not share time with the display).
bool find_compute_family(VkPhysicalDevice pd, uint32_t& family) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
    bool found = false;
    for (uint32_t i = 0; i < n; ++i) {
        if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || fams[i].queueCount == 0) continue;
        if (!found || !(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) family = i;
        if (!(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) return true;
        found = true;
    }
    return found;
}

InstanceState create_instance() {
    InstanceState s;
    auto app = vk_struct<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
    app.pApplicationName = "hearth";
    app.pEngineName = "hearth";
    app.apiVersion = kApiVersion;
    auto ci = vk_struct<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
    ci.pApplicationInfo = &app;
    if (VkResult r = vkCreateInstance(&ci, nullptr, &s.instance); r != VK_SUCCESS) {
        s.instance = VK_NULL_HANDLE;
        s.error = error("vkCreateInstance", r).message;
        return s;
    }
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(s.instance, &n, nullptr);
    std::vector<VkPhysicalDevice> pds(n);
    if (r == VK_SUCCESS && n > 0) r = vkEnumeratePhysicalDevices(s.instance, &n, pds.data());
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        s.error = error("vkEnumeratePhysicalDevices", r).message;
        return s;
    }
    pds.resize(n);
    for (VkPhysicalDevice pd : pds) {
        uint32_t family = 0;
        if (find_compute_family(pd, family)) s.devices.push_back(describe(pd, family));
    }
    for (size_t i = 0; i < s.devices.size(); ++i) s.devices[i].info.index = static_cast<int>(i);
    if (pds.empty()) s.error = "no Vulkan driver (ICD) reports a device";
    else if (s.devices.empty()) s.error = "no Vulkan device has a compute queue";
    return s;
}

}  // namespace

const InstanceState& instance_state() {
    static std::once_flag once;
    static InstanceState state;
    std::call_once(once, [] { state = create_instance(); });
    return state;
}

}  // namespace hearth::kernels::vk

namespace hearth::kernels {

std::vector<DeviceInfo> vulkan_list_devices() {
    std::vector<DeviceInfo> out;
    for (const vk::PhysicalDeviceEntry& e : vk::instance_state().devices) out.push_back(e.info);
    return out;
}

std::string vulkan_probe_error() {
    const vk::InstanceState& s = vk::instance_state();
    if (!s.error.empty()) return s.error;
    std::string reasons;
    for (const vk::PhysicalDeviceEntry& e : s.devices) {
        if (e.unusable_reason.empty()) return "";
        if (!reasons.empty()) reasons += "; ";
        reasons += e.info.name + ": " + e.unusable_reason;
    }
    return "no usable Vulkan device (" + reasons + ")";
}

bool vulkan_device_is_software(int index) {
    const vk::InstanceState& s = vk::instance_state();
    if (index < 0 || static_cast<size_t>(index) >= s.devices.size()) return false;
    return s.devices[static_cast<size_t>(index)].is_software;
}

}  // namespace hearth::kernels
