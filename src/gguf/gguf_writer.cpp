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

Result<void> GgufWriter::check_new_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                                          uint64_t* bytes) const {
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
    auto size = checked_row_bytes(type, n);
    if (!size) return make_error("tensor '" + name + "': too large");
    for (const auto& t : tensors_) {
        if (t.name == name) return make_error("duplicate tensor name '" + name + "'");
    }
    *bytes = *size;
    return {};
}

Result<void> GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type,
                                    std::vector<uint8_t> data) {
    uint64_t bytes = 0;
    if (auto ok = check_new_tensor(name, shape, type, &bytes); !ok) return ok;
    if (bytes != data.size())
        return make_error("tensor '" + name + "': expected " + std::to_string(bytes) + " bytes, got " +
                          std::to_string(data.size()));
    tensors_.push_back({name, std::move(shape), type, bytes, std::move(data), nullptr});
    return {};
}

Result<void> GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, GgmlType type,
                                    Producer produce) {
    uint64_t bytes = 0;
    if (auto ok = check_new_tensor(name, shape, type, &bytes); !ok) return ok;
    tensors_.push_back({name, std::move(shape), type, bytes, {}, std::move(produce)});
    return {};
}

Result<std::vector<uint8_t>> GgufWriter::produce(size_t index) const {
    const PendingTensor& t = tensors_[index];
    auto data = t.producer();
    if (!data) return make_error("tensor '" + t.name + "': " + data.error().message);
    if (data->size() != t.size)
        return make_error("tensor '" + t.name + "': made " + std::to_string(data->size()) + " bytes, expected " +
                          std::to_string(t.size));
    return data;
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
        offset += t.size;
        offset += (alignment_ - offset % alignment_) % alignment_;
    }
    s.pad_to(alignment_);
    return std::move(s.out);
}

Result<std::vector<uint8_t>> GgufWriter::to_bytes() const {
    Sink s;
    s.out = header_bytes();
    for (size_t i = 0; i < tensors_.size(); ++i) {
        if (tensors_[i].producer) {
            auto data = produce(i);
            if (!data) return data.error();
            s.put_bytes(data->data(), data->size());
        } else {
            s.put_bytes(tensors_[i].data.data(), tensors_[i].data.size());
        }
        s.pad_to(alignment_);
    }
    return std::move(s.out);
}

Result<void> GgufWriter::write(const std::string& path, const Progress& progress) const {
    // Streams tensor data straight from memory (or from each producer in turn): large
    // models are not copied once more.
    const std::string part = path + ".part";
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(part.c_str(), "wb"), &std::fclose);
    if (!f) return make_error("cannot create '" + part + "'");
    auto fail = [&](std::string why) -> Result<void> {
        f.reset();
        std::remove(part.c_str());
        return make_error(std::move(why));
    };
    auto put = [&](const void* p, size_t n) { return n == 0 || std::fwrite(p, 1, n, f.get()) == n; };
    const std::vector<uint8_t> header = header_bytes();
    if (!put(header.data(), header.size())) return fail("short write to '" + part + "'");
    const std::vector<uint8_t> zeros(alignment_, 0);
    for (size_t i = 0; i < tensors_.size(); ++i) {
        const PendingTensor& t = tensors_[i];
        std::vector<uint8_t> made;
        if (t.producer) {
            auto data = produce(i);
            if (!data) return fail(data.error().message);
            made = std::move(data).value();
        }
        const std::vector<uint8_t>& bytes = t.producer ? made : t.data;
        if (!put(bytes.data(), bytes.size()) || !put(zeros.data(), (alignment_ - bytes.size() % alignment_) % alignment_))
            return fail("short write to '" + part + "' (disk full?)");
        if (progress) progress(i + 1, tensors_.size(), t.name);
    }
    if (std::fflush(f.get()) != 0) return fail("short write to '" + part + "' (disk full?)");
    f.reset();
    if (std::rename(part.c_str(), path.c_str()) != 0) {
        std::remove(part.c_str());
        return make_error("cannot rename '" + part + "' to '" + path + "'");
    }
    return {};
}

}  // namespace hearth::gguf
