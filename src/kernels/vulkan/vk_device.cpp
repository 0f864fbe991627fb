#include "kernels/vulkan/vk_device.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/vulkan/vk_shaders.h"
#include "kernels/vulkan/vk_util.h"
#include "kernels/vulkan/vulkan_devices.h"

namespace hearth::kernels::vk {
namespace {

constexpr VkDeviceSize kStagingBytes = 16u << 20;

}  // namespace

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        reset();
        std::swap(device_, o.device_);
        std::swap(buffer_, o.buffer_);
        std::swap(memory_, o.memory_);
        std::swap(size_, o.size_);
        std::swap(mapped_, o.mapped_);
    }
    return *this;
}

void DeviceBuffer::reset() {
    if (device_ == VK_NULL_HANDLE) return;
    if (buffer_ != VK_NULL_HANDLE) vkDestroyBuffer(device_, buffer_, nullptr);
    if (memory_ != VK_NULL_HANDLE) vkFreeMemory(device_, memory_, nullptr);  // unmaps too
    device_ = VK_NULL_HANDLE;
    buffer_ = VK_NULL_HANDLE;
    memory_ = VK_NULL_HANDLE;
    size_ = 0;
    mapped_ = nullptr;
}

Result<std::shared_ptr<VulkanDevice>> VulkanDevice::create(const PhysicalDeviceEntry& entry) {
    if (!entry.unusable_reason.empty()) return make_error("Vulkan device " + entry.info.name + ": " + entry.unusable_reason);
    std::shared_ptr<VulkanDevice> d(new VulkanDevice());
    if (Result<void> r = d->init(entry); !r) return r.error();
    return d;
}

Result<void> VulkanDevice::init(const PhysicalDeviceEntry& entry) {
    info_ = entry.info;
    physical_ = entry.handle;
    queue_family_ = entry.compute_family;

    auto m3 = vk_struct<VkPhysicalDeviceMaintenance3Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES);
    auto props = vk_struct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &m3);
    vkGetPhysicalDeviceProperties2(physical_, &props);
    limits_ = props.properties.limits;
    vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
    max_allocation_bytes_ = m3.maxMemoryAllocationSize;
    // Bindings start at multiples of the offset alignment, so keep the span a multiple too.
    const VkDeviceSize align = std::max<VkDeviceSize>(16, limits_.minStorageBufferOffsetAlignment);
    max_binding_bytes_ = std::min<VkDeviceSize>(limits_.maxStorageBufferRange, max_allocation_bytes_) / align * align;
    uint32_t n_families = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n_families, nullptr);
    std::vector<VkQueueFamilyProperties> families(n_families);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n_families, families.data());
    if (queue_family_ < n_families) timestamp_bits_ = families[queue_family_].timestampValidBits;

    const float priority = 1.0f;
    auto qci = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    qci.queueFamilyIndex = queue_family_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    auto dci = vk_struct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    if (VkResult r = vkCreateDevice(physical_, &dci, nullptr, &device_); r != VK_SUCCESS) {
        device_ = VK_NULL_HANDLE;
        return error("vkCreateDevice on " + info_.name, r);
    }
    vkGetDeviceQueue(device_, queue_family_, 0, &queue_);

    auto pci = vk_struct<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = queue_family_;
    if (VkResult r = vkCreateCommandPool(device_, &pci, nullptr, &upload_pool_); r != VK_SUCCESS)
        return error("vkCreateCommandPool", r);
    auto cai = vk_struct<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    cai.commandPool = upload_pool_;
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    if (VkResult r = vkAllocateCommandBuffers(device_, &cai, &upload_cmd_); r != VK_SUCCESS)
        return error("vkAllocateCommandBuffers", r);
    auto fci = vk_struct<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    if (VkResult r = vkCreateFence(device_, &fci, nullptr, &upload_fence_); r != VK_SUCCESS) return error("vkCreateFence", r);
    return init_layouts();
}

