// Hand-assembly of GGUF bytes, for tests that need files the writer refuses to make.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace hearth::test {

class GgufBytes {
public:
    std::vector<uint8_t> bytes;

    template <class T>
    GgufBytes& put(T x) {
        const size_t at = bytes.size();
        bytes.resize(at + sizeof(T));
        std::memcpy(bytes.data() + at, &x, sizeof(T));
        return *this;
    }
    GgufBytes& u8(uint8_t x) { return put(x); }
    GgufBytes& u32(uint32_t x) { return put(x); }
    GgufBytes& u64(uint64_t x) { return put(x); }
    GgufBytes& str(const std::string& s) {
        u64(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
        return *this;
    }
    GgufBytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        return u32(0x46554747).u32(version).u64(n_tensors).u64(n_kv);
    }
    // A tensor info: name, dims, type id, offset.
    GgufBytes& tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(dims.size()));
        for (uint64_t d : dims) u64(d);
        return u32(type).u64(offset);
    }
    GgufBytes& pad(size_t alignment = 32) {
        while (bytes.size() % alignment) bytes.push_back(0);
        return *this;
    }
    GgufBytes& zeros(size_t n) {
        bytes.resize(bytes.size() + n, 0);
        return *this;
    }
};

}  // namespace hearth::test
