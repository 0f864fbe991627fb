// Byte-level BPE ("gpt2" vocabularies): regex pre-tokenization, byte-to-unicode
// mapping, then merges by rank within each pre-token word.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class BpeTokenizer {
public:
    static Result<BpeTokenizer> create(const Vocab& vocab);

    // Appends the tokens of `text` (raw text without special tokens) to `out`.
    void encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) const;

    // Merges one byte-level encoded word. Cost O(n log n) in the word length using a
    // priority queue over a linked list of symbols.
    static void encode_word(const Vocab& vocab, std::string_view word, std::vector<TokenId>& out);

private:
    PreTokenizer pre_;
};

}  // namespace hearth::tokenizer
