#include "tokenizer/utf8.h"

#include <array>

namespace hearth::tokenizer {

uint32_t utf8_decode(std::string_view s, size_t& pos) {
    const auto b0 = static_cast<uint8_t>(s[pos]);
    const size_t len = utf8_sequence_length(b0);
    if (len == 1) {
        ++pos;
        return b0 < 0x80 ? b0 : 0xFFFD;
    }
    if (pos + len > s.size()) {
        ++pos;
        return 0xFFFD;
    }
    uint32_t cp = b0 & (0x7F >> len);
    for (size_t i = 1; i < len; ++i) {
        const auto b = static_cast<uint8_t>(s[pos + i]);
        if ((b & 0xC0) != 0x80) {
            ++pos;
            return 0xFFFD;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++pos;
        return 0xFFFD;
    }
    pos += len;
    return cp;
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

size_t utf8_complete_prefix(std::string_view s) {
    // Look back at most 3 bytes for the start of a multibyte sequence.
    const size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto b = static_cast<uint8_t>(s[n - back]);
        if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking
        const size_t len = utf8_sequence_length(b);
        if (len > back) return n - back;  // incomplete sequence at the end
        return n;
    }
    return n;
}

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
