#include "kernels/vulkan/vk_recorder.h"

#include <algorithm>
#include <cstring>

#include "kernels/vulkan/vk_util.h"

namespace hearth::kernels::vk {
namespace {

constexpr uint32_t kSetsPerPool = 512;
constexpr VkDeviceSize kMinArenaBytes = 1u << 20;
// vkCmdUpdateBuffer takes at most 65536 bytes; small writes go inline that way.
constexpr size_t kInlineWriteBytes = 65536;

}  // namespace

Recorder::~Recorder() {
    VkDevice dev = device_.handle();
    if (recording_) vkEndCommandBuffer(cmd_);
    for (VkDescriptorPool p : descriptor_pools_) vkDestroyDescriptorPool(dev, p, nullptr);
    if (fence_) vkDestroyFence(dev, fence_, nullptr);
    if (pool_) vkDestroyCommandPool(dev, pool_, nullptr);
}

Result<void> Recorder::init() {
    VkDevice dev = device_.handle();
    auto pci = vk_struct<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = device_.queue_family();
    if (VkResult r = vkCreateCommandPool(dev, &pci, nullptr, &pool_); r != VK_SUCCESS) return error("vkCreateCommandPool", r);
    auto cai = vk_struct<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    cai.commandPool = pool_;
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    if (VkResult r = vkAllocateCommandBuffers(dev, &cai, &cmd_); r != VK_SUCCESS) return error("vkAllocateCommandBuffers", r);
    auto fci = vk_struct<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    if (VkResult r = vkCreateFence(dev, &fci, nullptr, &fence_); r != VK_SUCCESS) return error("vkCreateFence", r);
    Result<DeviceBuffer> dummy = device_.create_buffer(16, MemoryUse::device_local, "a placeholder binding");
    if (!dummy) return dummy.error();
    dummy_ = std::move(*dummy);
    return {};
}

Result<void> Recorder::ensure_recording() {
    if (recording_) return {};
    auto bi = vk_struct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    if (VkResult r = vkBeginCommandBuffer(cmd_, &bi); r != VK_SUCCESS) return error("vkBeginCommandBuffer", r);
    recording_ = true;
    retired_->recording = true;
    pending_writes_ = false;
    return {};
}

// One global barrier orders everything: compute and transfer writes before any later
// compute, transfer or host access. Per-buffer barriers would let independent
// dispatches overlap more, but a decoder's ops almost all depend on the one before.
void Recorder::barrier_if_needed() {
    if (!pending_writes_ || independent_) return;
    auto mb = vk_struct<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                       VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                         0, 1, &mb, 0, nullptr, 0, nullptr);
    pending_writes_ = false;
}

VkDescriptorSet Recorder::allocate_set() {
    VkDevice dev = device_.handle();
    VkDescriptorSetLayout layout = device_.set_layout();
    for (;; ++current_pool_) {
        if (current_pool_ == descriptor_pools_.size()) {
            VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kMaxBindings};
            auto dpci = vk_struct<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
            dpci.maxSets = kSetsPerPool;
            dpci.poolSizeCount = 1;
            dpci.pPoolSizes = &size;
            VkDescriptorPool pool;
            if (VkResult r = vkCreateDescriptorPool(dev, &dpci, nullptr, &pool); r != VK_SUCCESS) {
                fail(error("vkCreateDescriptorPool", r));
                return VK_NULL_HANDLE;
            }
            descriptor_pools_.push_back(pool);
        }
        auto ai = vk_struct<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
        ai.descriptorPool = descriptor_pools_[current_pool_];
        ai.descriptorSetCount = 1;
        ai.pSetLayouts = &layout;
        VkDescriptorSet set;
        VkResult r = vkAllocateDescriptorSets(dev, &ai, &set);
        if (r == VK_SUCCESS) return set;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) {
            fail(error("vkAllocateDescriptorSets", r));
            return VK_NULL_HANDLE;
        }
    }
}

void Recorder::dispatch(std::string_view pipeline, std::span<const Binding> bindings, const void* push,
                        uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
    if (error_ || gx == 0 || gy == 0 || gz == 0) return;
    const VkPhysicalDeviceLimits& lim = device_.limits();
    if (gx > lim.maxComputeWorkGroupCount[0] || gy > lim.maxComputeWorkGroupCount[1] || gz > lim.maxComputeWorkGroupCount[2]) {
        fail(make_error("Vulkan: " + std::string(pipeline) + " needs a grid larger than the device allows"));
        return;
    }
    Result<VkPipeline> p = device_.pipeline(pipeline);
    if (!p) return fail(p.error());
    if (Result<void> r = ensure_recording(); !r) return fail(r.error());
    VkDescriptorSet set = allocate_set();
    if (set == VK_NULL_HANDLE) return;

    VkDescriptorBufferInfo infos[kMaxBindings];
    VkWriteDescriptorSet writes[kMaxBindings];
    for (uint32_t i = 0; i < kMaxBindings; ++i) {
        infos[i] = i < bindings.size() ? VkDescriptorBufferInfo{bindings[i].buffer, bindings[i].offset, bindings[i].range}
                                       : VkDescriptorBufferInfo{dummy_.handle(), 0, VK_WHOLE_SIZE};
        writes[i] = vk_struct<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
        writes[i].dstSet = set;
        writes[i].dstBinding = i;
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    vkUpdateDescriptorSets(device_.handle(), kMaxBindings, writes, 0, nullptr);

    barrier_if_needed();
    vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, *p);
    vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, device_.pipeline_layout(), 0, 1, &set, 0, nullptr);
    if (push_bytes > 0) vkCmdPushConstants(cmd_, device_.pipeline_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    vkCmdDispatch(cmd_, gx, gy, gz);
    pending_writes_ = true;
}

