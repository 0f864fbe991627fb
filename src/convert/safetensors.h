// Hugging Face safetensors files: the input of `hearth convert`. A file is an 8-byte
// little-endian header length N, N bytes of JSON naming each tensor's dtype, shape and
// byte range, then the data area those ranges point into. The reader validates every
// range against the file before handing out views; the writer exists for tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/result.h"

namespace hearth::convert {

enum class Dtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool, F8E4M3, F8E5M2 };

size_t dtype_size(Dtype dtype);
// The header's spelling: "F32", "BF16", "BOOL", "F8_E4M3", ...
std::string_view dtype_name(Dtype dtype);

// One tensor of a parsed file. `bytes` points into the file (or the parsed buffer) and
// holds exactly elements() * dtype_size(dtype) bytes, little-endian, row-major.
struct TensorView {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<int64_t> shape;  // outermost first, as in PyTorch; [] is a scalar
    std::span<const uint8_t> bytes;

    int64_t elements() const;
};

// A parsed and validated safetensors file. Every range lies inside the data area and no
// two tensors share a byte, so the views never read out of bounds.
class SafetensorsFile {
public:
    // Memory-maps the file; the views point into the mapping, which this object owns.
    static Result<SafetensorsFile> open(const std::string& path);
    // Parses bytes owned by the caller, who keeps them alive (tests, the fuzzer).
    static Result<SafetensorsFile> parse(std::span<const uint8_t> bytes);

    // In file order: by position in the data area (the order the writer laid them out).
    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* find(std::string_view name) const;
    // Drops this process's pages of a range of this file's tensors once it has been copied
    // elsewhere (a converter reading a model once); a later read maps them again.
    void release(std::span<const uint8_t> range) const { mapping_.release(range); }
    // The header's optional "__metadata__" (string to string; e.g. {"format": "pt"}).
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

private:
    MappedFile mapping_;  // empty for parse(); moving it keeps the mapped address
    std::vector<TensorView> tensors_;
    std::vector<size_t> by_name_;  // indices into tensors_, sorted by name, for find()
    std::map<std::string, std::string> metadata_;
};

// A model folder: one file, or shards listed by model.safetensors.index.json. Tensor
// names are unique across the whole model.
class SafetensorsModel {
public:
    // With an index, opens the shards its weight_map names (each once) and checks the map
    // against them (tensors a shard holds beyond the map belong to the model too, as when
    // transformers loads it); without one, opens every *.safetensors in the folder.
    static Result<SafetensorsModel> open(const std::string& dir);

    const TensorView* find(std::string_view name) const;
    std::vector<const TensorView*> tensors() const;  // sorted by name
    // See SafetensorsFile::release: `range` is a part of the bytes of `t`, one of this model's tensors.
    void release(const TensorView& t, std::span<const uint8_t> range) const;
    size_t size() const { return by_name_.size(); }

private:
    std::vector<SafetensorsFile> files_;
    // Points into files_' tensor vectors, whose elements stay put when files_ moves.
    std::map<std::string, const TensorView*, std::less<>> by_name_;
};

struct TensorToWrite {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;  // elements * dtype_size(dtype) bytes
};

// Writes a safetensors file as the reference writer does (header padded with spaces to
// a multiple of 8, data contiguous in the given order), through a temporary file that is
// renamed into place, so a reader never sees half a file.
Result<void> write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                               const std::map<std::string, std::string>& metadata = {});

}  // namespace hearth::convert
