// Splits plain text into sentences for the built-in voice, so that long text streams
// sentence by sentence. (Piper voices get their sentences from the phonemizer instead.)
#pragma once

#include <string>
#include <vector>

namespace hearth::tts {

// A sentence ends after . ! ? (and their CJK / Devanagari / Arabic forms, possibly followed
// by closing quotes or brackets) when whitespace or the end follows, and at blank lines.
// Sentences are trimmed; empty ones are dropped. Very long sentences are cut at the last
// space before max_bytes so that no single utterance delays the stream for long.
std::vector<std::string> split_sentences(const std::string& text, size_t max_bytes = 1000);

}  // namespace hearth::tts