Result<void> VulkanDevice::init_layouts() {
    VkDescriptorSetLayoutBinding bindings[kMaxBindings];
    for (uint32_t i = 0; i < kMaxBindings; ++i) {
        bindings[i] = {};
        bindings[i].binding = i;
        bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        bindings[i].descriptorCount = 1;
        bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    auto lci = vk_struct<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
    lci.bindingCount = kMaxBindings;
    lci.pBindings = bindings;
    if (VkResult r = vkCreateDescriptorSetLayout(device_, &lci, nullptr, &set_layout_); r != VK_SUCCESS)
        return error("vkCreateDescriptorSetLayout", r);
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
    auto plci = vk_struct<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
    plci.setLayoutCount = 1;
    plci.pSetLayouts = &set_layout_;
    plci.pushConstantRangeCount = 1;
    plci.pPushConstantRanges = &range;
    if (VkResult r = vkCreatePipelineLayout(device_, &plci, nullptr, &pipeline_layout_); r != VK_SUCCESS)
        return error("vkCreatePipelineLayout", r);
    return {};
}

VulkanDevice::~VulkanDevice() {
    if (device_ == VK_NULL_HANDLE) return;
    vkDeviceWaitIdle(device_);
    staging_.reset();
    for (auto& [name, p] : pipelines_) vkDestroyPipeline(device_, p, nullptr);
    if (pipeline_layout_) vkDestroyPipelineLayout(device_, pipeline_layout_, nullptr);
    if (set_layout_) vkDestroyDescriptorSetLayout(device_, set_layout_, nullptr);
    if (upload_fence_) vkDestroyFence(device_, upload_fence_, nullptr);
    if (upload_pool_) vkDestroyCommandPool(device_, upload_pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
}

Result<uint32_t> VulkanDevice::memory_type(uint32_t type_bits, MemoryUse use) const {
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    VkMemoryPropertyFlags wanted[2];
    switch (use) {
        case MemoryUse::device_local: wanted[0] = wanted[1] = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT; break;
        case MemoryUse::upload: wanted[0] = wanted[1] = host; break;
        case MemoryUse::readback: wanted[0] = host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT; wanted[1] = host; break;
    }
    for (VkMemoryPropertyFlags w : wanted) {
        for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
            if ((type_bits & (1u << i)) && (memory_.memoryTypes[i].propertyFlags & w) == w) return i;
        }
    }
    return make_error("no suitable Vulkan memory type");
}

Result<DeviceBuffer> VulkanDevice::create_buffer(VkDeviceSize bytes, MemoryUse use, std::string_view what) {
    bytes = std::max<VkDeviceSize>(16, (bytes + 15) / 16 * 16);
    auto fail = [&](std::string why) {
        return make_error("Vulkan: cannot allocate " + format_bytes(bytes) + " for " + std::string(what) + " on " +
                          info_.name + ": " + why);
    };
    if (bytes > max_allocation_bytes_) return fail("larger than the device's largest allocation (" + format_bytes(max_allocation_bytes_) + ")");
    DeviceBuffer b;
    b.device_ = device_;
    auto bci = vk_struct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
    bci.size = bytes;
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    if (VkResult r = vkCreateBuffer(device_, &bci, nullptr, &b.buffer_); r != VK_SUCCESS) return fail(result_name(r));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(device_, b.buffer_, &req);
    Result<uint32_t> type = memory_type(req.memoryTypeBits, use);
    if (!type) return fail(type.error().message);
    auto mai = vk_struct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = *type;
    if (VkResult r = vkAllocateMemory(device_, &mai, nullptr, &b.memory_); r != VK_SUCCESS) return fail(result_name(r));
    if (VkResult r = vkBindBufferMemory(device_, b.buffer_, b.memory_, 0); r != VK_SUCCESS) return fail(result_name(r));
    if (use != MemoryUse::device_local) {
        if (VkResult r = vkMapMemory(device_, b.memory_, 0, VK_WHOLE_SIZE, 0, &b.mapped_); r != VK_SUCCESS)
            return fail(result_name(r));
    }
    b.size_ = bytes;
    return b;
}

Result<void> VulkanDevice::submit(VkCommandBuffer cmd, VkFence fence) {
    auto si = vk_struct<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd;
    std::lock_guard lock(queue_mutex_);
    if (VkResult r = vkQueueSubmit(queue_, 1, &si, fence); r != VK_SUCCESS) return error("vkQueueSubmit", r);
    return {};
}

Result<void> VulkanDevice::upload(const DeviceBuffer& dst, VkDeviceSize offset, const void* data, size_t bytes) {
    std::lock_guard lock(upload_mutex_);
    if (!staging_) {
        Result<DeviceBuffer> s = create_buffer(kStagingBytes, MemoryUse::upload, "the upload staging buffer");
        if (!s) return s.error();
        staging_ = std::move(*s);
    }
    const auto* src = static_cast<const uint8_t*>(data);
    for (size_t done = 0; done < bytes;) {
        const size_t n = std::min<size_t>(bytes - done, staging_.size());
        std::memcpy(staging_.mapped(), src + done, n);
        vkResetCommandBuffer(upload_cmd_, 0);
        auto bi = vk_struct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
        bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        vkBeginCommandBuffer(upload_cmd_, &bi);
        const VkBufferCopy region{0, offset + done, n};
        vkCmdCopyBuffer(upload_cmd_, staging_.handle(), dst.handle(), 1, &region);
        if (VkResult r = vkEndCommandBuffer(upload_cmd_); r != VK_SUCCESS) return error("vkEndCommandBuffer", r);
        if (Result<void> r = submit(upload_cmd_, upload_fence_); !r) return r;
        VkResult r = vkWaitForFences(device_, 1, &upload_fence_, VK_TRUE, UINT64_MAX);
        vkResetFences(device_, 1, &upload_fence_);
        if (r != VK_SUCCESS) return error("uploading weights: vkWaitForFences", r);
        done += n;
    }
    return {};
}

Result<VkPipeline> VulkanDevice::pipeline(std::string_view name) {
    std::lock_guard lock(pipeline_mutex_);
    if (auto it = pipelines_.find(name); it != pipelines_.end()) return it->second;
    std::span<const uint32_t> code = shader_spirv(name);
    if (code.empty()) return make_error("Vulkan: no shader named " + std::string(name));
    auto smci = vk_struct<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
    smci.codeSize = code.size_bytes();
    smci.pCode = code.data();
    VkShaderModule module;
    if (VkResult r = vkCreateShaderModule(device_, &smci, nullptr, &module); r != VK_SUCCESS)
        return error("vkCreateShaderModule " + std::string(name), r);
    auto cpci = vk_struct<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
    cpci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    cpci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cpci.stage.module = module;
    cpci.stage.pName = "main";
    cpci.layout = pipeline_layout_;
    VkPipeline p;
    VkResult r = vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &cpci, nullptr, &p);
    vkDestroyShaderModule(device_, module, nullptr);
    if (r != VK_SUCCESS) return error("vkCreateComputePipelines " + std::string(name), r);
    pipelines_.emplace(std::string(name), p);
    return p;
}

}  // namespace hearth::kernels::vk

namespace hearth::kernels {

Result<std::shared_ptr<Device>> open_vulkan_device(int index) {
    const vk::InstanceState& s = vk::instance_state();
    if (s.devices.empty()) return make_error("no Vulkan device: " + s.error);
    if (index < 0 || static_cast<size_t>(index) >= s.devices.size()) {
        return make_error("no Vulkan device " + std::to_string(index) + " (there are " + std::to_string(s.devices.size()) + ")");
    }
    Result<std::shared_ptr<vk::VulkanDevice>> d = vk::VulkanDevice::create(s.devices[static_cast<size_t>(index)]);
    if (!d) return d.error();
    return std::shared_ptr<Device>(std::move(*d));
}

}  // namespace hearth::kernels
