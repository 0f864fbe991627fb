#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "gguf/gguf_file.h"

namespace hearth::gguf {

// Builds a GGUF v3 file: metadata in insertion order, then tensor infos, then tensor
// data, each tensor aligned to general.alignment (default 32). A tensor's bytes are given
// up front, or made by a producer when the file is written, one tensor at a time (a model
// converted or quantized is never whole in memory).
class GgufWriter {
public:
    using Producer = std::function<Result<std::vector<uint8_t>>()>;
    // Called after each tensor is written: its index, the tensor count, its name.
    using Progress = std::function<void(size_t done, size_t total, const std::string& name)>;

    explicit GgufWriter(uint32_t alignment = kDefaultAlignment);

    Metadata& metadata() { return metadata_; }
    void set(const std::string& key, Value value) { metadata_.set(key, std::move(value)); }

    // `data` must hold exactly the bytes of `shape` elements of `type` in ggml's block layout.
    Result<void> add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type,
                            std::vector<uint8_t> data);
    // The producer must return exactly the bytes of `shape` elements of `type`.
    Result<void> add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type, Producer produce);

    Result<std::vector<uint8_t>> to_bytes() const;
    // Writes "<path>.part" and renames it to `path` when complete: an interrupted or
    // failed write leaves no file that looks whole.
    Result<void> write(const std::string& path, const Progress& progress = {}) const;

private:
    std::vector<uint8_t> header_bytes() const;
    Result<void> check_new_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                                  uint64_t* bytes) const;
    Result<std::vector<uint8_t>> produce(size_t index) const;

    struct PendingTensor {
        std::string name;
        std::vector<int64_t> shape;
        GgmlType type;
        uint64_t size = 0;           // bytes
        std::vector<uint8_t> data;  // or, when empty and `producer` is set, made at write time
        Producer producer;
    };
    uint32_t alignment_;
    Metadata metadata_;
    std::vector<PendingTensor> tensors_;
};

}  // namespace hearth::gguf
