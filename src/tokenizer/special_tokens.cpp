#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace hearth::tokenizer {

namespace {
bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
}  // namespace

SpecialTokenSplitter::SpecialTokenSplitter(const Vocab& vocab) {
    for (size_t i = 0; i < vocab.size(); ++i) {
        const TokenType t = vocab.types[i];
        if (t != TokenType::Control && t != TokenType::UserDefined && t != TokenType::Unknown) continue;
        const std::string& text = vocab.tokens[i];
        if (text.empty()) continue;
        all_by_first_byte_[static_cast<uint8_t>(text[0])].push_back(static_cast<TokenId>(i));
        if (t == TokenType::UserDefined) user_by_first_byte_[static_cast<uint8_t>(text[0])].push_back(static_cast<TokenId>(i));
    }
    for (auto* table : {&all_by_first_byte_, &user_by_first_byte_}) {
        for (auto& list : *table) {
            std::stable_sort(list.begin(), list.end(), [&](TokenId a, TokenId b) {
                return vocab.tokens[a].size() > vocab.tokens[b].size();
            });
        }
    }
}

std::vector<Fragment> SpecialTokenSplitter::split(const Vocab& vocab, std::string_view text,
                                                  bool parse_special) const {
    std::vector<Fragment> out;
    size_t raw_start = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        const auto& table = parse_special ? all_by_first_byte_ : user_by_first_byte_;
        const auto& candidates = table[static_cast<uint8_t>(text[pos])];
        TokenId found = kNoToken;
        for (TokenId id : candidates) {
            const std::string& tok = vocab.tokens[id];
            if (text.size() - pos >= tok.size() && text.compare(pos, tok.size(), tok) == 0) {
                found = id;
                break;
            }
        }
        if (found == kNoToken) {
            ++pos;
            continue;
        }
        const uint8_t strip = vocab.strip_of(found);
        size_t raw_end = pos;
        if (strip & Vocab::kStripLeft) {
            while (raw_end > raw_start && is_ascii_space(text[raw_end - 1])) --raw_end;
        }
        if (raw_end > raw_start) out.push_back({kNoToken, text.substr(raw_start, raw_end - raw_start)});
        out.push_back({found, {}});
        pos += vocab.tokens[found].size();
        if (strip & Vocab::kStripRight) {
            while (pos < text.size() && is_ascii_space(text[pos])) ++pos;
        }
        raw_start = pos;
    }
    if (raw_start < text.size()) out.push_back({kNoToken, text.substr(raw_start)});
    return out;
}

}  // namespace hearth::tokenizer
