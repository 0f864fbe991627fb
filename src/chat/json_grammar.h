// A byte-level grammar (a set of rules, each a small NFA whose states may call other
// rules) and its incremental matcher. The matcher keeps the set of every parser position
// still possible (a state plus a stack of return states) and advances it byte by byte;
// sets are interned and their byte transitions cached, so walking a trie of token byte
// strings mostly costs one table lookup per trie node.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hearth::chat::grammar {

struct Grammar {
    struct Edge {
        uint8_t lo, hi;  // inclusive byte range
        int32_t to;
    };
    struct State {
        std::vector<Edge> edges;
        std::vector<int32_t> eps;
        int32_t call_rule = -1;  // entering this state runs call_rule, then continues at call_ret
        int32_t call_ret = -1;
        bool rule_end = false;   // reaching it returns from the current rule
    };
    std::vector<State> states;
    std::vector<int32_t> rule_start;
    int32_t root_rule = -1;
    // Per state: the fewest bytes that reach the end of its rule (kNever: none do).
    // Lets a matcher close its output within a byte budget.
    std::vector<int32_t> min_to_end;
    static constexpr int32_t kNever = INT32_MAX / 4;
};

// Thompson-style construction of rule bodies. Fragments are (entry, exit) state pairs;
// every call makes fresh states, so a fragment is used once.
class GrammarBuilder {
public:
    struct Frag {
        int32_t in, out;
    };

    int32_t state();
    void eps(int32_t from, int32_t to) { g_.states[from].eps.push_back(to); }
    void edge(int32_t from, uint8_t lo, uint8_t hi, int32_t to) { g_.states[from].edges.push_back({lo, hi, to}); }

    int32_t new_rule();                  // a rule with no body yet
    void define(int32_t rule, Frag body);
    Frag call(int32_t rule);

    Frag empty();
    Frag bytes(uint8_t lo, uint8_t hi);
    Frag literal(std::string_view text);
    Frag seq(Frag a, Frag b);
    Frag seq(std::initializer_list<Frag> parts);
    Frag alt(const std::vector<Frag>& options);
    Frag opt(Frag f);
    Frag star(Frag f);

    size_t n_states() const { return g_.states.size(); }
    Grammar finish(int32_t root_rule);

private:
    Grammar g_;
    std::vector<int32_t> rule_end_;
};

// Walks a grammar over bytes. Not thread-safe: one matcher per generation.
class GrammarMatcher {
public:
    static constexpr int32_t kDead = -1;

    explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar, int max_stack_depth = 128);

    int32_t initial() const { return initial_; }
    // The set after one more byte (kDead when nothing can continue). Cached.
    int32_t step(int32_t set, uint8_t byte) {
        const size_t i = static_cast<size_t>(set) * 256 + byte;
        if (trans_[i] == kUnknown) {
            const int32_t next = compute_step(set, byte);  // may grow trans_
            trans_[i] = next;
        }
        return trans_[i];
    }
    int32_t step(int32_t set, std::string_view bytes) {
        for (char c : bytes) {
            if (set == kDead) break;
            set = step(set, static_cast<uint8_t>(c));
        }
        return set;
    }
    bool accepting(int32_t set) const { return set >= 0 && sets_[set].accept; }
    // The fewest bytes that complete the input from `set`: 0 when it accepts,
    // Grammar::kNever for kDead.
    int32_t min_completion(int32_t set);
    bool can_continue(int32_t set) const { return set >= 0 && !sets_[set].configs.empty(); }
    size_t n_sets() const { return sets_.size(); }

    // Drops every cached set and stack except those `set` needs; returns its new id.
    // Bounds memory over long generations.
    int32_t compact(int32_t set);

private:
    static constexpr int32_t kUnknown = -2;
    struct StackNode {
        int32_t parent, ret, depth;
    };
    struct Set {
        std::vector<uint64_t> configs;  // (stack << 32) | state, sorted; states that read bytes
        bool accept = false;
    };

    int32_t push(int32_t parent, int32_t ret);
    void closure(int32_t stack, int32_t state, std::vector<uint64_t>& out, bool& accept);
    int32_t intern(std::vector<uint64_t>& configs, bool accept);
    int32_t compute_step(int32_t set, uint8_t byte);

    std::shared_ptr<const Grammar> g_;
    int max_depth_;
    std::vector<StackNode> stacks_;
    std::unordered_map<uint64_t, int32_t> stack_index_;
    std::vector<Set> sets_;
    std::unordered_map<std::string, int32_t> set_index_;
    std::vector<int32_t> trans_;
    std::vector<int32_t> set_cost_;    // min_completion per set, -1 until asked
    std::vector<int32_t> stack_cost_;  // bytes to unwind each stack node, -1 until asked
    int32_t initial_ = kDead;
    // scratch for closures
    std::vector<std::pair<int32_t, int32_t>> work_;
    std::unordered_set<uint64_t> visited_;
};

}  // namespace hearth::chat::grammar
