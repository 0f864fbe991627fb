// The one UTF-8 codec: every layer that walks text by characters (tokenizers, the
// template engine, speech) decodes and encodes through these. Text is untrusted input,
// so nothing here fails: invalid or truncated sequences decode to U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth {

// True for 10xxxxxx, the bytes that continue a multibyte sequence (never start one).
inline bool utf8_is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// Length of the UTF-8 sequence that starts with byte `b` (1 for stray continuation bytes).
inline size_t utf8_sequence_length(uint8_t b) {
    if (b < 0x80) return 1;
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 3;
    if ((b & 0xF8) == 0xF0) return 4;
    return 1;
}

// Length of the character at `pos`: the sequence length when the bytes there form a
// complete, well-formed sequence, else 1 (a stray byte is its own symbol).
inline size_t utf8_char_length(std::string_view s, size_t pos) {
    const size_t len = utf8_sequence_length(static_cast<uint8_t>(s[pos]));
    if (len == 1 || pos + len > s.size()) return 1;
    for (size_t i = 1; i < len; ++i) {
        if (!utf8_is_continuation(static_cast<uint8_t>(s[pos + i]))) return 1;
    }
    return len;
}

// Decodes one code point at `pos` and advances it. Invalid, overlong, surrogate or
// truncated sequences yield U+FFFD and consume one byte, so every input makes progress.
uint32_t utf8_decode(std::string_view s, size_t& pos);

// Appends the UTF-8 encoding of `cp` to `out`.
void utf8_append(std::string& out, uint32_t cp);

// Length of the longest prefix of `s` that ends on a complete UTF-8 character. A
// trailing incomplete (but so far valid) multibyte sequence is excluded; bytes that
// can never become valid are counted as complete so they are not held forever.
size_t utf8_complete_prefix(std::string_view s);

// Whole strings: code points of `s` (U+FFFD per bad byte) and back.
std::u32string utf8_to_u32(std::string_view s);
std::string u32_to_utf8(std::u32string_view cps);

}  // namespace hearth
