#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/result.h"
#include "gguf/ggml_type.h"
#include "gguf/metadata.h"

namespace hearth::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

struct TensorInfo {
    std::string name;
    std::vector<int64_t> shape;  // ggml order: shape[0] is the contiguous (row) dimension
    GgmlType type = GgmlType::F32;
    uint64_t offset = 0;  // relative to the start of the data section
    uint64_t n_bytes = 0;
    int64_t n_elements = 0;

    int64_t rows() const { return shape.empty() ? 0 : n_elements / shape[0]; }
    std::string shape_string() const;  // "[64, 512]"
};

// A parsed and validated GGUF file. Every offset and size has been checked against
// the file length, so tensor_data() never reads out of bounds.
class GgufFile {
public:
    // Memory-maps the file; tensor data stays in the mapping.
    static Result<GgufFile> open(const std::string& path);
    // Parses bytes owned by the caller, who keeps them alive (used by the fuzzer).
    static Result<GgufFile> parse(std::span<const uint8_t> bytes);

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }
    uint64_t file_size() const { return bytes_.size(); }
    const Metadata& metadata() const { return metadata_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;
    std::span<const uint8_t> tensor_data(const TensorInfo& t) const;
    // Drops this process's mapped pages of `bytes` (tensor data copied elsewhere); see
    // MappedFile::release. Nothing happens for parsed bytes the caller owns.
    void release(std::span<const uint8_t> bytes) const;

    // general.architecture, or "" when absent.
    std::string architecture() const;

private:
    std::shared_ptr<MappedFile> mapping_;
    std::span<const uint8_t> bytes_;
    uint32_t version_ = 0;
    uint32_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    Metadata metadata_;
    std::vector<TensorInfo> tensors_;
};

}  // namespace hearth::gguf
