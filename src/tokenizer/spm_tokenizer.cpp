#include "tokenizer/spm_tokenizer.h"

#include <string>

#include "tokenizer/symbol_merge.h"

namespace hearth::tokenizer {

namespace {

constexpr std::string_view kSpaceMarker = "\xe2\x96\x81";  // U+2581

}  // namespace

void SpmTokenizer::encode(const Vocab& vocab, std::string_view raw, bool add_space_prefix, std::vector<TokenId>& out) {
    std::string text;
    text.reserve(raw.size() + 8);
    if (add_space_prefix) text += kSpaceMarker;
    for (char c : raw) {
        if (c == ' ') {
            text += kSpaceMarker;
        } else {
            text += c;
        }
    }
    if (text.empty()) return;
    const std::string_view word(text);

    // Highest score first: the merged piece must itself be in the vocabulary.
    std::vector<MergeSymbol> symbols = split_utf8_symbols(word);
    merge_symbols(symbols, [&](const MergeSymbol& l, const MergeSymbol& r) -> std::optional<double> {
        const TokenId id = vocab.find(word.substr(l.start, l.len + r.len));
        if (id == kNoToken) return std::nullopt;
        return -static_cast<double>(vocab.score_of(id));
    });

    for (int i = 0; i != -1; i = symbols[i].next) {
        const MergeSymbol& s = symbols[i];
        const std::string_view piece = word.substr(s.start, s.len);
        if (TokenId id = vocab.find(piece); id != kNoToken) {
            out.push_back(id);
            continue;
        }
        // Merged symbols are always tokens, so this is one character missing from the
        // vocabulary: emit its bytes.
        for (char c : piece) {
            const TokenId id = vocab.byte_token(static_cast<uint8_t>(c));
            if (id != kNoToken) {
                out.push_back(id);
            } else if (vocab.unk != kNoToken) {
                out.push_back(vocab.unk);
            }
        }
    }
}

}  // namespace hearth::tokenizer
