// WordPiece ("bert" vocabularies): BERT normalisation (drop control characters, strip
// accents via NFD, lowercase, isolate punctuation and CJK ideographs, split on
// whitespace), then greedy longest-match-first pieces per word. Vocabularies use the
// GGUF "phantom space" spelling: word-initial pieces start with U+2581, continuation
// pieces have no "##".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class WpmTokenizer {
public:
    // Normalised words of `text` (exposed for tests).
    static std::vector<std::string> split_words(std::string_view text);
    static void encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);
};

}  // namespace hearth::tokenizer
