// UTF-8 <-> codepoints and Unicode canonical decomposition (NFD). Piper treats every
// codepoint of the NFD-decomposed phoneme string as one phoneme, so we need both.
#pragma once

#include <string>
#include <string_view>

namespace hearth::tts {

// Invalid bytes decode to U+FFFD (one per bad byte), never an error: text is user input.
std::u32string utf8_to_codepoints(std::string_view text);
std::string codepoints_to_utf8(std::u32string_view codepoints);
void append_utf8(std::string& out, char32_t cp);

// Canonical decomposition followed by canonical ordering of combining marks (NFD).
std::u32string nfd(std::u32string_view text);

}  // namespace hearth::tts
