// The GPT-2 byte-level alphabet shared by the tokenizers (UTF-8 itself: base/utf8.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::tokenizer {

// GPT-2 byte-level alphabet: every byte maps to one printable code point
// (bytes that are printable Latin-1 map to themselves, the others to U+0100 and up).
const std::string& byte_to_unicode_utf8(uint8_t b);
// Appends the byte-level encoding of every byte of `bytes` to `out`.
void byte_level_encode(std::string_view bytes, std::string& out);
// Inverse: maps the code points of a byte-level string back to bytes. Code points
// outside the alphabet are copied through as UTF-8.
std::string byte_level_decode(std::string_view text);

}  // namespace hearth::tokenizer
