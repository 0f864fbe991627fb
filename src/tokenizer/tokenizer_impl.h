// Internal: the shared state behind a Tokenizer (immutable once built).
#pragma once

#include <optional>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

struct Tokenizer::Impl {
    Vocab vocab;
    std::optional<BpeTokenizer> bpe;  // for VocabType::Bpe
    SpecialTokenSplitter specials;
};

}  // namespace hearth::tokenizer
