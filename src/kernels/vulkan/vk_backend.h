#pragma once

// The Vulkan Backend: one stream of recorded work on a VulkanDevice. Ops record
// dispatches (vk_ops.cpp); read() and synchronize() run them.

#include <memory>
#include <vector>

#include "kernels/backend.h"
#include "kernels/vulkan/vk_bandwidth.h"
#include "kernels/vulkan/vk_device.h"
#include "kernels/vulkan/vk_recorder.h"
#include "kernels/vulkan/vk_weights.h"

namespace hearth::kernels::vk {

class VulkanBuffer final : public Buffer {
public:
    VulkanBuffer(int64_t size, DeviceBuffer buffer, std::weak_ptr<RetireQueue> retire)
        : Buffer(size), buffer(std::move(buffer)), retire_(std::move(retire)) {}
    // Freed while recorded work may use it: the memory waits for that work to run.
    ~VulkanBuffer() override {
        if (auto queue = retire_.lock()) queue->release(std::move(buffer));
    }
    DeviceBuffer buffer;

private:
    std::weak_ptr<RetireQueue> retire_;
};

class VulkanBackend final : public Backend {
public:
    static Result<std::unique_ptr<Backend>> create(std::shared_ptr<VulkanDevice> device);

    std::string name() const override { return "vulkan (" + device_->info().name + ")"; }
    int n_threads() const override { return 1; }

    Result<std::unique_ptr<Buffer>> allocate(int64_t n_floats) override;
    Result<void> allocate_kv_cache(const KvCacheShape& shape) override;
    size_t kv_cache_bytes() const override { return kv_bytes_; }
    void write(Buffer& dst, std::span<const float> values) override;
    Result<void> read(const Buffer& src, int64_t offset, std::span<float> out) override;
    Result<void> synchronize() override { return recorder_.flush(); }
    void begin_batch(const BatchView& batch) override;

    void get_rows(const Weights& table, Buffer& out) override;
    void matmul(const Weights& w, const Buffer& x, int64_t n_tokens, Buffer& y) override;
    void matmul_shared_input(std::span<const MatmulProduct> outs, const Buffer& x, int64_t n_tokens) override;
    void rms_norm(const Buffer& x, const Weights& weight, Buffer& y, int64_t n_rows, int64_t dim, float eps) override;
    void rope(Buffer& x, int64_t n_heads, int64_t head_dim, const RopeParams& p) override;
    void add_bias(Buffer& x, const Weights& bias, int64_t n_rows, int64_t dim) override;
    void add(Buffer& x, const Buffer& y, int64_t n) override;
    void swiglu(Buffer& gate, const Buffer& up, int64_t n) override;
    void store_kv(int64_t layer, const Buffer& k, const Buffer& v) override;
    void attention(int64_t layer, const Buffer& q, const AttentionParams& p, Buffer& out) override;
    int64_t gather_logit_rows(const Buffer& x, int64_t dim, Buffer& out) override;
    Result<double> measure_read_bandwidth() override;  // vk_bandwidth.cpp

private:
    explicit VulkanBackend(std::shared_ptr<VulkanDevice> device) : device_(std::move(device)), recorder_(*device_) {}

    // A binding of elements [first, first + count) of a buffer: the binding starts at the
    // offset alignment at or below `first`, and `base` is where `first` lands in it.
    // Fails (recorded) when the span exceeds one binding.
    bool bind(const Buffer& b, int64_t first, int64_t count, Binding& out, uint32_t& base);
    Binding bind_batch();
    const DeviceBuffer* rope_frequencies(const RopeParams& p);
    void elementwise(const char* pipeline, Buffer& x, const Buffer& y, int64_t n);
    void matmul_chunk(const VulkanWeights& w, const WeightChunk& chunk, const Buffer& x, int64_t t0, int64_t nt, Buffer& y);
    void attention_dispatch(int64_t layer, const Buffer& q, const AttentionParams& p, Buffer& out);

    // Declared first: destroyed last, after everything that lives on the device.
    std::shared_ptr<VulkanDevice> device_;
    Recorder recorder_;

    // The batch, on the host (for host-side decisions) and in a host-visible buffer laid
    // out as int32 [tokens | positions | seq_ids]. Two buffers alternate so that a new
    // batch need not wait for recorded work that still reads the previous one.
    struct BatchSlot {
        DeviceBuffer buffer;
        uint64_t read_in_epoch = 0;  // the recorder epoch of the last work recorded to read it
    };
    BatchSlot batch_slots_[2];
    int batch_slot_ = 0;
    std::vector<int32_t> tokens_, positions_, seq_ids_;
    std::vector<uint8_t> want_logits_;

    // Per layer: keys and values, [seq][kv_head][pos][head_dim].
    KvCacheShape kv_shape_;
    std::vector<DeviceBuffer> k_cache_, v_cache_;
    size_t kv_bytes_ = 0;

    DeviceBuffer readback_;
    DeviceBuffer attention_partial_;  // per-split results of long decode attention

    struct RopeTable {
        RopeParams params;
        std::vector<float> factors;
        DeviceBuffer inv_freq;
    };
    std::vector<RopeTable> rope_tables_;

    std::unique_ptr<ReadProbe> read_probe_;  // measure_read_bandwidth: made on first use
};

}  // namespace hearth::kernels::vk
