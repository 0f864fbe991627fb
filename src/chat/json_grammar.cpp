#include "chat/json_grammar.h"

#include <queue>

#include <algorithm>
#include <cstring>

namespace hearth::chat::grammar {

// ---- builder ------------------------------------------------------------------------

int32_t GrammarBuilder::state() {
    g_.states.emplace_back();
    return static_cast<int32_t>(g_.states.size() - 1);
}

int32_t GrammarBuilder::new_rule() {
    int32_t start = state();
    int32_t end = state();
    g_.states[end].rule_end = true;
    g_.rule_start.push_back(start);
    rule_end_.push_back(end);
    return static_cast<int32_t>(g_.rule_start.size() - 1);
}

void GrammarBuilder::define(int32_t rule, Frag body) {
    eps(g_.rule_start[rule], body.in);
    eps(body.out, rule_end_[rule]);
}

GrammarBuilder::Frag GrammarBuilder::call(int32_t rule) {
    int32_t s = state();
    int32_t e = state();
    g_.states[s].call_rule = rule;
    g_.states[s].call_ret = e;
    return {s, e};
}

GrammarBuilder::Frag GrammarBuilder::empty() {
    int32_t s = state();
    return {s, s};
}

GrammarBuilder::Frag GrammarBuilder::bytes(uint8_t lo, uint8_t hi) {
    int32_t s = state();
    int32_t e = state();
    edge(s, lo, hi, e);
    return {s, e};
}

GrammarBuilder::Frag GrammarBuilder::literal(std::string_view text) {
    int32_t s = state();
    int32_t cur = s;
    for (char c : text) {
        int32_t n = state();
        edge(cur, static_cast<uint8_t>(c), static_cast<uint8_t>(c), n);
        cur = n;
    }
    return {s, cur};
}

GrammarBuilder::Frag GrammarBuilder::seq(Frag a, Frag b) {
    eps(a.out, b.in);
    return {a.in, b.out};
}

GrammarBuilder::Frag GrammarBuilder::seq(std::initializer_list<Frag> parts) {
    Frag f = empty();
    for (const Frag& p : parts) f = seq(f, p);
    return f;
}

GrammarBuilder::Frag GrammarBuilder::alt(const std::vector<Frag>& options) {
    int32_t s = state();
    int32_t e = state();
    for (const Frag& o : options) {
        eps(s, o.in);
        eps(o.out, e);
    }
    return {s, e};
}

GrammarBuilder::Frag GrammarBuilder::opt(Frag f) {
    int32_t s = state();
    int32_t e = state();
    eps(s, f.in);
    eps(s, e);
    eps(f.out, e);
    return {s, e};
}

GrammarBuilder::Frag GrammarBuilder::star(Frag f) {
    int32_t s = state();
    int32_t e = state();
    eps(s, f.in);
    eps(s, e);
    eps(f.out, s);
    return {s, e};
}

namespace {

// Fewest bytes from each state to the end of its rule: Dijkstra backwards from the rule
// ends, where a call state costs its callee's shortest body plus the rest after the call
// (Knuth's generalisation to grammars: a call is settled once both parts are).
std::vector<int32_t> shortest_completions(const Grammar& g) {
    const size_t n = g.states.size();
    std::vector<std::vector<std::pair<int32_t, int32_t>>> preds(n);  // (state, cost)
    std::vector<std::vector<int32_t>> calls_returning_to(n), calls_of(g.rule_start.size());
    for (size_t s = 0; s < n; ++s) {
        const auto& st = g.states[s];
        for (const auto& e : st.edges) preds[static_cast<size_t>(e.to)].emplace_back(static_cast<int32_t>(s), 1);
        for (int32_t e : st.eps) preds[static_cast<size_t>(e)].emplace_back(static_cast<int32_t>(s), 0);
        if (st.call_rule >= 0) {
            calls_returning_to[static_cast<size_t>(st.call_ret)].push_back(static_cast<int32_t>(s));
            calls_of[static_cast<size_t>(st.call_rule)].push_back(static_cast<int32_t>(s));
        }
    }
    std::vector<int32_t> rule_of_start(n, -1);
    for (size_t r = 0; r < g.rule_start.size(); ++r) rule_of_start[static_cast<size_t>(g.rule_start[r])] = static_cast<int32_t>(r);
    std::vector<int32_t> dist(n, Grammar::kNever);
    std::vector<bool> done(n, false);
    std::priority_queue<std::pair<int32_t, int32_t>, std::vector<std::pair<int32_t, int32_t>>, std::greater<>> queue;
    auto offer = [&](int32_t s, int32_t d) {
        if (d < dist[static_cast<size_t>(s)]) {
            dist[static_cast<size_t>(s)] = d;
            queue.emplace(d, s);
        }
    };
    for (size_t s = 0; s < n; ++s) {
        if (g.states[s].rule_end) offer(static_cast<int32_t>(s), 0);
    }
    while (!queue.empty()) {
        const auto [d, u] = queue.top();
        queue.pop();
        if (done[static_cast<size_t>(u)] || d != dist[static_cast<size_t>(u)]) continue;
        done[static_cast<size_t>(u)] = true;
        for (const auto& [p, cost] : preds[static_cast<size_t>(u)]) offer(p, d + cost);
        // u is the continuation of calls: settled once their callee's body is.
        for (int32_t c : calls_returning_to[static_cast<size_t>(u)]) {
            const int32_t start = g.rule_start[static_cast<size_t>(g.states[static_cast<size_t>(c)].call_rule)];
            if (done[static_cast<size_t>(start)]) offer(c, dist[static_cast<size_t>(start)] + d);
        }
        // u starts a rule: its calls are settled once their continuations are.
        if (const int32_t r = rule_of_start[static_cast<size_t>(u)]; r >= 0) {
            for (int32_t c : calls_of[static_cast<size_t>(r)]) {
                const int32_t ret = g.states[static_cast<size_t>(c)].call_ret;
                if (done[static_cast<size_t>(ret)]) offer(c, d + dist[static_cast<size_t>(ret)]);
            }
        }
    }
    return dist;
}

}  // namespace

Grammar GrammarBuilder::finish(int32_t root_rule) {
    g_.root_rule = root_rule;
    g_.min_to_end = shortest_completions(g_);
    return std::move(g_);
}

// ---- matcher ------------------------------------------------------------------------

namespace {
inline uint64_t pack(int32_t stack, int32_t state) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(stack)) << 32) | static_cast<uint32_t>(state);
}
}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, int max_stack_depth)
    : g_(std::move(grammar)), max_depth_(max_stack_depth) {
    stacks_.push_back({-1, -1, 0});  // 0: the empty stack
    std::vector<uint64_t> configs;
    bool accept = false;
    closure(0, g_->rule_start[g_->root_rule], configs, accept);
    initial_ = intern(configs, accept);
}

