#pragma once

// Records a backend's work into one command buffer and runs it on flush(): dispatches
// with the descriptor sets and push constants they need, copies and buffer updates, and
// the memory barriers between dependent steps. The host waits only in flush(), so a
// whole forward pass runs without a round trip between layers.
//
// Recording cannot fail visibly (Backend ops return void): the first error is kept and
// returned by the next flush(), which then drops what was recorded.

#include <vulkan/vulkan.h>

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kernels/vulkan/vk_device.h"

namespace hearth::kernels::vk {

// Buffers released while recorded work may still use them wait here until it has run
// (a VkBuffer must outlive every command buffer that uses it). Shared with the
// VulkanBuffers of the backend, which may be freed at any time.
struct RetireQueue {
    bool recording = false;
    std::vector<DeviceBuffer> buffers;

    void release(DeviceBuffer b) {
        if (recording) buffers.push_back(std::move(b));
    }
};

// A storage-buffer binding: `range` bytes from `offset`.
struct Binding {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    VkDeviceSize range = VK_WHOLE_SIZE;
};

class Recorder {
public:
    explicit Recorder(VulkanDevice& device) : device_(device) {}
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    Result<void> init();

    // One dispatch of `pipeline` over a grid of groups. Bindings past the span are bound
    // to a dummy buffer. Unless inside an independent group, a barrier first makes all
    // earlier work visible.
    void dispatch(std::string_view pipeline, std::span<const Binding> bindings, const void* push, uint32_t push_bytes,
                  uint32_t gx, uint32_t gy, uint32_t gz);
    // A 1-D count of groups, laid out as a 2-D grid within maxComputeWorkGroupCount;
    // shaders recover the index with flat_workgroup().
    void dispatch_flat(std::string_view pipeline, std::span<const Binding> bindings, const void* push,
                       uint32_t push_bytes, uint64_t n_groups);
    void copy(VkBuffer src, VkBuffer dst, std::span<const VkBufferCopy> regions);
    // Host data into a buffer, in recording order (kept in an upload arena until flush).
    void write(VkBuffer dst, VkDeviceSize offset, const void* data, size_t bytes);
    void fill_zero(VkBuffer dst, VkDeviceSize offset, VkDeviceSize bytes) { fill(dst, offset, bytes, 0); }
    // Every 32-bit word of the range set to `value` (bytes: a multiple of 4, or VK_WHOLE_SIZE).
    void fill(VkBuffer dst, VkDeviceSize offset, VkDeviceSize bytes, uint32_t value);
    // Timestamp queries: reset before use, and written once everything recorded before
    // has finished (read back with vkGetQueryPoolResults after flush).
    void reset_queries(VkQueryPool pool, uint32_t first, uint32_t count);
    void write_timestamp(VkQueryPool pool, uint32_t query);

    // Dispatches between begin_independent() and end_independent() read only what was
    // written before the group and write disjoint outputs: no barriers among them.
    void begin_independent();
    void end_independent();

    // Keeps a buffer alive until the recorded work that may use it has run.
    void retire(DeviceBuffer buffer) { retired_->release(std::move(buffer)); }
    const std::shared_ptr<RetireQueue>& retire_queue() const { return retired_; }
    void fail(Error e) {
        if (!error_) error_ = std::move(e);
    }
    bool has_work() const { return recording_; }
    // Counts flushes: work recorded in epoch e has run once epoch() > e.
    uint64_t epoch() const { return epoch_; }

    // Submits what was recorded and waits for it; resets the per-submission state.
    Result<void> flush();

private:
    Result<void> ensure_recording();
    void barrier_if_needed();
    VkDescriptorSet allocate_set();
    void discard(bool ended);

    VulkanDevice& device_;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    DeviceBuffer dummy_;
    std::vector<VkDescriptorPool> descriptor_pools_;
    size_t current_pool_ = 0;

    // Host data written by write(), copied in order by the command buffer.
    DeviceBuffer arena_;
    VkDeviceSize arena_used_ = 0;

    std::shared_ptr<RetireQueue> retired_ = std::make_shared<RetireQueue>();
    bool recording_ = false;
    uint64_t epoch_ = 1;
    bool pending_writes_ = false;  // something recorded may be read by what follows
    bool independent_ = false;
    std::optional<Error> error_;
    std::optional<Error> lost_;  // the device is lost: every later flush fails
};

}  // namespace hearth::kernels::vk
