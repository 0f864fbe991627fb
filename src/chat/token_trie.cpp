#include "chat/token_trie.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <string>

namespace hearth::chat {

std::shared_ptr<const TokenTrie> TokenTrie::build(const tokenizer::Tokenizer& tok) {
    auto trie = std::shared_ptr<TokenTrie>(new TokenTrie{{}, {}, {}, tok.n_vocab(), 0, tok});
    std::vector<std::pair<std::string, int32_t>> pieces;
    pieces.reserve(tok.n_vocab());
    for (size_t i = 0; i < tok.n_vocab(); ++i) {
        const auto id = static_cast<int32_t>(i);
        if (tok.is_eog(id)) {
            trie->eog.push_back(id);
            continue;
        }
        // Control tokens have no text: they can never be part of constrained output.
        std::string piece = tok.token_to_piece(id, false);
        if (!piece.empty() && piece.size() <= 4096) pieces.emplace_back(std::move(piece), id);
    }
    std::sort(pieces.begin(), pieces.end());
    std::vector<uint32_t> path;  // node index for each depth of the previous piece
    const std::string* prev = nullptr;
    for (const auto& [piece, id] : pieces) {
        size_t lcp = 0;
        if (prev)
            while (lcp < path.size() && lcp < piece.size() && (*prev)[lcp] == piece[lcp]) ++lcp;
        while (path.size() > lcp) {
            trie->nodes[path.back()].end = static_cast<uint32_t>(trie->nodes.size());
            path.pop_back();
        }
        for (size_t d = lcp; d < piece.size(); ++d) {
            const auto t = static_cast<uint32_t>(trie->tokens.size());
            trie->nodes.push_back({0, t, t, static_cast<uint16_t>(d + 1),
                                   static_cast<uint8_t>(piece[d])});
            path.push_back(static_cast<uint32_t>(trie->nodes.size() - 1));
        }
        trie->tokens.push_back(id);
        trie->nodes[path.back()].tok_end = static_cast<uint32_t>(trie->tokens.size());
        trie->max_depth = std::max(trie->max_depth, piece.size());
        prev = &piece;
    }
    while (!path.empty()) {
        trie->nodes[path.back()].end = static_cast<uint32_t>(trie->nodes.size());
        path.pop_back();
    }
    return trie;
}

std::shared_ptr<const TokenTrie> token_trie_for(const tokenizer::Tokenizer& tok) {
    // Held strongly: a server asks for the same vocabulary on every constrained request,
    // and building the trie of a 150k vocabulary takes about 0.1 s. The few most recent
    // vocabularies are kept.
    static constexpr size_t kKeep = 4;
    static std::mutex mu;
    static std::list<std::pair<const void*, std::shared_ptr<const TokenTrie>>> cache;  // most recent first
    const void* key = &tok.vocab();  // stays valid while the cached trie holds the tokenizer
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = cache.begin(); it != cache.end(); ++it)
        if (it->first == key) {
            cache.splice(cache.begin(), cache, it);
            return cache.front().second;
        }
    auto t = TokenTrie::build(tok);
    cache.emplace_front(key, t);
    if (cache.size() > kKeep) cache.pop_back();
    return t;
}

}  // namespace hearth::chat
