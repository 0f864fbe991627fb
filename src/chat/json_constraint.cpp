// TokenConstraint for JSON output: the grammar matcher walked over the token trie.
#include <algorithm>
#include <limits>

#include "chat/chat.h"
#include "chat/json_grammar.h"
#include "chat/json_schema_grammar.h"
#include "chat/token_trie.h"

namespace hearth::chat {

namespace {

using grammar::GrammarMatcher;

// Cached sets beyond this are dropped between tokens (about 1 KiB each).
constexpr size_t kMaxCachedSets = 20000;

class JsonConstraint final : public llm::TokenConstraint {
public:
    JsonConstraint(std::shared_ptr<const grammar::Grammar> g, std::shared_ptr<const TokenTrie> trie)
        : matcher_(std::move(g)), trie_(std::move(trie)), state_(matcher_.initial()) {
        allowed_.resize(trie_->n_vocab);
        by_depth_.resize(trie_->max_depth + 1);
    }

    void apply(std::span<float> logits) override {
        constexpr float kNegInf = -std::numeric_limits<float>::infinity();
        if (matcher_.n_sets() > kMaxCachedSets) state_ = matcher_.compact(state_);
        std::fill(allowed_.begin(), allowed_.end(), 0);
        bool any = false;
        if (state_ != GrammarMatcher::kDead && !eog_seen_) any = mark_allowed();
        const bool eog_ok = matcher_.accepting(state_) || !any || eog_seen_;
        if (eog_ok)
            for (int32_t id : trie_->eog) allowed_[id] = 1;
        const size_t n = std::min(logits.size(), allowed_.size());
        for (size_t i = 0; i < n; ++i)
            if (!allowed_[i]) logits[i] = kNegInf;
        for (size_t i = n; i < logits.size(); ++i) logits[i] = kNegInf;
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
    // Depth-first over the trie in preorder; a subtree is skipped at its first byte the
    // grammar cannot take.
    bool mark_allowed() {
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
            for (uint32_t t = node.tok_begin; t < node.tok_end; ++t) allowed_[trie_->tokens[t]] = 1;
            any = any || node.tok_begin != node.tok_end;
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
