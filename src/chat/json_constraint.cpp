// TokenConstraint for JSON output: the grammar matcher walked over the token trie.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "chat/chat.h"
#include "chat/json_grammar.h"
#include "chat/json_schema_grammar.h"
#include "chat/token_trie.h"

namespace hearth::chat {

namespace {

using grammar::GrammarMatcher;

// Cached sets beyond this are dropped between tokens (about 1 KiB each).
constexpr size_t kMaxCachedSets = 20000;
// Masks kept per constraint (19 KB each at a 152k vocabulary).
constexpr size_t kMaxCachedMasks = 64;
// Bytes of closing text one token may add at most, by our reckoning: "{\"" opening an
// object of a schema whose required keys are long could add more, which only makes the
// budget tighter than it looks (the output is then cut as without this).
constexpr int64_t kBudgetSlack = 256;

class JsonConstraint final : public llm::TokenConstraint {
public:
    JsonConstraint(std::shared_ptr<const grammar::Grammar> g, std::shared_ptr<const TokenTrie> trie)
        : matcher_(std::move(g)), trie_(std::move(trie)), state_(matcher_.initial()) {
        allowed_.resize(trie_->n_vocab);
        by_depth_.resize(trie_->max_depth + 1);
    }

    void apply(std::span<float> logits, int64_t tokens_left) override {
        constexpr float kNegInf = -std::numeric_limits<float>::infinity();
        if (matcher_.n_sets() > kMaxCachedSets) {
            state_ = matcher_.compact(state_);
            masks_.clear();  // set ids are renumbered
        }
        const Mask& mask = budget_is_tight(tokens_left) ? mask_within_budget(tokens_left) : mask_for_state();
        const bool eog_ok = matcher_.accepting(state_) || !mask.any || eog_seen_;
        const size_t n = std::min(logits.size(), trie_->n_vocab);
        eog_logits_.clear();  // end-of-generation tokens are not in the trie: kept aside
        for (int32_t id : trie_->eog) eog_logits_.push_back(static_cast<size_t>(id) < n ? logits[static_cast<size_t>(id)] : kNegInf);
        for (size_t w = 0; w * 64 < n; ++w) {  // 64 tokens a word: most words are all in or all out
            const uint64_t bits = mask.bits[w];
            const size_t first = w * 64, last = std::min(n, first + 64);
            if (bits == ~uint64_t{0}) continue;
            if (bits == 0) {
                std::fill(logits.begin() + static_cast<std::ptrdiff_t>(first), logits.begin() + static_cast<std::ptrdiff_t>(last), kNegInf);
                continue;
            }
            for (size_t i = first; i < last; ++i) {
                if (!((bits >> (i - first)) & 1)) logits[i] = kNegInf;
            }
        }
        for (size_t i = n; i < logits.size(); ++i) logits[i] = kNegInf;
        if (eog_ok) {
            for (size_t e = 0; e < trie_->eog.size(); ++e) {
                const auto id = static_cast<size_t>(trie_->eog[e]);
                if (id < n) logits[id] = eog_logits_[e];
            }
        }
    }

    void accept(int32_t token) override {
        if (token < 0 || static_cast<size_t>(token) >= trie_->n_vocab) return;
        if (trie_->tokenizer.is_eog(token)) {
            eog_seen_ = true;
            return;
        }
        if (state_ == GrammarMatcher::kDead) return;
        state_ = matcher_.step(state_, trie_->tokenizer.token_to_piece(token, false));
    }

    bool complete() const override {
        if (eog_seen_) return true;
        return matcher_.accepting(state_) && !matcher_.can_continue(state_);
    }

private:
    // The tokens the grammar allows from a set of states, as bits by token id.
    struct Mask {
        std::vector<uint64_t> bits;
        bool any = false;
    };

