#pragma once

// Weights on a Vulkan device: the GGUF bytes as stored, split by rows into chunks that
// each fit one storage-buffer binding (maxStorageBufferRange is 128 MiB on some drivers,
// less than a large vocabulary's embedding table).

#include <vector>

#include "kernels/backend.h"
#include "kernels/vulkan/vk_device.h"

namespace hearth::kernels::vk {

struct WeightChunk {
    DeviceBuffer buffer;
    int64_t first_row = 0;
    int64_t rows = 0;
};

class VulkanWeights final : public Weights {
public:
    VulkanWeights(gguf::GgmlType type, int64_t rows, int64_t cols, size_t row_bytes)
        : Weights(type, rows, cols, false), row_bytes_(row_bytes) {}

    size_t row_bytes() const { return row_bytes_; }
    const std::vector<WeightChunk>& chunks() const { return chunks_; }
    std::vector<WeightChunk>& chunks() { return chunks_; }

private:
    size_t row_bytes_;
    std::vector<WeightChunk> chunks_;
};

// The shader-name suffix of a weight type ("q4_k"), or "" when there is no kernel for it.
const char* weight_type_suffix(gguf::GgmlType type);

}  // namespace hearth::kernels::vk
