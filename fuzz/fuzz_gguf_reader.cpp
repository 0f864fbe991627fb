// libFuzzer target: arbitrary bytes through the GGUF parser. Whatever it accepts must
// be internally consistent: every tensor's data lies inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "gguf/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto file = hearth::gguf::GgufFile::parse(std::span<const uint8_t>(data, size));
    if (!file) {
        if (file.error().message.empty()) std::abort();
        return 0;
    }
    for (const auto& t : file->tensors()) {
        auto bytes = file->tensor_data(t);
        if (bytes.size() != t.n_bytes) std::abort();
        if (t.n_bytes > 0 && (bytes.data() < data || bytes.data() + bytes.size() > data + size)) std::abort();
        volatile uint8_t sink = t.n_bytes ? bytes[bytes.size() - 1] : 0;
        (void)sink;
    }
    for (const auto& [key, value] : file->metadata().entries()) (void)value.summary();
    return 0;
}
