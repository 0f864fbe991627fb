// Text to IPA phonemes exactly as Piper does it: espeak-ng phonemizes clause by clause,
// each clause is followed by its punctuation (". ? !" end a sentence; ", : ;" get a space
// after them), language-switch flags like "(en)" are dropped and the result is NFD
// decomposed so that each codepoint is one phoneme.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace hearth::tts {

using Phonemes = std::u32string;  // one codepoint per phoneme

// Replaces single phonemes by sequences: a voice config's "phoneme_map", and Piper's
// built-in one for Brazilian Portuguese (c -> k).
using PhonemeMap = std::map<char32_t, Phonemes>;
const PhonemeMap* default_phoneme_map(const std::string& voice);

// Returns one phoneme string per sentence. Errors: unknown espeak voice. `map` (may be
// null) is applied to each phoneme before language-switch flags are removed, as Piper does.
Result<std::vector<Phonemes>> phonemize_espeak(const std::string& voice, const std::string& text,
                                               const PhonemeMap* map = nullptr);

// What ends a clause, recovered from the text espeak-ng consumed for it (stock espeak-ng
// does not report its clause terminator). Exposed for tests.
struct ClauseEnd {
    char32_t punctuation = 0;    // appended after the clause's phonemes; 0: none
    bool ends_sentence = false;
};
ClauseEnd clause_end_from_text(std::u32string_view clause_text);

}  // namespace hearth::tts
