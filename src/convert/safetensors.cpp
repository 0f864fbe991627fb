// Parsing of untrusted safetensors files. The header is bounded before it is parsed
// (length against the file, nesting with json_shape), and every number from it is range
// checked before it sizes or locates anything, so a hostile file can neither make us
// read outside it nor allocate more than a small multiple of its header.
#include "convert/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "base/json_shape.h"

namespace hearth::convert {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;  // the reference reader's limit
constexpr size_t kMaxDims = 8;
// The root object, a tensor's entry, its shape: deeper JSON is never a valid header.
constexpr int kMaxHeaderDepth = 3;
constexpr int kMaxIndexDepth = 32;
constexpr std::string_view kMetadataKey = "__metadata__";
constexpr std::string_view kIndexName = "model.safetensors.index.json";
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

struct DtypeInfo {
    Dtype dtype;
    std::string_view name;
    size_t size;
};

constexpr std::array<DtypeInfo, 12> kDtypes{{
    {Dtype::F64, "F64", 8},
    {Dtype::F32, "F32", 4},
    {Dtype::F16, "F16", 2},
    {Dtype::BF16, "BF16", 2},
    {Dtype::I64, "I64", 8},
    {Dtype::I32, "I32", 4},
    {Dtype::I16, "I16", 2},
    {Dtype::I8, "I8", 1},
    {Dtype::U8, "U8", 1},
    {Dtype::Bool, "BOOL", 1},
    {Dtype::F8E4M3, "F8_E4M3", 1},
    {Dtype::F8E5M2, "F8_E5M2", 1},
}};

const DtypeInfo& info(Dtype dtype) {
    for (const auto& d : kDtypes)
        if (d.dtype == dtype) return d;
    return kDtypes[1];  // unreachable for a valid enum value
}

std::optional<Dtype> dtype_from_name(std::string_view name) {
    for (const auto& d : kDtypes)
        if (d.name == name) return d.dtype;
    return std::nullopt;
}

std::string supported_dtypes() {
    std::string s;
    for (const auto& d : kDtypes) s += (s.empty() ? "" : ", ") + std::string(d.name);
    return s;
}

std::string shape_string(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// A JSON value for an error message: scalars as written (cut short), containers by kind.
std::string describe(const json& j) {
    if (j.is_structured()) return j.is_array() ? "an array" : "an object";
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 40) {
        size_t cut = 40;
        while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
        s = s.substr(0, cut) + "...";
    }
    return s;
}

// A JSON integer in [0, INT64_MAX]; floats ("4.0", "1e3") are not integers here.
std::optional<int64_t> non_negative_int(const json& j) {
    if (j.is_number_unsigned()) {
        const auto u = j.get<uint64_t>();
        if (u <= static_cast<uint64_t>(kInt64Max)) return static_cast<int64_t>(u);
        return std::nullopt;
    }
    if (j.is_number_integer() && j.get<int64_t>() >= 0) return j.get<int64_t>();
    return std::nullopt;
}

// The element count of `shape`, or nullopt when it exceeds INT64_MAX. A zero dimension
// makes the count zero whatever the others are.
std::optional<int64_t> checked_elements(const std::vector<int64_t>& shape) {
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0 || n > kInt64Max / d) return std::nullopt;
        n *= d;
    }
    return n;
}

Result<std::vector<int64_t>> read_shape(const json& j, const std::string& where) {
    if (!j.is_array()) return make_error(where + "shape is " + describe(j) + ", not an array");
    if (j.size() > kMaxDims)
        return make_error(fmt::format("{}shape has {} dimensions, at most {} allowed", where, j.size(), kMaxDims));
    std::vector<int64_t> shape;
    for (size_t i = 0; i < j.size(); ++i) {
        auto dim = non_negative_int(j[i]);
        if (!dim)
            return make_error(
                fmt::format("{}shape dimension {} is {}, not a non-negative integer", where, i, describe(j[i])));
        shape.push_back(*dim);
    }
    return shape;
}

// data_offsets: [begin, end], each an integer in [0, INT64_MAX].
Result<std::pair<uint64_t, uint64_t>> read_offsets(const json& j, const std::string& where) {
    std::optional<int64_t> begin, end;
    if (j.is_array() && j.size() == 2) begin = non_negative_int(j[0]), end = non_negative_int(j[1]);
    if (begin && end) return std::pair{static_cast<uint64_t>(*begin), static_cast<uint64_t>(*end)};
    std::string got = describe(j);
    if (j.is_array())
        got = j.size() == 2 ? "[" + describe(j[0]) + ", " + describe(j[1]) + "]"
                            : fmt::format("an array of {} values", j.size());
    return make_error(where + "data_offsets must be two non-negative integers [begin, end], not " + got);
}

