#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "gguf/gguf_file.h"

namespace hearth::gguf {

// Builds a GGUF v3 file in memory: metadata in insertion order, then tensor infos,
// then tensor data, each tensor aligned to general.alignment (default 32).
class GgufWriter {
public:
    explicit GgufWriter(uint32_t alignment = kDefaultAlignment);

    Metadata& metadata() { return metadata_; }
    void set(const std::string& key, Value value) { metadata_.set(key, std::move(value)); }

    // `data` must hold exactly the bytes of `shape` elements of `type` in ggml's block layout.
    Result<void> add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type,
                            std::vector<uint8_t> data);

    std::vector<uint8_t> to_bytes() const;
    Result<void> write(const std::string& path) const;

private:
    std::vector<uint8_t> header_bytes() const;

    struct PendingTensor {
        std::string name;
        std::vector<int64_t> shape;
        GgmlType type;
        std::vector<uint8_t> data;
    };
    uint32_t alignment_;
    Metadata metadata_;
    std::vector<PendingTensor> tensors_;
};

}  // namespace hearth::gguf
