// VulkanBackend: memory, host transfers, the batch and the KV cache. The ops are in
// vk_ops.cpp.

#include "kernels/vulkan/vk_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/vulkan/vk_util.h"

namespace hearth::kernels::vk {

Result<std::unique_ptr<Backend>> VulkanDevice::make_backend(int) {
    return VulkanBackend::create(shared_from_this());
}

Result<std::unique_ptr<Backend>> VulkanBackend::create(std::shared_ptr<VulkanDevice> device) {
    std::unique_ptr<VulkanBackend> b(new VulkanBackend(std::move(device)));
    if (Result<void> r = b->recorder_.init(); !r) return r.error();
    return std::unique_ptr<Backend>(std::move(b));
}

Result<std::unique_ptr<Buffer>> VulkanBackend::allocate(int64_t n_floats) {
    if (n_floats < 0) return make_error("Vulkan: negative buffer size");
    Result<DeviceBuffer> b = device_->create_buffer(static_cast<VkDeviceSize>(n_floats) * 4, MemoryUse::device_local,
                                                    "an activation buffer");
    if (!b) return b.error();
    return std::unique_ptr<Buffer>(std::make_unique<VulkanBuffer>(n_floats, std::move(*b), recorder_.retire_queue()));
}

Result<void> VulkanBackend::allocate_kv_cache(const KvCacheShape& s) {
    if (s.n_layer <= 0 || s.n_seq <= 0 || s.n_ctx <= 0 || s.n_head_kv <= 0 || s.head_dim <= 0 || s.head_dim % 2 != 0) {
        return make_error("Vulkan: bad KV cache shape");
    }
    if (Result<void> r = recorder_.flush(); !r) return r;  // recorded work may use the old cache
    k_cache_.clear();
    v_cache_.clear();
    kv_bytes_ = 0;
    const uint64_t elem = s.type == KvType::F16 ? 2 : 4;
    const uint64_t layer_bytes = static_cast<uint64_t>(s.n_seq) * s.n_head_kv * s.n_ctx * s.head_dim * elem;
    if (layer_bytes > device_->max_binding_bytes()) {
        return make_error("Vulkan: one layer's KV cache (" + format_bytes(layer_bytes) + ") exceeds the " +
                          format_bytes(device_->max_binding_bytes()) + " one buffer binding may span; use fewer "
                          "sequences or a shorter context");
    }
    for (int64_t l = 0; l < s.n_layer; ++l) {
        for (auto* cache : {&k_cache_, &v_cache_}) {
            Result<DeviceBuffer> b = device_->create_buffer(layer_bytes, MemoryUse::device_local, "the KV cache");
            if (!b) {
                k_cache_.clear();
                v_cache_.clear();
                return make_error(b.error().message + " (layer " + std::to_string(l) + " of " +
                                  std::to_string(s.n_layer) + ", " + format_bytes(static_cast<uint64_t>(s.bytes())) +
                                  " in all)");
            }
            recorder_.fill_zero(b->handle(), 0, VK_WHOLE_SIZE);
            cache->push_back(std::move(*b));
        }
    }
    kv_shape_ = s;
    kv_bytes_ = static_cast<size_t>(2 * layer_bytes * static_cast<uint64_t>(s.n_layer));
    return recorder_.flush();
}

void VulkanBackend::write(Buffer& dst, std::span<const float> values) {
    if (static_cast<int64_t>(values.size()) > dst.size()) {
        return recorder_.fail(make_error("Vulkan: write of " + std::to_string(values.size()) + " values into a buffer of " +
                                         std::to_string(dst.size())));
    }
    recorder_.write(static_cast<VulkanBuffer&>(dst).buffer.handle(), 0, values.data(), values.size_bytes());
}

Result<void> VulkanBackend::read(const Buffer& src, int64_t offset, std::span<float> out) {
    if (offset < 0 || offset + static_cast<int64_t>(out.size()) > src.size()) {
        return make_error("Vulkan: read past the end of a buffer");
    }
    if (out.empty()) return recorder_.flush();
    const VkDeviceSize bytes = out.size_bytes();
    if (readback_.size() < bytes) {
        // Nothing recorded reads the old readback buffer: only read() copies into it.
        Result<DeviceBuffer> b = device_->create_buffer(std::max<VkDeviceSize>(bytes, 1u << 20), MemoryUse::readback,
                                                        "reading results back");
        if (!b) return b.error();
        readback_ = std::move(*b);
    }
    const VkBufferCopy region{static_cast<VkDeviceSize>(offset) * 4, 0, bytes};
    recorder_.copy(static_cast<const VulkanBuffer&>(src).buffer.handle(), readback_.handle(), std::span(&region, 1));
    if (Result<void> r = recorder_.flush(); !r) return r;
    std::memcpy(out.data(), readback_.mapped(), bytes);
    return {};
}

void VulkanBackend::begin_batch(const BatchView& batch) {
    tokens_.assign(batch.tokens.begin(), batch.tokens.end());
    positions_.assign(batch.positions.begin(), batch.positions.end());
    seq_ids_.assign(batch.seq_ids.begin(), batch.seq_ids.end());
    want_logits_.assign(batch.want_logits.begin(), batch.want_logits.end());
    auto busy = [&](int i) { return batch_slots_[i].read_in_epoch == recorder_.epoch(); };
    if (busy(batch_slot_)) batch_slot_ ^= 1;
    if (busy(batch_slot_)) {
        // Both buffers are read by recorded work: run it before overwriting one.
        if (Result<void> r = recorder_.flush(); !r) recorder_.fail(r.error());
    }
    BatchSlot& slot = batch_slots_[batch_slot_];
    const size_t n = tokens_.size();
    const VkDeviceSize bytes = std::max<size_t>(1, 3 * n) * 4;
    if (slot.buffer.size() < bytes) {
        Result<DeviceBuffer> b = device_->create_buffer(std::max<VkDeviceSize>(bytes, 4096), MemoryUse::upload, "the batch");
        if (!b) return recorder_.fail(b.error());
        slot.buffer = std::move(*b);
    }
    auto* dst = static_cast<int32_t*>(slot.buffer.mapped());
    std::copy(tokens_.begin(), tokens_.end(), dst);
    std::copy(positions_.begin(), positions_.end(), dst + n);
    std::copy(seq_ids_.begin(), seq_ids_.end(), dst + 2 * n);
}

Binding VulkanBackend::bind_batch() {
    BatchSlot& slot = batch_slots_[batch_slot_];
    slot.read_in_epoch = recorder_.epoch();
    return Binding{slot.buffer.handle(), 0, VK_WHOLE_SIZE};
}

bool VulkanBackend::bind(const Buffer& b, int64_t first, int64_t count, Binding& out, uint32_t& base) {
    const DeviceBuffer& buf = static_cast<const VulkanBuffer&>(b).buffer;
    const VkDeviceSize align = std::max<VkDeviceSize>(4, device_->limits().minStorageBufferOffsetAlignment);
    const VkDeviceSize first_byte = static_cast<VkDeviceSize>(first) * 4;
    const VkDeviceSize end_byte = static_cast<VkDeviceSize>(first + std::max<int64_t>(count, 1)) * 4;
    if (first < 0 || count < 0 || first + count > b.size()) {
        recorder_.fail(make_error("Vulkan: an op reads or writes past the end of a buffer"));
        return false;
    }
    out.buffer = buf.handle();
    out.offset = first_byte / align * align;
    out.range = std::min(end_byte, buf.size()) - out.offset;
    base = static_cast<uint32_t>((first_byte - out.offset) / 4);
    if (out.range > device_->max_binding_bytes()) {
        recorder_.fail(make_error("Vulkan: an op spans " + format_bytes(out.range) + " of a buffer, more than one binding (" +
                                  format_bytes(device_->max_binding_bytes()) + ")"));
        return false;
    }
    return true;
}

// The inverse frequencies of a rope, computed exactly as the CPU backend does and
// uploaded once per distinct parameters (a model has one or two).
const DeviceBuffer* VulkanBackend::rope_frequencies(const RopeParams& p) {
    const int64_t half = p.n_dims / 2;
    std::vector<float> factors;
    if (p.freq_factors) factors.assign(p.freq_factors, p.freq_factors + half);
    for (const RopeTable& t : rope_tables_) {
        if (t.params.n_dims == p.n_dims && t.params.theta_base == p.theta_base && t.params.freq_scale == p.freq_scale &&
            t.factors == factors) {
            return &t.inv_freq;
        }
    }
    std::vector<float> inv_freq(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i) {
        float f = std::pow(p.theta_base, -2.0f * static_cast<float>(i) / static_cast<float>(p.n_dims));
        if (!factors.empty()) f /= factors[static_cast<size_t>(i)];
        inv_freq[static_cast<size_t>(i)] = f * p.freq_scale;
    }
    Result<DeviceBuffer> b = device_->create_buffer(inv_freq.size() * 4, MemoryUse::device_local, "rope frequencies");
    if (!b) {
        recorder_.fail(b.error());
        return nullptr;
    }
    if (Result<void> r = device_->upload(*b, 0, inv_freq.data(), inv_freq.size() * 4); !r) {
        recorder_.fail(r.error());
        return nullptr;
    }
    rope_tables_.push_back(RopeTable{p, std::move(factors), std::move(*b)});
    return &rope_tables_.back().inv_freq;
}

}  // namespace hearth::kernels::vk
