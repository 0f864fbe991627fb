#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"

namespace hearth {

// A read-only memory mapping of a whole file. A model's metadata and the tensors it
// does not copy are used straight from the mapping, pages the page cache shares
// between processes.
class MappedFile {
public:
    static Result<MappedFile> open(const std::string& path);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    size_t size() const { return size_; }

    // Drops this process's pages of the whole pages inside `range` (part of bytes()),
    // for data copied elsewhere: they leave the resident set and stay in the page
    // cache, and a later read maps them again from the file.
    void release(std::span<const uint8_t> range) const;

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

// Reads a whole file into memory (for small text and JSON files).
Result<std::string> read_text_file(const std::string& path);

}  // namespace hearth
