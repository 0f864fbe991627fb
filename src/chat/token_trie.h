// Every token's bytes in a trie, flattened in preorder, so that a walk over the grammar
// checks each shared prefix once and skips whole subtrees at the first impossible byte.
// Built once per tokenizer and shared (the most recent few vocabularies stay cached).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace hearth::chat {

struct TokenTrie {
    struct Node {
        uint32_t end;        // index one past this node's subtree
        uint32_t tok_begin;  // tokens whose bytes end here: tokens[tok_begin, tok_end)
        uint32_t tok_end;
        uint16_t depth;      // 1 for the first byte
        uint8_t byte;
    };
    std::vector<Node> nodes;               // preorder; every node has depth >= 1
    std::vector<int32_t> tokens;
    std::vector<int32_t> eog;              // end-of-generation tokens (not in the trie)
    size_t n_vocab = 0;
    size_t max_depth = 0;
    tokenizer::Tokenizer tokenizer;        // keeps the vocabulary alive while cached

    static std::shared_ptr<const TokenTrie> build(const tokenizer::Tokenizer& tok);
};

// The trie for this tokenizer's vocabulary, built on first use and reused while alive.
std::shared_ptr<const TokenTrie> token_trie_for(const tokenizer::Tokenizer& tok);

}  // namespace hearth::chat