void Recorder::dispatch_flat(std::string_view pipeline, std::span<const Binding> bindings, const void* push,
                             uint32_t push_bytes, uint64_t n_groups) {
    if (n_groups == 0) return;
    const uint64_t max_x = device_.limits().maxComputeWorkGroupCount[0];
    const uint64_t gx = std::min(n_groups, max_x);
    const uint64_t gy = (n_groups + gx - 1) / gx;
    if (gy > device_.limits().maxComputeWorkGroupCount[1]) {
        return fail(make_error("Vulkan: " + std::string(pipeline) + " over " + std::to_string(n_groups) + " workgroups is too large"));
    }
    dispatch(pipeline, bindings, push, push_bytes, static_cast<uint32_t>(gx), static_cast<uint32_t>(gy), 1);
}

void Recorder::copy(VkBuffer src, VkBuffer dst, std::span<const VkBufferCopy> regions) {
    if (error_ || regions.empty()) return;
    if (Result<void> r = ensure_recording(); !r) return fail(r.error());
    barrier_if_needed();
    vkCmdCopyBuffer(cmd_, src, dst, static_cast<uint32_t>(regions.size()), regions.data());
    pending_writes_ = true;
}

void Recorder::write(VkBuffer dst, VkDeviceSize offset, const void* data, size_t bytes) {
    if (error_ || bytes == 0) return;
    if (Result<void> r = ensure_recording(); !r) return fail(r.error());
    barrier_if_needed();
    const auto* src = static_cast<const uint8_t*>(data);
    if (bytes <= kInlineWriteBytes && bytes % 4 == 0) {
        vkCmdUpdateBuffer(cmd_, dst, offset, bytes, src);
        pending_writes_ = true;
        return;
    }
    if (arena_used_ + bytes > arena_.size()) {
        // The old arena may hold data of writes recorded earlier: keep it until flush.
        if (arena_) retire(std::move(arena_));
        const VkDeviceSize want = std::max<VkDeviceSize>(kMinArenaBytes, 2 * (arena_used_ + bytes));
        Result<DeviceBuffer> a = device_.create_buffer(want, MemoryUse::upload, "uploading activations");
        if (!a) return fail(a.error());
        arena_ = std::move(*a);
        arena_used_ = 0;
    }
    std::memcpy(static_cast<uint8_t*>(arena_.mapped()) + arena_used_, src, bytes);
    const VkBufferCopy region{arena_used_, offset, bytes};
    vkCmdCopyBuffer(cmd_, arena_.handle(), dst, 1, &region);
    arena_used_ = (arena_used_ + bytes + 15) / 16 * 16;
    pending_writes_ = true;
}

void Recorder::fill(VkBuffer dst, VkDeviceSize offset, VkDeviceSize bytes, uint32_t value) {
    if (error_ || bytes == 0) return;
    if (Result<void> r = ensure_recording(); !r) return fail(r.error());
    barrier_if_needed();
    vkCmdFillBuffer(cmd_, dst, offset, bytes, value);
    pending_writes_ = true;
}

void Recorder::reset_queries(VkQueryPool pool, uint32_t first, uint32_t count) {
    if (error_ || count == 0) return;
    if (Result<void> r = ensure_recording(); !r) return fail(r.error());
    vkCmdResetQueryPool(cmd_, pool, first, count);
}

void Recorder::write_timestamp(VkQueryPool pool, uint32_t query) {
    if (error_) return;
    if (Result<void> r = ensure_recording(); !r) return fail(r.error());
    barrier_if_needed();
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, query);
}

void Recorder::begin_independent() {
    if (recording_) barrier_if_needed();
    independent_ = true;
}

void Recorder::end_independent() { independent_ = false; }

// Forgets what was recorded (run or not) and frees what waited for it. `ended`: the
// command buffer was already ended.
void Recorder::discard(bool ended) {
    ++epoch_;
    if (recording_ && !ended) vkEndCommandBuffer(cmd_);
    if (recording_) vkResetCommandBuffer(cmd_, 0);
    recording_ = false;
    pending_writes_ = false;
    independent_ = false;
    for (VkDescriptorPool p : descriptor_pools_) vkResetDescriptorPool(device_.handle(), p, 0);
    current_pool_ = 0;
    arena_used_ = 0;
    retired_->buffers.clear();
    retired_->recording = false;
}

Result<void> Recorder::flush() {
    if (lost_) return *lost_;
    if (error_) {
        Error e = std::move(*error_);
        error_.reset();
        discard(false);
        return e;
    }
    if (!recording_) return {};
    barrier_if_needed();  // makes the last writes visible to the host
    VkResult r = vkEndCommandBuffer(cmd_);
    if (r != VK_SUCCESS) {
        discard(true);
        return error("vkEndCommandBuffer", r);
    }
    Result<void> sub = device_.submit(cmd_, fence_);
    if (sub) {
        r = vkWaitForFences(device_.handle(), 1, &fence_, VK_TRUE, UINT64_MAX);
        vkResetFences(device_.handle(), 1, &fence_);
        if (r != VK_SUCCESS) sub = error("vkWaitForFences", r);
    }
    if (!sub) {
        if (sub.error().message.find("DEVICE_LOST") != std::string::npos) lost_ = sub.error();
        // Work that was never submitted, or whose end we cannot know, is not waited for.
        if (lost_) return *lost_;
    }
    discard(true);
    return sub;
}

}  // namespace hearth::kernels::vk
