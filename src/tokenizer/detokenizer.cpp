// Token ids back to text: per-token pieces, whole-sequence decoding and the streaming
// detokenizer.
#include <cstdio>

#include "base/utf8.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace hearth::tokenizer {

namespace {

std::string unescape_space_marker(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (text.compare(i, 3, "\xe2\x96\x81") == 0) {
            out += ' ';
            i += 3;
        } else {
            out += text[i++];
        }
    }
    return out;
}

// "<0xNN>" -> byte value, or -1.
int parse_byte_token(std::string_view text) {
    if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
    int v = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char c = text[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else return -1;
    }
    return v;
}

}  // namespace

std::string Tokenizer::token_to_piece(TokenId id, bool special) const {
    const Vocab& v = impl_->vocab;
    if (id < 0 || static_cast<size_t>(id) >= v.size()) return {};
    const TokenType t = v.types[id];
    const std::string& text = v.tokens[id];
    if (t == TokenType::Control || t == TokenType::Unknown) return special ? text : std::string();
    if (t == TokenType::UserDefined) return text;
    switch (v.type) {
        case VocabType::Spm:
        case VocabType::Wpm:
            if (t == TokenType::Byte) {
                const int b = parse_byte_token(text);
                return b >= 0 ? std::string(1, static_cast<char>(b)) : text;
            }
            if (t == TokenType::Normal) return unescape_space_marker(text);
            return {};
        case VocabType::Bpe:
            if (t == TokenType::Normal) return byte_level_decode(text);
            return {};
    }
    return {};
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool special) const {
    std::string out;
    bool strip_space = impl_->vocab.type != VocabType::Bpe &&
                       (impl_->vocab.add_space_prefix || impl_->vocab.type == VocabType::Wpm);
    for (TokenId id : ids) {
        std::string piece = token_to_piece(id, special);
        if (piece.empty()) continue;
        if (strip_space && piece[0] == ' ') piece.erase(0, 1);
        strip_space = false;
        out += piece;
    }
    return out;
}

std::string StreamingDetokenizer::push(TokenId id) {
    std::string piece = tokenizer_->token_to_piece(id, special_);
    if (piece.empty()) return {};
    const Vocab& v = tokenizer_->vocab();
    if (at_start_ && v.type != VocabType::Bpe && (v.add_space_prefix || v.type == VocabType::Wpm) && piece[0] == ' ')
        piece.erase(0, 1);
    at_start_ = false;
    pending_ += piece;
    const size_t complete = utf8_complete_prefix(pending_);
    std::string out = pending_.substr(0, complete);
    pending_.erase(0, complete);
    return out;
}

std::string StreamingDetokenizer::flush() {
    std::string out;
    out.swap(pending_);
    return out;
}

void StreamingDetokenizer::reset() {
    pending_.clear();
    at_start_ = true;
}

}  // namespace hearth::tokenizer
