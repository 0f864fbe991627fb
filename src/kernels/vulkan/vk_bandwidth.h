#pragma once

// The device's read bandwidth: how fast shaders read device memory far larger than the
// GPU's caches, the ceiling on decoding (a token reads every weight once). A backend
// makes one probe on first use and keeps its buffers, so a benchmark can measure right
// next to each run it bounds.

#include <vulkan/vulkan.h>

#include <memory>
#include <vector>

#include "base/result.h"
#include "kernels/vulkan/vk_device.h"
#include "kernels/vulkan/vk_recorder.h"

namespace hearth::kernels::vk {

class ReadProbe {
public:
    // Buffers of min(1 GiB, a quarter of the device's memory) in all, each within what
    // one binding may span (lavapipe: 128 MiB), filled once. Records on `recorder`, which
    // must outlive the probe.
    static Result<std::unique_ptr<ReadProbe>> create(VulkanDevice& device, Recorder& recorder);
    ~ReadProbe();
    ReadProbe(const ReadProbe&) = delete;
    ReadProbe& operator=(const ReadProbe&) = delete;

    // GB/s: the best of `passes` passes, each reading every buffer once or (where that is
    // quick) several times, after unmeasured ones. Runs what the recorder holds first, so
    // that no other work falls into a pass.
    Result<double> measure(int passes = 3);

private:
    ReadProbe(VulkanDevice& device, Recorder& recorder) : device_(device), recorder_(recorder) {}
    // Seconds that `reads` reads of every buffer, one after another, take.
    Result<double> pass_seconds(int reads);

    VulkanDevice& device_;
    Recorder& recorder_;
    std::vector<DeviceBuffer> chunks_;
    DeviceBuffer sink_;  // written only if a shader's sum took an impossible value
    uint64_t bytes_ = 0;
    // Two timestamps around each pass; null where the queue writes none, and passes are
    // timed on the host around submit and wait.
    VkQueryPool queries_ = VK_NULL_HANDLE;
};

}  // namespace hearth::kernels::vk
