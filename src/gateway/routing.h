#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::gateway {

// What the router knows of one node that could take a request. Pure data, so the
// choice below is a function every gateway computes alike from the same inputs.
struct Candidate {
    std::string id;       // the node's canonical URL: the same on every gateway
    double load = 0;      // requests running or waiting there, divided by its weight
    bool loaded = true;   // the model is in memory there (not only loadable)
    bool has_room = true; // below the gateway's in-flight limit for the node
    bool free_slot = true; // a request sent now starts at once (not queued behind the node's slots)
};

// The key of a conversation's start: the model and the messages up to and including
// the first user message (chat), or the prompt's first 1 KiB (completions). Requests
// that share it share a KV-cache prefix on the node that served them. nullopt: no prompt.
std::optional<uint64_t> prefix_key(std::string_view route, const nlohmann::json& body);

// Rendezvous (highest random weight) score of `node` for `key`: the node with the
// highest score among the live ones owns the prefix, so gateways agree without talking
// and only the prefixes of a node that leaves move.
uint64_t rendezvous_score(uint64_t key, std::string_view node);

// Index of the candidate to use, nullopt when none has room. Loaded candidates win
// over ones that would load the model on demand. With a key, its rendezvous owner is
// used unless it has no room, its load exceeds the least load by more than
// `affinity_threshold`, or it would queue the request while another candidate would start
// it at once (a cached prefix saves less than a wait for a slot costs); otherwise the less
// loaded of two random candidates.
std::optional<size_t> choose(const std::vector<Candidate>& candidates, std::optional<uint64_t> key,
                             double affinity_threshold, std::mt19937_64& rng);

// FNV-1a, 64-bit: stable across processes and builds (std::hash is not).
uint64_t fnv1a(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ull);

}  // namespace hearth::gateway
