#include "tokenizer/spm_tokenizer.h"

#include <queue>
#include <string>

#include "tokenizer/utf8.h"

namespace hearth::tokenizer {

namespace {

constexpr std::string_view kSpaceMarker = "\xe2\x96\x81";  // U+2581

struct Symbol {
    int prev;
    int next;
    uint32_t start;
    uint32_t len;
};

struct Bigram {
    float score;
    int left;
    int right;
    uint32_t len;
};

// Highest score first; ties go to the leftmost pair.
struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

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

    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const size_t len = utf8_char_length(text, pos);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({index - 1, pos + len == text.size() ? -1 : index + 1, static_cast<uint32_t>(pos),
                           static_cast<uint32_t>(len)});
        pos += len;
    }

    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    auto try_add = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[right];
        const TokenId id = vocab.find(word.substr(l.start, l.len + r.len));
        if (id == kNoToken) return;
        queue.push({vocab.score_of(id), left, right, l.len + r.len});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i - 1), static_cast<int>(i));

    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[b.left];
        Symbol& r = symbols[b.right];
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
