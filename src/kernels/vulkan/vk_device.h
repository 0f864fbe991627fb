#pragma once

// One opened Vulkan device: its queue, memory, pipelines and the weights placed on it.
// Shared by every backend (inference context) of a model, so everything here is
// thread-safe: queue submissions, uploads and pipeline creation each take a mutex.

#include <vulkan/vulkan.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "kernels/backend.h"
#include "kernels/vulkan/vk_instance.h"

namespace hearth::kernels::vk {

// Every pipeline uses one layout: kMaxBindings storage buffers (unused ones bound to a
// dummy buffer) and kPushConstantBytes of push constants.
inline constexpr uint32_t kMaxBindings = 6;
inline constexpr uint32_t kPushConstantBytes = 128;

enum class MemoryUse {
    device_local,  // weights, activations, caches
    upload,        // host-visible, written by the CPU, read by copies or shaders
    readback,      // host-visible and preferably cached, read by the CPU
};

// A VkBuffer with memory of its own (mapped when host-visible). Move-only.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { reset(); }

    void reset();
    VkBuffer handle() const { return buffer_; }
    VkDeviceSize size() const { return size_; }
    void* mapped() const { return mapped_; }
    explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }

private:
    friend class VulkanDevice;
    VkDevice device_ = VK_NULL_HANDLE;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    VkDeviceSize size_ = 0;
    void* mapped_ = nullptr;
};

class VulkanDevice final : public Device, public std::enable_shared_from_this<VulkanDevice> {
public:
    static Result<std::shared_ptr<VulkanDevice>> create(const PhysicalDeviceEntry& entry);
    ~VulkanDevice() override;

    const DeviceInfo& info() const override { return info_; }
    Result<std::unique_ptr<Weights>> prepare_matrix(const WeightView& w, const PrepareOptions& o) override;
    Result<std::unique_ptr<Weights>> prepare_vector(const float* values, int64_t n) override;
    Result<std::unique_ptr<Backend>> make_backend(int n_threads) override;

    VkDevice handle() const { return device_; }
    uint32_t queue_family() const { return queue_family_; }
    const VkPhysicalDeviceLimits& limits() const { return limits_; }
    // The most bytes one storage-buffer binding (and one buffer) may span.
    VkDeviceSize max_binding_bytes() const { return max_binding_bytes_; }
    VkDeviceSize max_allocation_bytes() const { return max_allocation_bytes_; }
    // Valid bits of the timestamps the compute queue writes (0: it writes none).
    uint32_t timestamp_bits() const { return timestamp_bits_; }

    Result<DeviceBuffer> create_buffer(VkDeviceSize bytes, MemoryUse use, std::string_view what);
    // Copies host bytes into a device buffer through the device's staging buffer; waits.
    Result<void> upload(const DeviceBuffer& dst, VkDeviceSize offset, const void* data, size_t bytes);
    // Submits one command buffer to the queue (signalling `fence` when done).
    Result<void> submit(VkCommandBuffer cmd, VkFence fence);

    Result<VkPipeline> pipeline(std::string_view name);
    VkPipelineLayout pipeline_layout() const { return pipeline_layout_; }
    VkDescriptorSetLayout set_layout() const { return set_layout_; }

private:
    VulkanDevice() = default;
    Result<void> init(const PhysicalDeviceEntry& entry);
    Result<void> init_layouts();
    Result<uint32_t> memory_type(uint32_t type_bits, MemoryUse use) const;

    DeviceInfo info_;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    VkPhysicalDeviceLimits limits_{};
    VkPhysicalDeviceMemoryProperties memory_{};
    VkDeviceSize max_binding_bytes_ = 0;
    VkDeviceSize max_allocation_bytes_ = 0;
    uint32_t timestamp_bits_ = 0;
    std::mutex queue_mutex_;

    // Uploads: one staging buffer and command buffer, used one upload at a time.
    std::mutex upload_mutex_;
    DeviceBuffer staging_;
    VkCommandPool upload_pool_ = VK_NULL_HANDLE;
    VkCommandBuffer upload_cmd_ = VK_NULL_HANDLE;
    VkFence upload_fence_ = VK_NULL_HANDLE;

    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout pipeline_layout_ = VK_NULL_HANDLE;
    std::mutex pipeline_mutex_;
    std::map<std::string, VkPipeline, std::less<>> pipelines_;
};

}  // namespace hearth::kernels::vk
