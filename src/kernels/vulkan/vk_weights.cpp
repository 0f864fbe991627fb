#include "kernels/vulkan/vk_weights.h"

#include "gguf/ggml_type.h"
#include "kernels/vulkan/vk_util.h"

namespace hearth::kernels::vk {

const char* weight_type_suffix(gguf::GgmlType type) {
    switch (type) {
        case gguf::GgmlType::F32: return "f32";
        case gguf::GgmlType::F16: return "f16";
        case gguf::GgmlType::BF16: return "bf16";
        case gguf::GgmlType::Q8_0: return "q8_0";
        case gguf::GgmlType::Q4_0: return "q4_0";
        case gguf::GgmlType::Q4_K: return "q4_k";
        case gguf::GgmlType::Q5_K: return "q5_k";
        case gguf::GgmlType::Q6_K: return "q6_k";
        default: return "";
    }
}

Result<std::unique_ptr<Weights>> VulkanDevice::prepare_matrix(const WeightView& w, const PrepareOptions&) {
    const std::string name(gguf::type_name(w.type));
    if (*weight_type_suffix(w.type) == '\0') return make_error("Vulkan: no kernels for weight type " + name);
    const std::optional<uint64_t> packed = gguf::checked_row_bytes(w.type, static_cast<uint64_t>(w.cols));
    if (w.rows <= 0 || !packed || w.row_bytes < *packed) {
        return make_error("Vulkan: bad " + name + " matrix (" + std::to_string(w.rows) + " x " + std::to_string(w.cols) + ")");
    }
    // Shaders read 4-byte words and take 16-bit values only at even byte offsets, so a row
    // must start 2-aligned (F32: 4-aligned). Every GGUF block size is even.
    if (w.row_bytes % 2 != 0 || (w.type == gguf::GgmlType::F32 && w.row_bytes % 4 != 0)) {
        return make_error("Vulkan: " + name + " rows of " + std::to_string(w.row_bytes) + " bytes are not aligned");
    }
    const int64_t rows_per_chunk = static_cast<int64_t>(max_binding_bytes() / w.row_bytes);
    if (rows_per_chunk == 0) return make_error("Vulkan: a row of " + format_bytes(w.row_bytes) + " exceeds one buffer binding");

    auto out = std::make_unique<VulkanWeights>(w.type, w.rows, w.cols, w.row_bytes);
    for (int64_t first = 0; first < w.rows; first += rows_per_chunk) {
        WeightChunk chunk;
        chunk.first_row = first;
        chunk.rows = std::min(rows_per_chunk, w.rows - first);
        const size_t bytes = static_cast<size_t>(chunk.rows) * w.row_bytes;
        Result<DeviceBuffer> buf = create_buffer(bytes, MemoryUse::device_local, "a " + name + " weight matrix");
        if (!buf) return buf.error();
        chunk.buffer = std::move(*buf);
        if (Result<void> r = upload(chunk.buffer, 0, w.data + static_cast<size_t>(first) * w.row_bytes, bytes); !r)
            return r.error();
        out->chunks().push_back(std::move(chunk));
    }
    return std::unique_ptr<Weights>(std::move(out));
}

Result<std::unique_ptr<Weights>> VulkanDevice::prepare_vector(const float* values, int64_t n) {
    if (n <= 0) return make_error("Vulkan: empty weight vector");
    auto out = std::make_unique<VulkanWeights>(gguf::GgmlType::F32, 1, n, static_cast<size_t>(n) * 4);
    WeightChunk chunk;
    chunk.rows = 1;
    Result<DeviceBuffer> buf = create_buffer(static_cast<size_t>(n) * 4, MemoryUse::device_local, "a weight vector");
    if (!buf) return buf.error();
    chunk.buffer = std::move(*buf);
    if (Result<void> r = upload(chunk.buffer, 0, values, static_cast<size_t>(n) * 4); !r) return r.error();
    out->chunks().push_back(std::move(chunk));
    return std::unique_ptr<Weights>(std::move(out));
}

}  // namespace hearth::kernels::vk