int32_t GrammarMatcher::push(int32_t parent, int32_t ret) {
    const uint64_t key = pack(parent, ret);
    auto it = stack_index_.find(key);
    if (it != stack_index_.end()) return it->second;
    const int32_t id = static_cast<int32_t>(stacks_.size());
    stacks_.push_back({parent, ret, stacks_[parent].depth + 1});
    stack_index_.emplace(key, id);
    return id;
}

// All byte-reading positions reachable from (stack, state) without reading a byte.
void GrammarMatcher::closure(int32_t stack, int32_t state, std::vector<uint64_t>& out, bool& accept) {
    work_.clear();
    work_.emplace_back(stack, state);
    visited_.clear();
    while (!work_.empty()) {
        auto [stk, st] = work_.back();
        work_.pop_back();
        if (!visited_.insert(pack(stk, st)).second) continue;
        const Grammar::State& s = g_->states[st];
        if (!s.edges.empty()) out.push_back(pack(stk, st));
        for (int32_t e : s.eps) work_.emplace_back(stk, e);
        if (s.call_rule >= 0 && stacks_[stk].depth < max_depth_)
            work_.emplace_back(push(stk, s.call_ret), g_->rule_start[s.call_rule]);
        if (s.rule_end) {
            if (stk == 0) accept = true;
            else work_.emplace_back(stacks_[stk].parent, stacks_[stk].ret);
        }
    }
}

int32_t GrammarMatcher::intern(std::vector<uint64_t>& configs, bool accept) {
    std::sort(configs.begin(), configs.end());
    configs.erase(std::unique(configs.begin(), configs.end()), configs.end());
    if (configs.empty() && !accept) return kDead;
    std::string key(configs.size() * sizeof(uint64_t) + 1, '\0');
    if (!configs.empty()) std::memcpy(key.data(), configs.data(), configs.size() * sizeof(uint64_t));
    key.back() = accept ? 1 : 0;
    auto it = set_index_.find(key);
    if (it != set_index_.end()) return it->second;
    const int32_t id = static_cast<int32_t>(sets_.size());
    sets_.push_back({configs, accept});
    set_index_.emplace(std::move(key), id);
    trans_.resize(sets_.size() * 256, kUnknown);
    return id;
}

