#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/config.h"
#include "net/http_client.h"

namespace hearth::gateway {

using Clock = std::chrono::steady_clock;

// What a probe learned of a node: its models (and whether each is in memory), voices
// and, for hearth nodes, the load it reports on /status.
struct NodeReport {
    bool hearth = false;
    std::map<std::string, bool> models;  // id -> loaded
    std::vector<std::string> voices;
    std::vector<std::string> speech_models;  // tts-1 & co., served by whichever voices it has
    int slots_total = 0;
    int slots_busy = 0;
    int queued = 0;
};

// Where to send one request, and the node's share of the gateway's in-flight count
// while the Lease lives.
class Lease {
public:
    Lease(class NodePool* pool, std::string id, uint64_t generation, net::Url url, std::string api_key);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    const std::string& id() const { return id_; }
    const net::Url& url() const { return url_; }
    const std::string& api_key() const { return api_key_; }

private:
    NodePool* pool_;
    std::string id_;
    uint64_t generation_;  // which entry of that id: a node that left and joined again is a new one
    net::Url url_;
    std::string api_key_;
};

// What a request asks of a node.
struct RouteQuery {
    std::string route;   // "/v1/chat/completions", "/v1/audio/speech", ...
    std::string model;   // after aliases
    std::string voice;   // speech, and chat replies to be spoken
    bool spoken = false;  // chat with audio output: the node needs speech too
    std::optional<uint64_t> prefix;
    std::set<std::string> exclude;  // nodes that already failed this request
};

enum class NoNode {
    Unknown,  // no node, live or not, serves the model, and every node has answered: 404
    Busy,     // nodes serve it (or a new node has not answered yet) but none can take it now: wait
};

// The nodes a gateway routes to, configured or joined, with what probes and requests
// taught about each: models, load, health. Thread-safe; node ids are canonical URLs.
class NodePool {
public:
    explicit NodePool(const GatewayConfig& config);

    // A node announcing itself (or its heartbeat); a new or revived node is probed at once.
    Result<void> join(const NodeConfig& node, double heartbeat_seconds);
    bool leave(const std::string& url);

    // Nodes whose probe is due (marked as being probed); joined nodes whose heartbeat
    // stopped are dropped here.
    struct ProbeTarget {
        std::string id;
        net::Url url;
        std::string api_key;
        bool known_foreign = false;  // /status answered 404 before: ask /v1/models only
    };
    std::vector<ProbeTarget> due_probes(Clock::time_point now);
    void probe_succeeded(const std::string& id, NodeReport report);
    // A failed probe or request: the node is taken out of routing until a later probe
    // succeeds, each failure in a row doubling the wait (circuit breaker).
    void node_failed(const std::string& id, const std::string& why);

    // Called (outside the pool's lock) whenever a node may have room for more: a lease
    // released, a node probed or joined. Set once, before requests flow.
    void on_room(std::function<void()> f) { on_room_ = std::move(f); }

    // A node for the query, its in-flight count raised while the Lease lives.
    std::variant<std::unique_ptr<Lease>, NoNode> acquire(const RouteQuery& query);

    // Whether any node, up or not, lists the model (for telling "no such model" from "no
    // node with what else the request needs").
    bool serves_model(const std::string& model) const;

    // /v1/models at the gateway: the union, with the nodes serving each model.
    nlohmann::ordered_json models_json(const std::map<std::string, std::string>& aliases) const;
    // /v1/audio/voices: the union over hearth nodes.
    nlohmann::ordered_json voices_json() const;
    // /status at the gateway: every node and what the gateway knows of it.
    nlohmann::ordered_json status_json() const;
    // Prometheus lines for the nodes (hearth_gateway_node_*).
    std::string metrics_text() const;
    int nodes_up() const;

private:
    friend class Lease;
    struct Node {
        net::Url url;
        std::string api_key;
        double weight = 1.0;
        std::vector<std::string> labels;
        bool configured = false;         // from the config file: never dropped
        uint64_t generation = 0;
        Clock::time_point added;
        double heartbeat = 0;            // joined: seconds between heartbeats
        Clock::time_point last_heartbeat;
        bool up = false;
        bool probed = false;             // at least one probe answered
        bool tried = false;              // at least one probe (or request) finished, well or not
        bool probing = false;
        bool foreign = false;            // no /status: an OpenAI-compatible server that is not hearth
        NodeReport report;
        int inflight = 0;
        int failures = 0;                // in a row
        Clock::time_point next_probe;
        std::string last_error;
        uint64_t requests = 0;
        uint64_t failures_total = 0;
    };
    void release(const std::string& id, uint64_t generation);
    int capacity(const Node& n) const;
    bool serves(const Node& n, const RouteQuery& q) const;

    GatewayConfig config_;
    void record_probe(const std::string& id, NodeReport report);

    mutable std::mutex mutex_;
    std::function<void()> on_room_;
    std::map<std::string, Node> nodes_;
    std::mt19937_64 rng_{std::random_device{}()};
    uint64_t generations_ = 0;
};

}  // namespace hearth::gateway
