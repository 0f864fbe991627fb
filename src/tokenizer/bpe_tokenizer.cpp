#include "tokenizer/bpe_tokenizer.h"

#include "base/utf8.h"
#include "tokenizer/symbol_merge.h"
#include "tokenizer/utf8.h"

namespace hearth::tokenizer {


Result<BpeTokenizer> BpeTokenizer::create(const Vocab& vocab) {
    auto pre = PreTokenizer::for_pre(vocab.pre);
    if (!pre) return pre.error();
    BpeTokenizer t;
    t.pre_ = std::move(*pre);
    return t;
}

void BpeTokenizer::encode_word(const Vocab& vocab, std::string_view word, std::vector<TokenId>& out) {
    if (word.empty()) return;
    if (vocab.ignore_merges) {
        if (TokenId id = vocab.find(word); id != kNoToken) {
            out.push_back(id);
            return;
        }
    }
    std::vector<MergeSymbol> symbols = split_utf8_symbols(word);
    auto text_of = [&](const MergeSymbol& m) { return word.substr(m.start, m.len); };
    merge_symbols(symbols, [&](const MergeSymbol& l, const MergeSymbol& r) -> std::optional<double> {
        const int32_t rank = vocab.find_merge(text_of(l), text_of(r));
        if (rank < 0) return std::nullopt;
        return rank;
    });

    for (int i = 0; i != -1; i = symbols[i].next) {
        const MergeSymbol& s = symbols[i];
        const std::string_view text = text_of(s);
        if (TokenId id = vocab.find(text); id != kNoToken) {
            out.push_back(id);
            continue;
        }
        // Not a token (merges reaching outside the vocabulary, or a character that is
        // not in it): fall back to single characters, then to the unknown token.
        for (size_t pos = 0; pos < text.size();) {
            const size_t len = utf8_char_length(text, pos);
            if (TokenId id = vocab.find(text.substr(pos, len)); id != kNoToken) {
                out.push_back(id);
            } else if (vocab.unk != kNoToken) {
                out.push_back(vocab.unk);
            }
            pos += len;
        }
    }
}

void BpeTokenizer::encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) const {
    std::string word;
    for (std::string_view piece : pre_.split(text)) {
        word.clear();
        byte_level_encode(piece, word);
        encode_word(vocab, word, out);
    }
}

}  // namespace hearth::tokenizer
