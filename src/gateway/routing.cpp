#include "gateway/routing.h"

#include <algorithm>
#include <limits>

namespace hearth::gateway {
namespace {

uint64_t mix64(uint64_t x) {  // splitmix64's finalizer: spreads FNV's weak low bits
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

uint64_t fnv1a(std::string_view bytes, uint64_t seed) {
    uint64_t h = seed;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

std::optional<uint64_t> prefix_key(std::string_view route, const nlohmann::json& body) {
    if (!body.is_object()) return std::nullopt;
    const auto model = body.find("model");
    const std::string model_id = model != body.end() && model->is_string() ? model->get<std::string>() : "";
    std::string text;
    if (route == "/v1/chat/completions") {
        const auto messages = body.find("messages");
        if (messages == body.end() || !messages->is_array() || messages->empty()) return std::nullopt;
        for (const auto& m : *messages) {
            if (!m.is_object()) return std::nullopt;
            text += dump(m.value("role", nlohmann::json()));
            text += dump(m.value("content", nlohmann::json()));
            const auto role = m.find("role");
            if (role != m.end() && role->is_string() && *role == "user") break;
        }
    } else if (route == "/v1/completions") {
        const auto prompt = body.find("prompt");
        if (prompt == body.end()) return std::nullopt;
        text = prompt->is_string() ? prompt->get<std::string>() : dump(*prompt);
        if (text.size() > 1024) text.resize(1024);
    } else {
        return std::nullopt;
    }
    return fnv1a(text, fnv1a(model_id));
}

uint64_t rendezvous_score(uint64_t key, std::string_view node) { return mix64(key ^ mix64(fnv1a(node))); }

std::optional<size_t> choose(const std::vector<Candidate>& candidates, std::optional<uint64_t> key,
                             double affinity_threshold, std::mt19937_64& rng) {
    // The pool to choose from: loaded nodes when one of them has room.
    const bool any_loaded_room =
        std::any_of(candidates.begin(), candidates.end(), [](const Candidate& c) { return c.loaded && c.has_room; });
    std::vector<size_t> pool;
    for (size_t i = 0; i < candidates.size(); ++i) {
        if (!any_loaded_room || candidates[i].loaded) pool.push_back(i);
    }
    std::vector<size_t> open;
    double least = std::numeric_limits<double>::infinity();
    for (size_t i : pool) {
        if (!candidates[i].has_room) continue;
        open.push_back(i);
        least = std::min(least, candidates[i].load);
    }
    if (open.empty()) return std::nullopt;
    if (key) {
        // The owner among every live candidate of the pool, room or not, so that a
        // busy owner keeps its prefixes once it has room again.
        size_t owner = pool.front();
        uint64_t best = rendezvous_score(*key, candidates[owner].id);
        for (size_t i : pool) {
            const uint64_t s = rendezvous_score(*key, candidates[i].id);
            if (s > best) {
                best = s;
                owner = i;
            }
        }
        const bool others_start_at_once =
            std::any_of(open.begin(), open.end(), [&](size_t i) { return candidates[i].free_slot; });
        const bool owner_would_queue = !candidates[owner].free_slot && others_start_at_once;
        if (candidates[owner].has_room && candidates[owner].load <= least + affinity_threshold && !owner_would_queue)
            return owner;
    }
    if (open.size() == 1) return open.front();
    // Power of two choices: two distinct random candidates, the less loaded one.
    std::uniform_int_distribution<size_t> pick(0, open.size() - 1);
    const size_t a = pick(rng);
    size_t b = pick(rng);
    if (b == a) b = (a + 1) % open.size();
    const Candidate& ca = candidates[open[a]];
    const Candidate& cb = candidates[open[b]];
    return cb.load < ca.load ? open[b] : open[a];
}

}  // namespace hearth::gateway