    // A set id determines everything that can follow it (sets are interned), so its mask
    // is computed once: the walk over the trie costs ~3 ms at a 152k vocabulary, and a
    // JSON value revisits few sets (inside a string, after a key, between values...).
    const Mask& mask_for_state() {
        const int32_t key = eog_seen_ ? GrammarMatcher::kDead : state_;
        if (auto it = masks_.find(key); it != masks_.end()) return it->second;
        if (masks_.size() >= kMaxCachedMasks) masks_.clear();
        std::fill(allowed_.begin(), allowed_.end(), 0);
        Mask m;
        if (key != GrammarMatcher::kDead) m.any = mark_allowed();
        m.bits.assign((trie_->n_vocab + 63) / 64, 0);
        for (size_t i = 0; i < trie_->n_vocab; ++i) m.bits[i >> 6] |= static_cast<uint64_t>(allowed_[i] != 0) << (i & 63);
        return masks_.emplace(key, std::move(m)).first->second;
    }

    // Near the end of the token budget only tokens after which the output can still be
    // closed in time are allowed (every byte has a token of its own, so a budget of one
    // token per byte always suffices). Further from it no single token can use up the
    // slack, so the cached masks hold.
    bool budget_is_tight(int64_t tokens_left) {
        if (tokens_left < 0 || eog_seen_ || state_ == GrammarMatcher::kDead) return false;
        return matcher_.min_completion(state_) + kBudgetSlack >= tokens_left;
    }

    const Mask& mask_within_budget(int64_t tokens_left) {
        std::fill(allowed_.begin(), allowed_.end(), 0);
        budget_mask_.any = mark_allowed(tokens_left - 1);
        if (!budget_mask_.any) return mask_for_state();  // cannot close in time anyway
        budget_mask_.bits.assign((trie_->n_vocab + 63) / 64, 0);
        for (size_t i = 0; i < trie_->n_vocab; ++i) {
            budget_mask_.bits[i >> 6] |= static_cast<uint64_t>(allowed_[i] != 0) << (i & 63);
        }
        return budget_mask_;
    }

    // Depth-first over the trie in preorder; a subtree is skipped at its first byte the
    // grammar cannot take. With `max_after` >= 0, a token is allowed only if at most that
    // many bytes complete the output after it.
    bool mark_allowed(int64_t max_after = -1) {
        const auto& nodes = trie_->nodes;
        by_depth_[0] = state_;
        bool any = false;
        for (size_t i = 0; i < nodes.size();) {
            const TokenTrie::Node& node = nodes[i];
            const int32_t next = matcher_.step(by_depth_[node.depth - 1], node.byte);
            if (next == GrammarMatcher::kDead) {
                i = node.end;
                continue;
            }
            by_depth_[node.depth] = next;
            if (node.tok_begin != node.tok_end && (max_after < 0 || matcher_.min_completion(next) <= max_after)) {
                for (uint32_t t = node.tok_begin; t < node.tok_end; ++t) allowed_[trie_->tokens[t]] = 1;
                any = true;
            }
            ++i;
        }
        return any;
    }

    GrammarMatcher matcher_;
    std::shared_ptr<const TokenTrie> trie_;
    int32_t state_;
    bool eog_seen_ = false;
    std::vector<uint8_t> allowed_;
    std::vector<int32_t> by_depth_;
    std::unordered_map<int32_t, Mask> masks_;  // by set id (kDead: after end-of-generation)
    Mask budget_mask_;                         // near the budget's end: for this step only
    std::vector<float> eog_logits_;
};

}  // namespace

namespace {

Result<std::shared_ptr<llm::TokenConstraint>> make_constraint(const tokenizer::Tokenizer& tokenizer,
                                                              const nlohmann::ordered_json* schema, bool lenient) {
    auto g = grammar::json_schema_grammar(schema, lenient);
    if (!g) return g.error();
    std::shared_ptr<llm::TokenConstraint> c = std::make_shared<JsonConstraint>(std::move(g.value()), token_trie_for(tokenizer));
    return c;
}

}  // namespace

Result<std::shared_ptr<llm::TokenConstraint>> make_json_constraint(const tokenizer::Tokenizer& tokenizer,
                                                                   const nlohmann::ordered_json* schema) {
    return make_constraint(tokenizer, schema, false);
}

Result<std::shared_ptr<llm::TokenConstraint>> make_json_constraint_lenient(const tokenizer::Tokenizer& tokenizer,
                                                                           const nlohmann::ordered_json& schema) {
    return make_constraint(tokenizer, &schema, true);
}

}  // namespace hearth::chat