// Parses one tensor entry and returns its view into `data` after checking that the
// range lies inside it and holds exactly the bytes the dtype and shape need.
Result<TensorView> read_entry(const std::string& name, const json& entry, std::span<const uint8_t> data) {
    const std::string where = "tensor '" + name + "': ";
    if (!entry.is_object()) return make_error(where + "entry is " + describe(entry) + ", not an object");
    for (const auto& [key, value] : entry.items())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            return make_error(where + "unknown key '" + key + "' (expected dtype, shape and data_offsets)");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(key)) return make_error(where + "missing '" + key + "'");

    TensorView view;
    view.name = name;
    const json& dtype = entry["dtype"];
    if (!dtype.is_string()) return make_error(where + "dtype is " + describe(dtype) + ", not a string");
    auto parsed_dtype = dtype_from_name(dtype.get_ref<const std::string&>());
    if (!parsed_dtype)
        return make_error(where + "unsupported dtype " + describe(dtype) + " (supported: " + supported_dtypes() + ")");
    view.dtype = *parsed_dtype;

    auto shape = read_shape(entry["shape"], where);
    if (!shape) return shape.error();
    view.shape = std::move(shape).value();
    const auto elements = checked_elements(view.shape);
    const auto size = static_cast<int64_t>(dtype_size(view.dtype));
    if (!elements || *elements > kInt64Max / size)
        return make_error(where + "shape " + shape_string(view.shape) + " overflows a 64-bit byte count");
    const auto needed = static_cast<uint64_t>(*elements * size);

    auto offsets = read_offsets(entry["data_offsets"], where);
    if (!offsets) return offsets.error();
    const auto [b, e] = *offsets;
    if (b > e) return make_error(fmt::format("{}data_offsets [{}, {}] end before they begin", where, b, e));
    if (e > data.size())
        return make_error(fmt::format("{}data_offsets [{}, {}] extend past the end of the {}-byte data area", where,
                                      b, e, data.size()));
    if (e - b != needed)
        return make_error(fmt::format("{}data_offsets [{}, {}] hold {} bytes, but {} of shape {} needs {}", where, b,
                                      e, e - b, dtype_name(view.dtype), shape_string(view.shape), needed));
    view.bytes = data.subspan(static_cast<size_t>(b), static_cast<size_t>(needed));
    return view;
}

Result<void> read_metadata(const json& j, std::map<std::string, std::string>& out) {
    if (!j.is_object())
        return make_error(std::string(kMetadataKey) + " is " + describe(j) + ", not an object of strings");
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string())
            return make_error(std::string(kMetadataKey) + " value of '" + key + "' is " + describe(value) +
                              ", not a string");
        out.emplace(key, value.get<std::string>());
    }
    return {};
}

// Sorts the views into data-area order and refuses any two that share a byte. Empty
// tensors share none, wherever they point.
Result<void> sort_and_check_overlap(std::vector<TensorView>& tensors, const uint8_t* data) {
    std::sort(tensors.begin(), tensors.end(), [](const TensorView& a, const TensorView& b) {
        if (a.bytes.data() != b.bytes.data()) return a.bytes.data() < b.bytes.data();
        if (a.bytes.size() != b.bytes.size()) return a.bytes.size() < b.bytes.size();
        return a.name < b.name;
    });
    const TensorView* previous = nullptr;  // the last non-empty tensor, whose end is the furthest so far
    for (const TensorView& t : tensors) {
        if (t.bytes.empty()) continue;
        if (previous != nullptr && t.bytes.data() < previous->bytes.data() + previous->bytes.size()) {
            auto range = [&](const TensorView& v) {
                const auto begin = static_cast<size_t>(v.bytes.data() - data);
                return fmt::format("'{}' [{}, {}]", v.name, begin, begin + v.bytes.size());
            };
            return make_error("tensors " + range(*previous) + " and " + range(t) + " overlap in the data area");
        }
        previous = &t;
    }
    return {};
}

}  // namespace

size_t dtype_size(Dtype dtype) { return info(dtype).size; }

std::string_view dtype_name(Dtype dtype) { return info(dtype).name; }

int64_t TensorView::elements() const { return checked_elements(shape).value_or(0); }

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    auto mapping = MappedFile::open(path);
    if (!mapping) return mapping.error();
    auto file = parse(mapping->bytes());
    if (!file) return make_error(path + ": " + file.error().message);
    file->mapping_ = std::move(mapping).value();
    return file;
}

