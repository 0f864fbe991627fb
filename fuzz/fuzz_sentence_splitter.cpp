// The sentence splitter reads model output and speech input: arbitrary bytes, pushed in
// pieces of any size, in plain and Markdown mode. Nothing may crash or hang, no piece may
// exceed the limit, and valid UTF-8 in gives valid UTF-8 out.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/utf8.h"
#include "tts/sentence_splitter.h"

namespace {

bool valid_utf8(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t start = pos;
        if (hearth::utf8_decode(s, pos) == 0xFFFD && s.substr(start, pos - start) != "\xEF\xBF\xBD") return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const uint8_t mode = data[0];
    const size_t step = data[1] % 23 + 1;
    const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    hearth::tts::SentenceSplitOptions options;
    options.markdown = (mode & 1) != 0;
    options.starts_in_think = (mode & 2) != 0;
    options.clause_bytes = (mode & 4) ? 24 : 0;
    options.max_bytes = 16 + (mode >> 3) * 8;
    hearth::tts::SentenceSplitter splitter(options);
    const bool utf8_in = valid_utf8(text);
    auto check = [&](const std::vector<std::string>& pieces) {
        for (const auto& p : pieces) {
            if (p.empty() || p.size() > options.max_bytes) std::abort();
            if (utf8_in && !valid_utf8(p)) std::abort();
        }
    };
    for (size_t at = 0; at < text.size(); at += step) check(splitter.push(text.substr(at, step)));
    check(splitter.finish());
    return 0;
}
