// Parsing of untrusted GGUF bytes. Every count read from the file is bounded by the
// bytes that remain before anything is allocated, so a hostile header cannot make
// us allocate more than a small multiple of the file size.
#include <cstring>
#include <limits>
#include <unordered_set>

#include "gguf/gguf_file.h"

namespace hearth::gguf {
namespace {

constexpr int kMaxArrayDepth = 8;

class Cursor {
public:
    explicit Cursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return bytes_.size() - pos_; }

    template <class T>
    bool read(T& out) {
        if (remaining() < sizeof(T)) return false;
        std::memcpy(&out, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return true;
    }

    bool read_string(std::string& out) {
        uint64_t len = 0;
        if (!read(len) || len > remaining()) return false;
        out.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(len));
        pos_ += len;
        return true;
    }

private:
    std::span<const uint8_t> bytes_;
    uint64_t pos_ = 0;
};

std::string at(const Cursor& c) { return " at byte " + std::to_string(c.pos()); }

// Smallest number of bytes an element of this type can occupy in the file.
uint64_t min_encoded_size(ValueType t) {
    switch (t) {
        case ValueType::U8:
        case ValueType::I8:
        case ValueType::Bool: return 1;
        case ValueType::U16:
        case ValueType::I16: return 2;
        case ValueType::U32:
        case ValueType::I32:
        case ValueType::F32: return 4;
        case ValueType::U64:
        case ValueType::I64:
        case ValueType::F64:
        case ValueType::String: return 8;
        case ValueType::Array: return 12;
    }
    return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

Result<Value> read_value(Cursor& c, ValueType type, const std::string& key, int depth);

template <ValueType T, class X>
Result<Value> read_scalar(Cursor& c, const std::string& key) {
    X x{};
    if (!c.read(x)) return make_error("truncated value of key '" + key + "'" + at(c));
    return Value::make<T>(x);
}

Result<Value> read_value(Cursor& c, ValueType type, const std::string& key, int depth) {
    switch (type) {
        case ValueType::U8: return read_scalar<ValueType::U8, uint8_t>(c, key);
        case ValueType::I8: return read_scalar<ValueType::I8, int8_t>(c, key);
        case ValueType::U16: return read_scalar<ValueType::U16, uint16_t>(c, key);
        case ValueType::I16: return read_scalar<ValueType::I16, int16_t>(c, key);
        case ValueType::U32: return read_scalar<ValueType::U32, uint32_t>(c, key);
        case ValueType::I32: return read_scalar<ValueType::I32, int32_t>(c, key);
        case ValueType::F32: return read_scalar<ValueType::F32, float>(c, key);
        case ValueType::U64: return read_scalar<ValueType::U64, uint64_t>(c, key);
        case ValueType::I64: return read_scalar<ValueType::I64, int64_t>(c, key);
        case ValueType::F64: return read_scalar<ValueType::F64, double>(c, key);
        case ValueType::Bool: {
            uint8_t b = 0;
            if (!c.read(b)) return make_error("truncated value of key '" + key + "'" + at(c));
            if (b > 1) return make_error("invalid bool " + std::to_string(b) + " in key '" + key + "'" + at(c));
            return Value::boolean(b != 0);
        }
        case ValueType::String: {
            std::string s;
            if (!c.read_string(s)) return make_error("truncated string value of key '" + key + "'" + at(c));
            return Value::str(std::move(s));
        }
        case ValueType::Array: {
            if (depth >= kMaxArrayDepth) return make_error("arrays nested too deeply in key '" + key + "'" + at(c));
            uint32_t elem_type = 0;
            uint64_t count = 0;
            if (!c.read(elem_type) || !c.read(count))
                return make_error("truncated array header of key '" + key + "'" + at(c));
            if (!valid_value_type(elem_type))
                return make_error("unknown array element type " + std::to_string(elem_type) + " in key '" + key +
                                  "'" + at(c));
            const auto et = static_cast<ValueType>(elem_type);
            if (count > c.remaining() / min_encoded_size(et))
                return make_error("array of key '" + key + "' has " + std::to_string(count) +
                                  " elements, more than the file can hold" + at(c));
            ArrayValue arr{et, {}};
            arr.items.reserve(static_cast<size_t>(count));
            for (uint64_t i = 0; i < count; ++i) {
                auto item = read_value(c, et, key, depth + 1);
                if (!item) return item.error();
                arr.items.push_back(std::move(item).value());
            }
            return Value::array(std::move(arr));
        }
    }
    return make_error("unknown value type");
}

}  // namespace

std::string TensorInfo::shape_string() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

Result<GgufFile> GgufFile::open(const std::string& path) {
    auto mapping = MappedFile::open(path);
    if (!mapping) return mapping.error();
    auto shared = std::make_shared<MappedFile>(std::move(mapping).value());
    auto file = parse(shared->bytes());
    if (!file) return make_error(path + ": " + file.error().message);
    file->mapping_ = std::move(shared);
    return file;
}

Result<GgufFile> GgufFile::parse(std::span<const uint8_t> bytes) {
    Cursor c(bytes);
    GgufFile f;
    f.bytes_ = bytes;

    uint32_t magic = 0;
    if (!c.read(magic)) return make_error("file too small for a GGUF header (" + std::to_string(bytes.size()) + " bytes)");
    if (magic != kMagic) {
        char m[5] = {};
        std::memcpy(m, &magic, 4);
        for (char& ch : m)
            if (ch && (ch < 32 || ch > 126)) ch = '?';
        return make_error(std::string("bad magic '") + m + "': not a GGUF file");
    }
    if (!c.read(f.version_)) return make_error("truncated header: no version");
    if (f.version_ == 1) return make_error("GGUF version 1 is not supported (re-convert the model)");
    if (f.version_ != 2 && f.version_ != 3) {
        if ((f.version_ & 0xffff) == 0 && (f.version_ >> 16) != 0)
            return make_error("big-endian GGUF files are not supported");
        return make_error("unsupported GGUF version " + std::to_string(f.version_));
    }
    uint64_t n_tensors = 0, n_kv = 0;
    if (!c.read(n_tensors) || !c.read(n_kv)) return make_error("truncated header: no tensor and key counts");
    // A key needs at least 8 (length) + 4 (type) + 1 bytes; a tensor info at least 8 + 4 + 8 + 4 + 8.
    if (n_kv > c.remaining() / 13)
        return make_error("header claims " + std::to_string(n_kv) + " metadata keys, more than the file can hold");
    if (n_tensors > c.remaining() / 32)
        return make_error("header claims " + std::to_string(n_tensors) + " tensors, more than the file can hold");

    for (uint64_t i = 0; i < n_kv; ++i) {
        std::string key;
        if (!c.read_string(key)) return make_error("truncated key of metadata entry " + std::to_string(i) + at(c));
        if (key.empty()) return make_error("empty key in metadata entry " + std::to_string(i) + at(c));
        uint32_t type = 0;
        if (!c.read(type)) return make_error("truncated type of key '" + key + "'" + at(c));
        if (!valid_value_type(type))
            return make_error("unknown value type " + std::to_string(type) + " of key '" + key + "'" + at(c));
        auto value = read_value(c, static_cast<ValueType>(type), key, 0);
        if (!value) return value.error();
        if (!f.metadata_.insert(key, std::move(value).value())) return make_error("duplicate key '" + key + "'");
    }

    if (const Value* a = f.metadata_.find("general.alignment")) {
        const auto* u = std::get_if<uint32_t>(&a->v);
        if (u == nullptr) return make_error("general.alignment must be a u32");
        if (*u == 0 || (*u & (*u - 1)) != 0)
            return make_error("general.alignment " + std::to_string(*u) + " is not a power of two");
        f.alignment_ = *u;
    }

    std::unordered_set<std::string> names;
    f.tensors_.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        TensorInfo t;
        if (!c.read_string(t.name)) return make_error("truncated name of tensor " + std::to_string(i) + at(c));
        if (!names.insert(t.name).second) return make_error("duplicate tensor name '" + t.name + "'");
        uint32_t n_dims = 0;
        if (!c.read(n_dims)) return make_error("truncated tensor info of '" + t.name + "'" + at(c));
        if (n_dims == 0 || n_dims > kMaxDims)
            return make_error("tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions (1 to " +
                              std::to_string(kMaxDims) + " allowed)");
        uint64_t n_elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            uint64_t dim = 0;
            if (!c.read(dim)) return make_error("truncated shape of tensor '" + t.name + "'" + at(c));
            if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
                (dim != 0 && n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / dim))
                return make_error("shape of tensor '" + t.name + "' overflows");
            n_elements *= dim;
            t.shape.push_back(static_cast<int64_t>(dim));
        }
        uint32_t type = 0;
        if (!c.read(type) || !c.read(t.offset)) return make_error("truncated tensor info of '" + t.name + "'" + at(c));
        const TypeTraits* traits = type_traits(type);
        if (traits == nullptr)
            return make_error("tensor '" + t.name + "' has unknown type id " + std::to_string(type));
        t.type = traits->type;
        if (t.shape[0] % traits->block_size != 0)
            return make_error("tensor '" + t.name + "' row of " + std::to_string(t.shape[0]) +
                              " elements is not a multiple of the " + std::string(traits->name) + " block size " +
                              std::to_string(traits->block_size));
        auto n_bytes = checked_row_bytes(t.type, n_elements);
        if (!n_bytes) return make_error("size of tensor '" + t.name + "' overflows");
        t.n_elements = static_cast<int64_t>(n_elements);
        t.n_bytes = *n_bytes;
        if (t.offset % f.alignment_ != 0)
            return make_error("tensor '" + t.name + "' offset " + std::to_string(t.offset) +
                              " is not a multiple of the alignment " + std::to_string(f.alignment_));
        f.tensors_.push_back(std::move(t));
    }

    const uint64_t header_end = c.pos();
    const uint64_t pad = (f.alignment_ - header_end % f.alignment_) % f.alignment_;
    f.data_offset_ = header_end + pad;
    const uint64_t data_size = f.data_offset_ <= bytes.size() ? bytes.size() - f.data_offset_ : 0;
    for (const TensorInfo& t : f.tensors_) {
        if (f.data_offset_ > bytes.size() || t.offset > data_size || t.n_bytes > data_size - t.offset)
            return make_error("data of tensor '" + t.name + "' (" + std::to_string(t.n_bytes) + " bytes at offset " +
                              std::to_string(t.offset) + ") extends past the end of the file");
    }
    return f;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    for (const auto& t : tensors_) {
        if (t.name == name) return &t;
    }
    return nullptr;
}

std::span<const uint8_t> GgufFile::tensor_data(const TensorInfo& t) const {
    return bytes_.subspan(static_cast<size_t>(data_offset_ + t.offset), static_cast<size_t>(t.n_bytes));
}

void GgufFile::release(std::span<const uint8_t> bytes) const {
    if (mapping_) mapping_->release(bytes);
}

std::string GgufFile::architecture() const { return metadata_.get_string("general.architecture").value_or(""); }

}  // namespace hearth::gguf
