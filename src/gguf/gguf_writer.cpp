#include "gguf/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include "gguf/gguf_file.h"

namespace hearth::gguf {
namespace {

class Sink {
public:
    std::vector<uint8_t> out;

    template <class T>
    void put(const T& x) {
        put_bytes(&x, sizeof(T));
    }
    void put_string(const std::string& s) {
        put(static_cast<uint64_t>(s.size()));
        put_bytes(s.data(), s.size());
    }
    void put_bytes(const void* p, size_t n) {
        const size_t at = out.size();
        out.resize(at + n);
        if (n) std::memcpy(out.data() + at, p, n);
    }
    void pad_to(uint64_t alignment) {
        while (out.size() % alignment != 0) out.push_back(0);
    }
};

void put_value(Sink& s, const Value& v) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
                s.put_string(x);
            } else if constexpr (std::is_same_v<T, ArrayValue>) {
                s.put(static_cast<uint32_t>(x.type));
                s.put(static_cast<uint64_t>(x.items.size()));
                for (const Value& item : x.items) put_value(s, item);
            } else if constexpr (std::is_same_v<T, bool>) {
                s.put(static_cast<uint8_t>(x ? 1 : 0));
            } else {
                s.put(x);
            }
        },
        v.v);
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
    if (alignment_ != kDefaultAlignment) metadata_.set("general.alignment", Value::u32(alignment_));
}

Result<void> GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type,
                                    std::vector<uint8_t> data) {
    if (shape.empty() || shape.size() > static_cast<size_t>(kMaxDims))
        return make_error("tensor '" + name + "': 1 to 4 dimensions required");
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) return make_error("tensor '" + name + "': negative dimension");
        n *= static_cast<uint64_t>(d);
    }
    const TypeTraits& traits = type_traits(type);
    if (shape[0] % traits.block_size != 0)
        return make_error("tensor '" + name + "': row length is not a multiple of the block size");
    auto bytes = checked_row_bytes(type, n);
    if (!bytes || *bytes != data.size())
        return make_error("tensor '" + name + "': expected " + std::to_string(bytes.value_or(0)) + " bytes, got " +
                          std::to_string(data.size()));
    for (const auto& t : tensors_) {
        if (t.name == name) return make_error("duplicate tensor name '" + name + "'");
    }
    tensors_.push_back({name, std::move(shape), type, std::move(data)});
    return {};
}

// Everything before the data section, padded to the alignment.
std::vector<uint8_t> GgufWriter::header_bytes() const {
    Sink s;
    s.put(kMagic);
    s.put(static_cast<uint32_t>(3));
    s.put(static_cast<uint64_t>(tensors_.size()));
    s.put(static_cast<uint64_t>(metadata_.size()));
    for (const auto& [key, value] : metadata_.entries()) {
        s.put_string(key);
        s.put(static_cast<uint32_t>(value.type()));
        put_value(s, value);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        s.put_string(t.name);
        s.put(static_cast<uint32_t>(t.shape.size()));
        for (int64_t d : t.shape) s.put(static_cast<uint64_t>(d));
        s.put(static_cast<uint32_t>(t.type));
        s.put(offset);
        offset += t.data.size();
        offset += (alignment_ - offset % alignment_) % alignment_;
    }
    s.pad_to(alignment_);
    return std::move(s.out);
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
    Sink s;
    s.out = header_bytes();
    for (const auto& t : tensors_) {
        s.put_bytes(t.data.data(), t.data.size());
        s.pad_to(alignment_);
    }
    return std::move(s.out);
}

Result<void> GgufWriter::write(const std::string& path) const {
    // Streams tensor data straight from memory: large models are not copied once more.
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!f) return make_error("cannot create '" + path + "'");
    auto put = [&](const void* p, size_t n) { return n == 0 || std::fwrite(p, 1, n, f.get()) == n; };
    const std::vector<uint8_t> header = header_bytes();
    bool ok = put(header.data(), header.size());
    const std::vector<uint8_t> zeros(alignment_, 0);
    for (const auto& t : tensors_) {
        ok = ok && put(t.data.data(), t.data.size());
        ok = ok && put(zeros.data(), (alignment_ - t.data.size() % alignment_) % alignment_);
    }
    if (!ok || std::fflush(f.get()) != 0) return make_error("short write to '" + path + "'");
    return {};
}

}  // namespace hearth::gguf
