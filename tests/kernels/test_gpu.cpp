// The CUDA path, where a GPU is present; elsewhere the build must still report "no GPU"
// cleanly instead of failing.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/gpu_devices.h"
#include "tensor/quant.h"

namespace hearth::kernels {
namespace {

TEST(Gpu, NoDeviceIsReportedNotFatal) {
    const auto devices = gpu_devices();
    if (devices.empty()) {
        EXPECT_FALSE(gpu_unavailable_reason().empty());
        auto r = cuda_dequantize_q8_0({}, 0);
        EXPECT_FALSE(r.ok());
    } else {
        EXPECT_TRUE(gpu_unavailable_reason().empty());
        for (const auto& d : devices) {
            EXPECT_FALSE(d.name.empty());
            EXPECT_GE(d.compute_major, 7);
            EXPECT_GT(d.total_memory, 0u);
        }
    }
}

TEST(Gpu, DequantizeQ8_0MatchesCpu) {
    if (gpu_devices().empty()) GTEST_SKIP() << "no GPU: " << gpu_unavailable_reason();
    std::vector<float> values(32 * 1000);
    for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<float>(i) * 0.37f) * 3.0f;
    auto bytes = tensor::quantize(gguf::GgmlType::Q8_0, values, static_cast<int64_t>(values.size()));
    ASSERT_TRUE(bytes.ok());
    auto ref = tensor::dequantize(gguf::GgmlType::Q8_0, *bytes, static_cast<int64_t>(values.size()));
    auto gpu = cuda_dequantize_q8_0(*bytes, static_cast<int64_t>(values.size()));
    ASSERT_TRUE(gpu.ok()) << gpu.error().message;
    ASSERT_EQ(gpu->size(), ref->size());
    for (size_t i = 0; i < ref->size(); ++i) ASSERT_EQ((*gpu)[i], (*ref)[i]) << i;
}

}  // namespace
}  // namespace hearth::kernels