int32_t GrammarMatcher::compute_step(int32_t set, uint8_t byte) {
    std::vector<uint64_t> next;
    bool accept = false;
    // Copy: closures may grow sets_ through intern() only after this loop, but keep it simple.
    const std::vector<uint64_t> configs = sets_[set].configs;
    for (uint64_t c : configs) {
        const int32_t stk = static_cast<int32_t>(c >> 32);
        const int32_t st = static_cast<int32_t>(c & 0xffffffffu);
        for (const Grammar::Edge& e : g_->states[st].edges)
            if (byte >= e.lo && byte <= e.hi) closure(stk, e.to, next, accept);
    }
    return intern(next, accept);
}

int32_t GrammarMatcher::min_completion(int32_t set) {
    if (set < 0) return Grammar::kNever;
    if (set_cost_.size() < sets_.size()) set_cost_.resize(sets_.size(), -1);
    if (set_cost_[static_cast<size_t>(set)] >= 0) return set_cost_[static_cast<size_t>(set)];
    if (stack_cost_.size() < stacks_.size()) stack_cost_.resize(stacks_.size(), -1);
    // Unwinding a stack: the rest of each rule it returns to, innermost first.
    auto unwind = [&](int32_t stack) {
        std::vector<int32_t> path;
        for (int32_t s = stack; s != 0 && stack_cost_[static_cast<size_t>(s)] < 0; s = stacks_[static_cast<size_t>(s)].parent) path.push_back(s);
        for (auto it = path.rbegin(); it != path.rend(); ++it) {
            const auto& node = stacks_[static_cast<size_t>(*it)];
            const int32_t below = node.parent == 0 ? 0 : stack_cost_[static_cast<size_t>(node.parent)];
            stack_cost_[static_cast<size_t>(*it)] = std::min(Grammar::kNever, below + g_->min_to_end[static_cast<size_t>(node.ret)]);
        }
        return stack == 0 ? 0 : stack_cost_[static_cast<size_t>(stack)];
    };
    int32_t best = sets_[static_cast<size_t>(set)].accept ? 0 : Grammar::kNever;
    for (uint64_t c : sets_[static_cast<size_t>(set)].configs) {
        const int32_t stk = static_cast<int32_t>(c >> 32);
        const int32_t st = static_cast<int32_t>(c & 0xffffffffu);
        best = std::min(best, std::min(Grammar::kNever, g_->min_to_end[static_cast<size_t>(st)] + unwind(stk)));
    }
    set_cost_[static_cast<size_t>(set)] = best;
    return best;
}

int32_t GrammarMatcher::compact(int32_t set) {
    if (set < 0) return set;
    // Materialise the live configurations as explicit stacks, then rebuild.
    struct Live {
        std::vector<int32_t> rets;  // bottom first
        int32_t state;
    };
    std::vector<Live> live;
    for (uint64_t c : sets_[set].configs) {
        Live l;
        l.state = static_cast<int32_t>(c & 0xffffffffu);
        for (int32_t s = static_cast<int32_t>(c >> 32); s != 0; s = stacks_[s].parent) l.rets.push_back(stacks_[s].ret);
        std::reverse(l.rets.begin(), l.rets.end());
        live.push_back(std::move(l));
    }
    const bool accept = sets_[set].accept;
    stacks_.resize(1);
    stack_index_.clear();
    stack_cost_.clear();
    set_cost_.clear();
    sets_.clear();
    set_index_.clear();
    trans_.clear();
    std::vector<uint64_t> configs;
    for (const Live& l : live) {
        int32_t s = 0;
        for (int32_t r : l.rets) s = push(s, r);
        configs.push_back(pack(s, l.state));
    }
    std::vector<uint64_t> init_configs;
    bool init_accept = false;
    closure(0, g_->rule_start[g_->root_rule], init_configs, init_accept);
    initial_ = intern(init_configs, init_accept);
    return intern(configs, accept);
}

}  // namespace hearth::chat::grammar
