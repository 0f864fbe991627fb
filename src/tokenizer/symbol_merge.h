#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <string_view>
#include <vector>

#include "base/utf8.h"

namespace hearth::tokenizer {

// One piece of a word during merging: a linked list over byte ranges of the word.
struct MergeSymbol {
    int prev;
    int next;
    uint32_t start;  // byte offset in the word
    uint32_t len;    // 0 once merged into its left neighbour
};

// The word split into UTF-8 characters, the starting point of both BPE and SentencePiece.
inline std::vector<MergeSymbol> split_utf8_symbols(std::string_view word) {
    std::vector<MergeSymbol> symbols;
    symbols.reserve(word.size());
    for (size_t pos = 0; pos < word.size();) {
        const size_t len = utf8_char_length(word, pos);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({index - 1, pos + len == word.size() ? -1 : index + 1, static_cast<uint32_t>(pos),
                           static_cast<uint32_t>(len)});
        pos += len;
    }
    return symbols;
}

// Repeatedly merges the adjacent pair with the lowest priority (ties: the leftmost)
// until no pair has one. `priority(left, right)` returns nullopt for pairs that must
// not merge. BPE passes the merge rank, SentencePiece the negated vocabulary score.
// Stale queue entries are skipped lazily, so a word of n symbols costs O(n log n).
template <class Priority>
void merge_symbols(std::vector<MergeSymbol>& symbols, Priority&& priority) {
    struct Candidate {
        double priority;
        int left;
        int right;
        uint32_t len;  // combined length when queued; stale when the symbols changed
    };
    struct Later {
        bool operator()(const Candidate& a, const Candidate& b) const {
            return a.priority > b.priority || (a.priority == b.priority && a.left > b.left);
        }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, Later> queue;
    auto try_add = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        if (const std::optional<double> p = priority(symbols[left], symbols[right]))
            queue.push({*p, left, right, symbols[left].len + symbols[right].len});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i - 1), static_cast<int>(i));
    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        MergeSymbol& l = symbols[c.left];
        MergeSymbol& r = symbols[c.right];
        if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[r.next].prev = c.left;
        try_add(l.prev, c.left);
        try_add(c.left, l.next);
    }
}

}  // namespace hearth::tokenizer
