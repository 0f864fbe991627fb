#include "tokenizer/bpe_tokenizer.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace hearth::tokenizer {

namespace {

struct Symbol {
    int prev;
    int next;
    uint32_t start;  // byte offset in the word
    uint32_t len;    // 0 once merged into its left neighbour
};

struct Bigram {
    int32_t rank;
    int left;
    int right;
    uint32_t len;  // combined length when queued; stale when the symbols changed
};

struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

}  // namespace

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
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    for (size_t pos = 0; pos < word.size();) {
        const size_t len = utf8_char_length(word, pos);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({index - 1, pos + len == word.size() ? -1 : index + 1, static_cast<uint32_t>(pos),
                           static_cast<uint32_t>(len)});
        pos += len;
    }

    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    auto text_of = [&](const Symbol& s) { return word.substr(s.start, s.len); };
    auto try_add = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const int32_t rank = vocab.find_merge(text_of(symbols[left]), text_of(symbols[right]));
        if (rank < 0) return;
        queue.push({rank, left, right, symbols[left].len + symbols[right].len});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i - 1), static_cast<int>(i));

    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[b.left];
        Symbol& r = symbols[b.right];
        // Stale entry: one side was merged away or grew since it was queued.
        if (l.len == 0 || r.len == 0 || l.next != b.right || l.len + r.len != b.len) continue;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[r.next].prev = b.left;
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }

    for (int i = 0; i != -1; i = symbols[i].next) {
        const Symbol& s = symbols[i];
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