Result<SafetensorsFile> SafetensorsFile::parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < 8)
        return make_error(fmt::format("file too small for a safetensors header ({} bytes)", bytes.size()));
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);  // little-endian, as are the hosts we build for
    const uint64_t after_length = bytes.size() - 8;
    if (header_len < 2)
        return make_error(fmt::format("header length {} is too small for a JSON object: not a safetensors file",
                                      header_len));
    if (header_len > after_length)
        return make_error(fmt::format("header length {} is larger than the {} bytes that follow it: truncated, or "
                                      "not a safetensors file",
                                      header_len, after_length));
    if (header_len > kMaxHeaderBytes)
        return make_error(fmt::format("header length {} exceeds the limit of {} bytes", header_len, kMaxHeaderBytes));

    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<size_t>(header_len));
    const int depth = json_shape(text).max_depth;
    if (depth > kMaxHeaderDepth)
        return make_error(fmt::format("header nests JSON {} levels deep; a safetensors header has at most {}", depth,
                                      kMaxHeaderDepth));
    const json header = json::parse(text.begin(), text.end(), nullptr, false);
    if (header.is_discarded()) return make_error(fmt::format("header ({} bytes) is not valid JSON", header_len));
    if (!header.is_object()) return make_error("header is " + describe(header) + ", not a JSON object");

    SafetensorsFile file;
    const std::span<const uint8_t> data = bytes.subspan(8 + static_cast<size_t>(header_len));
    file.tensors_.reserve(header.size());
    for (const auto& [name, entry] : header.items()) {
        if (name == kMetadataKey) {
            if (auto ok = read_metadata(entry, file.metadata_); !ok) return ok.error();
            continue;
        }
        auto view = read_entry(name, entry, data);
        if (!view) return view.error();
        file.tensors_.push_back(std::move(view).value());
    }
    if (auto ok = sort_and_check_overlap(file.tensors_, data.data()); !ok) return ok.error();

    file.by_name_.resize(file.tensors_.size());
    for (size_t i = 0; i < file.by_name_.size(); ++i) file.by_name_[i] = i;
    std::sort(file.by_name_.begin(), file.by_name_.end(),
              [&](size_t a, size_t b) { return file.tensors_[a].name < file.tensors_[b].name; });
    return file;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
    auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                               [&](size_t i, std::string_view n) { return tensors_[i].name < n; });
    if (it == by_name_.end() || tensors_[*it].name != name) return nullptr;
    return &tensors_[*it];
}

namespace {

// A shard named by the index must be a plain file name in the model's folder.
bool plain_file_name(const std::string& name) {
    return !name.empty() && name.find('/') == std::string::npos && name.find('\\') == std::string::npos &&
           name.find("..") == std::string::npos;
}

// The index's weight_map: tensor name to shard file name, each shard name checked.
Result<std::map<std::string, std::string>> read_weight_map(const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) return make_error("cannot read '" + path + "': " + ec.message());
    if (size > kMaxHeaderBytes) return make_error(fmt::format("{}: {} bytes is too large for an index", path, size));
    auto text = read_text_file(path);
    if (!text) return text.error();
    if (json_shape(*text).max_depth > kMaxIndexDepth) return make_error(path + ": JSON nested too deeply");
    const json index = json::parse(*text, nullptr, false);
    if (index.is_discarded()) return make_error(path + ": not valid JSON");
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
        return make_error(path + ": no \"weight_map\" object");
    std::map<std::string, std::string> weight_map;
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
        if (!shard.is_string())
            return make_error(path + ": weight_map entry of '" + tensor + "' is " + describe(shard) +
                              ", not a shard file name");
        const auto& name = shard.get_ref<const std::string&>();
        if (!plain_file_name(name))
            return make_error(path + ": tensor '" + tensor + "' maps to shard " + describe(shard) +
                              ", which is not a file name in the model's folder");
        weight_map.emplace(tensor, name);
    }
    if (weight_map.empty()) return make_error(path + ": weight_map lists no tensors");
    return weight_map;
}

// Every *.safetensors file in the folder (symbolic links to files count, as in the
// Hugging Face cache), sorted by name.
Result<std::vector<std::string>> list_safetensors(const std::string& dir) {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->path().extension() == ".safetensors" && it->is_regular_file(type_ec))
            names.push_back(it->path().filename().string());
    }
    if (ec) return make_error("cannot list '" + dir + "': " + ec.message());
    if (names.empty())
        return make_error("no .safetensors files in '" + dir +
                          "' (PyTorch .bin/.pt checkpoints are pickles and are not supported; convert them to "
                          "safetensors first)");
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

