// SentencePiece-style tokenization ("llama" vocabularies): spaces become U+2581, then
// adjacent pieces are merged greedily by the score of the merged token; characters
// that never form a token fall back to <0xNN> byte tokens.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class SpmTokenizer {
public:
    // Appends the tokens of `text` to `out`. `add_space_prefix` prepends one space
    // (the caller decides: only at the start of the text or after a special token).
    static void encode(const Vocab& vocab, std::string_view text, bool add_space_prefix, std::vector<TokenId>& out);
};

}  // namespace hearth::tokenizer
