// libFuzzer target: arbitrary bytes through the safetensors parser. Whatever it accepts
// must be what the views promise: each tensor's bytes lie inside the input, hold exactly
// elements * dtype size bytes, and no two tensors share a byte.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "convert/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using hearth::convert::TensorView;
    auto file = hearth::convert::SafetensorsFile::parse(std::span<const uint8_t>(data, size));
    if (!file) {
        if (file.error().message.empty()) std::abort();
        return 0;
    }
    std::vector<std::span<const uint8_t>> ranges;
    for (const TensorView& t : file->tensors()) {
        const auto needed = static_cast<uint64_t>(t.elements()) * hearth::convert::dtype_size(t.dtype);
        if (t.elements() < 0 || t.bytes.size() != needed) std::abort();
        if (t.bytes.data() < data || t.bytes.data() > data + size ||
            t.bytes.size() > static_cast<size_t>(data + size - t.bytes.data()))
            std::abort();
        if (file->find(t.name) != &t) std::abort();
        if (!t.bytes.empty()) {
            volatile uint8_t sink = t.bytes[t.bytes.size() - 1];
            (void)sink;
            ranges.push_back(t.bytes);
        }
    }
    std::sort(ranges.begin(), ranges.end(), [](auto a, auto b) { return a.data() < b.data(); });
    for (size_t i = 1; i < ranges.size(); ++i)
        if (ranges[i].data() < ranges[i - 1].data() + ranges[i - 1].size()) std::abort();
    for (const auto& [key, value] : file->metadata())
        if (key.size() + value.size() > size) std::abort();
    return 0;
}