Result<SafetensorsModel> SafetensorsModel::open(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return make_error("'" + dir + "' is not a folder");
    const std::string index_path = (fs::path(dir) / kIndexName).string();
    const bool indexed = fs::exists(index_path, ec);

    std::map<std::string, std::string> weight_map;  // empty without an index
    std::vector<std::string> shards;
    if (indexed) {
        auto map = read_weight_map(index_path);
        if (!map) return map.error();
        weight_map = std::move(map).value();
        std::set<std::string> distinct;
        for (const auto& [tensor, shard] : weight_map) distinct.insert(shard);
        shards.assign(distinct.begin(), distinct.end());
    } else {
        auto names = list_safetensors(dir);
        if (!names) return names.error();
        shards = std::move(names).value();
    }

    SafetensorsModel model;
    model.files_.reserve(shards.size());
    for (const std::string& shard : shards) {
        auto file = SafetensorsFile::open((fs::path(dir) / shard).string());
        if (!file)
            return indexed ? make_error("shard '" + shard + "' named by " + index_path + ": " + file.error().message)
                           : file.error();
        model.files_.push_back(std::move(file).value());
    }
    // files_ no longer grows: the views' addresses are final.
    std::map<std::string_view, size_t> shard_of;
    for (size_t i = 0; i < model.files_.size(); ++i) {
        for (const TensorView& t : model.files_[i].tensors()) {
            auto [it, inserted] = shard_of.emplace(t.name, i);
            if (!inserted)
                return make_error("tensor '" + t.name + "' is in both '" + shards[it->second] + "' and '" +
                                  shards[i] + "' in '" + dir + "'");
            model.by_name_.emplace(t.name, &t);
        }
    }
    for (const auto& [tensor, shard] : weight_map) {
        auto it = shard_of.find(tensor);
        if (it == shard_of.end() || shards[it->second] != shard)
            return make_error(index_path + " lists tensor '" + tensor + "' in shard '" + shard +
                              "', which does not hold it");
    }
    return model;
}

const TensorView* SafetensorsModel::find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

void SafetensorsModel::release(const TensorView& t, std::span<const uint8_t> range) const {
    for (const auto& f : files_) {
        const auto& all = f.tensors();
        if (!all.empty() && &t >= all.data() && &t < all.data() + all.size()) return f.release(range);
    }
}

std::vector<const TensorView*> SafetensorsModel::tensors() const {
    std::vector<const TensorView*> out;
    out.reserve(by_name_.size());
    for (const auto& [name, view] : by_name_) out.push_back(view);
    return out;
}

namespace {

// The header text for `tensors` laid out contiguously in order, padded with spaces so
// the data area starts 8-byte aligned.
Result<std::string> header_text(const std::vector<TensorToWrite>& tensors,
                                const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header[std::string(kMetadataKey)] = metadata;
    uint64_t offset = 0;
    for (const TensorToWrite& t : tensors) {
        if (t.name == kMetadataKey || header.contains(t.name))
            return make_error("cannot write tensor '" + t.name + "': the name is reserved or repeated");
        const auto elements = checked_elements(t.shape);
        if (!elements || *elements > kInt64Max / static_cast<int64_t>(dtype_size(t.dtype)) ||
            t.bytes.size() != static_cast<uint64_t>(*elements) * dtype_size(t.dtype))
            return make_error(fmt::format("cannot write tensor '{}': {} bytes do not hold {} of shape {}", t.name,
                                          t.bytes.size(), dtype_name(t.dtype), shape_string(t.shape)));
        header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    return text;
}

}  // namespace

Result<void> write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                               const std::map<std::string, std::string>& metadata) {
    auto header = header_text(tensors, metadata);
    if (!header) return header.error();
    const std::string temp = path + ".tmp";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out) return make_error("cannot create '" + temp + "'");
        const uint64_t header_len = header->size();
        out.write(reinterpret_cast<const char*>(&header_len), 8);
        out.write(header->data(), static_cast<std::streamsize>(header->size()));
        for (const TensorToWrite& t : tensors)
            out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
        out.flush();
        if (!out) {
            std::error_code ignored;
            fs::remove(temp, ignored);
            return make_error("cannot write '" + temp + "'");
        }
    }
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) {
        fs::remove(temp, ec);
        return make_error("cannot rename '" + temp + "' to '" + path + "': " + ec.message());
    }
    return {};
}

}  // namespace hearth::convert
