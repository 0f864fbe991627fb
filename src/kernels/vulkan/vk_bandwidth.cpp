// ReadProbe (device read bandwidth) and VulkanBackend::measure_read_bandwidth.

#include "kernels/vulkan/vk_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "kernels/vulkan/vk_backend.h"
#include "kernels/vulkan/vk_util.h"

namespace hearth::kernels::vk {
namespace {

constexpr uint64_t kMaxProbeBytes = uint64_t{1} << 30;
// Enough workgroups of 256 to fill any GPU several times over (an H100 holds ~1000 at
// once); each invocation then walks its share of a chunk in steps of the whole grid.
constexpr uint64_t kMaxGroups = 8192;
// The buffers hold this word everywhere, so every invocation's folded XOR is 0 and
// never equals kNever: the shader reads everything and writes nothing.
constexpr uint32_t kFill = 0x9E3779B9u, kNever = 0xFFFFFFFFu;
// A pass reads the buffers as many times as takes about this long: a GPU reads 1 GiB in well
// under a millisecond, too short for its clocks to leave idle or for the host clock's fallback
// to see past the submission.
constexpr double kMinPassSeconds = 0.02;
constexpr int kMaxReadsPerPass = 64;

struct ReadProbePush {
    uint32_t n, never;
};

}  // namespace

Result<std::unique_ptr<ReadProbe>> ReadProbe::create(VulkanDevice& device, Recorder& recorder) {
    std::unique_ptr<ReadProbe> p(new ReadProbe(device, recorder));
    const uint64_t memory = device.info().memory_bytes;
    const uint64_t total = std::min(kMaxProbeBytes, memory > 0 ? memory / 4 : kMaxProbeBytes) / 16 * 16;
    const uint64_t chunk = std::min<uint64_t>(device.max_binding_bytes(), device.max_allocation_bytes()) / 16 * 16;
    if (total == 0 || chunk == 0) return make_error("Vulkan: no memory for the bandwidth probe");
    for (uint64_t done = 0; done < total; done += chunk) {
        Result<DeviceBuffer> b = device.create_buffer(std::min(chunk, total - done), MemoryUse::device_local,
                                                      "the bandwidth probe");
        if (!b) return b.error();
        p->bytes_ += b->size();
        p->chunks_.push_back(std::move(*b));
    }
    Result<DeviceBuffer> sink = device.create_buffer(16, MemoryUse::device_local, "the bandwidth probe");
    if (!sink) return sink.error();
    p->sink_ = std::move(*sink);
    if (device.timestamp_bits() > 0) {
        auto qci = vk_struct<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
        qci.queryType = VK_QUERY_TYPE_TIMESTAMP;
        qci.queryCount = 2;
        if (VkResult r = vkCreateQueryPool(device.handle(), &qci, nullptr, &p->queries_); r != VK_SUCCESS) {
            p->queries_ = VK_NULL_HANDLE;
            return error("vkCreateQueryPool", r);
        }
    }
    // Recorded only once everything exists: a failure above leaves nothing recorded that
    // would use a freed buffer. Filled, so the memory is really there (lavapipe's too).
    for (const DeviceBuffer& c : p->chunks_) recorder.fill(c.handle(), 0, VK_WHOLE_SIZE, kFill);
    if (Result<void> r = recorder.flush(); !r) return r.error();
    return p;
}

ReadProbe::~ReadProbe() {
    if (queries_ != VK_NULL_HANDLE) vkDestroyQueryPool(device_.handle(), queries_, nullptr);
}

Result<double> ReadProbe::pass_seconds(int reads) {
    if (queries_) {
        recorder_.reset_queries(queries_, 0, 2);
        recorder_.write_timestamp(queries_, 0);
    }
    for (int read = 0; read < reads; ++read) {
        // The chunks are read-only and independent: no barriers between their dispatches. A
        // barrier between reads keeps one read from catching another in the caches.
        recorder_.begin_independent();
        for (const DeviceBuffer& c : chunks_) {
            const uint64_t n = c.size() / 16;
            const ReadProbePush push{static_cast<uint32_t>(n), kNever};
            const Binding b[] = {{c.handle(), 0, c.size()}, {sink_.handle(), 0, sink_.size()}};
            recorder_.dispatch_flat("read_probe", b, &push, sizeof push, std::min(kMaxGroups, (n + 255) / 256));
        }
        recorder_.end_independent();
    }
    if (queries_) recorder_.write_timestamp(queries_, 1);
    const auto t0 = std::chrono::steady_clock::now();
    if (Result<void> r = recorder_.flush(); !r) return r.error();
    const double host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!queries_) return host_seconds;
    uint64_t ticks[2] = {0, 0};
    if (VkResult r = vkGetQueryPoolResults(device_.handle(), queries_, 0, 2, sizeof ticks, ticks, sizeof ticks[0],
                                           VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        r != VK_SUCCESS) {
        return error("vkGetQueryPoolResults", r);
    }
    const uint32_t bits = device_.timestamp_bits();
    const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    return static_cast<double>((ticks[1] - ticks[0]) & mask) * device_.limits().timestampPeriod * 1e-9;
}

Result<double> ReadProbe::measure(int passes) {
    if (Result<void> r = recorder_.flush(); !r) return r.error();
    // Unmeasured: one read sizes the passes, then one pass warms up (pipeline creation, clocks).
    Result<double> once = pass_seconds(1);
    if (!once) return once.error();
    const int reads = *once > 0 ? std::clamp(static_cast<int>(std::ceil(kMinPassSeconds / *once)), 1, kMaxReadsPerPass)
                                : kMaxReadsPerPass;
    double best = 0;
    for (int pass = 0; pass <= passes; ++pass) {
        Result<double> s = pass_seconds(reads);
        if (!s) return s.error();
        if (pass > 0 && *s > 0) best = std::max(best, static_cast<double>(bytes_) * reads / *s / 1e9);
    }
    if (best <= 0) return make_error("Vulkan: the bandwidth probe measured no time");
    return best;
}

Result<double> VulkanBackend::measure_read_bandwidth() {
    if (!read_probe_) {
        Result<std::unique_ptr<ReadProbe>> p = ReadProbe::create(*device_, recorder_);
        if (!p) return p.error();
        read_probe_ = std::move(*p);
    }
    return read_probe_->measure();
}

}  // namespace hearth::kernels::vk
