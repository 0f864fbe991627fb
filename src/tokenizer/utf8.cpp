#include "tokenizer/utf8.h"

#include <array>

#include "base/utf8.h"

namespace hearth::tokenizer {

namespace {

struct ByteLevelTables {
    std::array<std::string, 256> encode;
    std::array<int, 0x180> decode;  // code point -> byte, -1 when not in the alphabet

    ByteLevelTables() {
        decode.fill(-1);
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const int cp = printable ? b : next++;
            utf8_append(encode[b], static_cast<uint32_t>(cp));
            decode[cp] = b;
        }
    }
};

const ByteLevelTables& tables() {
    static const ByteLevelTables t;
    return t;
}

}  // namespace

const std::string& byte_to_unicode_utf8(uint8_t b) { return tables().encode[b]; }

void byte_level_encode(std::string_view bytes, std::string& out) {
    const auto& t = tables();
    for (char c : bytes) out += t.encode[static_cast<uint8_t>(c)];
}

std::string byte_level_decode(std::string_view text) {
    const auto& t = tables();
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = pos;
        const uint32_t cp = utf8_decode(text, pos);
        if (cp < t.decode.size() && t.decode[cp] >= 0 && !(cp == 0xFFFD)) {
            out += static_cast<char>(t.decode[cp]);
        } else {
            out.append(text.substr(start, pos - start));
        }
    }
    return out;
}

}  // namespace hearth::tokenizer
