// Small UTF-8 helpers and the GPT-2 byte-level alphabet shared by the tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::tokenizer {

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
        if ((static_cast<uint8_t>(s[pos + i]) & 0xC0) != 0x80) return 1;
    }
    return len;
}

// Decodes one code point at `pos` and advances it. Invalid or truncated sequences
// yield U+FFFD and consume one byte, so every input makes progress.
uint32_t utf8_decode(std::string_view s, size_t& pos);

// Appends the UTF-8 encoding of `cp` to `out`.
void utf8_append(std::string& out, uint32_t cp);

// Length of the longest prefix of `s` that ends on a complete UTF-8 character. A
// trailing incomplete (but so far valid) multibyte sequence is excluded; bytes that
// can never become valid are counted as complete so they are not held forever.
size_t utf8_complete_prefix(std::string_view s);

// GPT-2 byte-level alphabet: every byte maps to one printable code point
// (bytes that are printable Latin-1 map to themselves, the others to U+0100 and up).
const std::string& byte_to_unicode_utf8(uint8_t b);
// Appends the byte-level encoding of every byte of `bytes` to `out`.
void byte_level_encode(std::string_view bytes, std::string& out);
// Inverse: maps the code points of a byte-level string back to bytes. Code points
// outside the alphabet are copied through as UTF-8.
std::string byte_level_decode(std::string_view text);

}  // namespace hearth::tokenizer
