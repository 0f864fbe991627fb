// Unicode canonical decomposition (NFD): Piper treats every codepoint of the
// NFD-decomposed phoneme string as one phoneme (UTF-8 to codepoints: base/utf8.h).
#pragma once

#include <string>
#include <string_view>

namespace hearth::tts {

// Canonical decomposition followed by canonical ordering of combining marks (NFD).
std::u32string nfd(std::u32string_view text);

}  // namespace hearth::tts
