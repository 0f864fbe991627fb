#include "gateway/node_pool.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "gateway/routing.h"

namespace hearth::gateway {
namespace {

constexpr int kForeignCapacity = 64;  // in-flight requests to a node that reports no slots
constexpr double kMaxBackoffSeconds = 30;
// A node whose first probe is still out may serve the model asked for: requests wait for
// it this long (at least) rather than get a 404.
constexpr double kFirstProbeGraceSeconds = 5;

bool has_voice(const NodeReport& report, const std::string& voice) {
    return std::find(report.voices.begin(), report.voices.end(), voice) != report.voices.end();
}

Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

Lease::Lease(NodePool* pool, std::string id, uint64_t generation, net::Url url, std::string api_key)
    : pool_(pool), id_(std::move(id)), generation_(generation), url_(std::move(url)), api_key_(std::move(api_key)) {}

Lease::~Lease() { pool_->release(id_, generation_); }

NodePool::NodePool(const GatewayConfig& config) : config_(config) {
    const auto now = Clock::now();
    for (const auto& n : config.nodes) {
        auto url = net::Url::parse(n.url);
        if (!url) continue;  // validate_gateway_config refused it already
        Node node;
        node.url = *url;
        node.api_key = n.api_key;
        node.weight = n.weight;
        node.labels = n.labels;
        node.configured = true;
        node.next_probe = now;
        node.added = now;
        node.generation = ++generations_;
        nodes_.emplace(url->to_string(), std::move(node));
    }
}

Result<void> NodePool::join(const NodeConfig& joining, double heartbeat_seconds) {
    auto url = net::Url::parse(joining.url);
    if (!url) return url.error();
    if (!(heartbeat_seconds > 0) || heartbeat_seconds > 3600) return make_error("heartbeat must be 0..3600 seconds");
    const std::string id = url->to_string();
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    auto [it, added] = nodes_.try_emplace(id);
    Node& n = it->second;
    if (added) {
        n.url = *url;
        n.weight = joining.weight;
        n.labels = joining.labels;
        n.added = now;
        n.generation = ++generations_;
        std::fprintf(stderr, "gateway: node %s joined\n", id.c_str());
    }
    n.api_key = joining.api_key;
    n.heartbeat = heartbeat_seconds;
    n.last_heartbeat = now;
    // A node that says it is alive is probed now rather than after its backoff.
    if (!n.up && !n.probing) {
        n.next_probe = now;
        n.failures = 0;
    }
    return {};
}

bool NodePool::leave(const std::string& url_text) {
    auto url = net::Url::parse(url_text);
    if (!url) return false;
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(url->to_string());
    if (it == nodes_.end()) return false;
    if (it->second.configured) {
        it->second.up = false;  // a configured node stays listed, out of routing until it answers again
        it->second.last_error = "left";
    } else {
        nodes_.erase(it);  // its leases release nothing: a later entry of the id has another generation
    }
    std::fprintf(stderr, "gateway: node %s left\n", url->to_string().c_str());
    return true;
}

std::vector<NodePool::ProbeTarget> NodePool::due_probes(Clock::time_point now) {
    std::vector<ProbeTarget> due;
    std::lock_guard lock(mutex_);
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        Node& n = it->second;
        if (!n.configured && now - n.last_heartbeat > seconds(3 * n.heartbeat + 1)) {
            std::fprintf(stderr, "gateway: node %s stopped sending heartbeats; dropped\n", it->first.c_str());
            it = nodes_.erase(it);
            continue;
        }
        if (!n.probing && now >= n.next_probe) {
            n.probing = true;
            due.push_back({it->first, n.url, n.api_key, n.foreign});
        }
        ++it;
    }
    return due;
}

void NodePool::probe_succeeded(const std::string& id, NodeReport report) {
    record_probe(id, std::move(report));
    if (on_room_) on_room_();
}

void NodePool::record_probe(const std::string& id, NodeReport report) {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return;
    Node& n = it->second;
    if (!n.up) {
        std::fprintf(stderr, "gateway: node %s is up (%s, %zu models)\n", id.c_str(),
                     report.hearth ? "hearth" : "OpenAI-compatible", report.models.size());
    }
    n.up = true;
    n.probed = true;
    n.tried = true;
    n.probing = false;
    n.foreign = !report.hearth;
    n.report = std::move(report);
    n.failures = 0;
    n.last_error.clear();
    n.next_probe = Clock::now() + seconds(config_.probe_interval);
}

void NodePool::node_failed(const std::string& id, const std::string& why) {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return;
    Node& n = it->second;
    if (n.up || n.failures == 0) std::fprintf(stderr, "gateway: node %s is down: %s\n", id.c_str(), why.c_str());
    n.up = false;
    n.probing = false;
    n.tried = true;
    ++n.failures;
    ++n.failures_total;
    n.last_error = why;
    const double wait = std::min(kMaxBackoffSeconds, config_.probe_interval * std::pow(2.0, std::min(n.failures - 1, 16)));
    n.next_probe = Clock::now() + seconds(wait);
}

int NodePool::capacity(const Node& n) const {
    if (config_.node_max_inflight > 0) return config_.node_max_inflight;
    return n.report.slots_total > 0 ? 2 * n.report.slots_total : kForeignCapacity;
}

bool NodePool::serves(const Node& n, const RouteQuery& q) const {
    if (q.route == "/v1/audio/speech") {
        if (!q.voice.empty() && has_voice(n.report, q.voice)) return true;
        return n.report.hearth ? !n.report.voices.empty() : n.report.models.count(q.model) > 0;
    }
    if (n.report.models.count(q.model) == 0) return false;
    // A spoken reply needs a hearth node with speech (other servers have no chat audio).
    return !q.spoken || (n.report.hearth && !n.report.voices.empty());
}

std::variant<std::unique_ptr<Lease>, NoNode> NodePool::acquire(const RouteQuery& query) {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const auto grace = seconds(std::max(kFirstProbeGraceSeconds, 3 * config_.probe_interval));
    auto usable = [&](const std::string& id, const Node& n) { return n.up && !query.exclude.count(id); };
    // Speech asks for a voice: nodes that have that exact voice first.
    const bool exact_voice = (query.route == "/v1/audio/speech" || query.spoken) && !query.voice.empty() &&
                             std::any_of(nodes_.begin(), nodes_.end(),
                                         [&](const auto& kv) {
                                             return usable(kv.first, kv.second) && serves(kv.second, query) &&
                                                    has_voice(kv.second.report, query.voice);
                                         });
    std::vector<Candidate> candidates;
    std::vector<Node*> nodes;
    bool known = false;
    bool awaited = false;  // a node that may serve it has not answered yet
    for (auto& [id, n] : nodes_) {
        if (!n.tried && now - n.added < grace) awaited = true;
        if (!serves(n, query)) continue;
        known = true;
        if (!usable(id, n) || (exact_voice && !has_voice(n.report, query.voice))) continue;
        const auto model = n.report.models.find(query.model);
        // Requests there: what it reported, or what this gateway sent since, if more.
        const int busy = std::max(n.report.slots_busy + n.report.queued, n.inflight);
        Candidate c;
        c.id = id;
        c.load = busy / n.weight;
        c.loaded = model == n.report.models.end() || model->second;
        c.has_room = n.inflight < capacity(n);
        c.free_slot = n.report.slots_total <= 0 || busy < n.report.slots_total;
        candidates.push_back(std::move(c));
        nodes.push_back(&n);
    }
    if (!known) return awaited ? NoNode::Busy : NoNode::Unknown;
    auto chosen = choose(candidates, query.prefix, config_.affinity_threshold, rng_);
    if (!chosen) return NoNode::Busy;
    Node& n = *nodes[*chosen];
    ++n.inflight;
    ++n.requests;
    return std::make_unique<Lease>(this, candidates[*chosen].id, n.generation, n.url, n.api_key);
}

void NodePool::release(const std::string& id, uint64_t generation) {
    {
        std::lock_guard lock(mutex_);
        auto it = nodes_.find(id);
        if (it != nodes_.end() && it->second.generation == generation && it->second.inflight > 0) --it->second.inflight;
    }
    if (on_room_) on_room_();
}

nlohmann::ordered_json NodePool::models_json(const std::map<std::string, std::string>& aliases) const {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::vector<std::string>> served, speech;
    for (const auto& [id, n] : nodes_) {
        if (!n.up) continue;
        for (const auto& [model, loaded] : n.report.models) served[model].push_back(id);
        for (const auto& model : n.report.speech_models) speech[model].push_back(id);
    }
    auto entry = [](const std::string& id, const std::vector<std::string>& nodes) {
        return nlohmann::ordered_json{{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "hearth"},
                                      {"nodes", nodes}};
    };
    nlohmann::ordered_json data = nlohmann::ordered_json::array();
    for (const auto& [model, nodes] : served) data.push_back(entry(model, nodes));
    for (const auto& [model, nodes] : speech) {
        if (served.count(model)) continue;  // an LLM of that name wins, as on the nodes
        auto e = entry(model, nodes);
        e["type"] = "speech";
        data.push_back(std::move(e));
    }
    for (const auto& [alias, model] : aliases) {
        auto it = served.find(model);
        if (it != served.end() && !served.count(alias)) {
            auto e = entry(alias, it->second);
            e["alias_of"] = model;
            data.push_back(std::move(e));
        }
    }
    return {{"object", "list"}, {"data", std::move(data)}};
}

bool NodePool::serves_model(const std::string& model) const {
    std::lock_guard lock(mutex_);
    return std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& kv) { return kv.second.report.models.count(model) > 0; });
}

nlohmann::ordered_json NodePool::voices_json() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::vector<std::string>> voices;
    for (const auto& [id, n] : nodes_) {
        if (!n.up) continue;
        for (const auto& v : n.report.voices) voices[v].push_back(id);
    }
    nlohmann::ordered_json data = nlohmann::ordered_json::array();
    for (const auto& [v, nodes] : voices) data.push_back({{"id", v}, {"object", "voice"}, {"nodes", nodes}});
    return {{"object", "list"}, {"data", std::move(data)}};
}

nlohmann::ordered_json NodePool::status_json() const {
    std::lock_guard lock(mutex_);
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const auto& [id, n] : nodes_) {
        nlohmann::ordered_json models = nlohmann::ordered_json::array();
        for (const auto& [m, loaded] : n.report.models) models.push_back({{"id", m}, {"loaded", loaded}});
        nodes.push_back({{"url", id},
                         {"up", n.up},
                         {"kind", !n.probed ? "unknown" : n.foreign ? "openai" : "hearth"},
                         {"source", n.configured ? "config" : "joined"},
                         {"weight", n.weight},
                         {"labels", n.labels},
                         {"models", std::move(models)},
                         {"voices", n.report.voices},
                         {"slots_total", n.report.slots_total},
                         {"slots_busy", n.report.slots_busy},
                         {"queued", n.report.queued},
                         {"inflight", n.inflight},
                         {"requests", n.requests},
                         {"failures", n.failures_total},
                         {"last_error", n.last_error.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(n.last_error)}});
    }
    return {{"object", "hearth.gateway.status"}, {"nodes", std::move(nodes)}};
}

std::string NodePool::metrics_text() const {
    std::lock_guard lock(mutex_);
    std::string out;
    out += "# HELP hearth_gateway_node_up Whether the node is routed to (1) or ejected (0).\n";
    out += "# TYPE hearth_gateway_node_up gauge\n";
    for (const auto& [id, n] : nodes_) out += fmt::format("hearth_gateway_node_up{{node=\"{}\"}} {}\n", escape_label(id), n.up ? 1 : 0);
    out += "# HELP hearth_gateway_node_inflight Requests this gateway has running on the node.\n";
    out += "# TYPE hearth_gateway_node_inflight gauge\n";
    for (const auto& [id, n] : nodes_) out += fmt::format("hearth_gateway_node_inflight{{node=\"{}\"}} {}\n", escape_label(id), n.inflight);
    out += "# HELP hearth_gateway_node_requests_total Requests sent to the node.\n";
    out += "# TYPE hearth_gateway_node_requests_total counter\n";
    for (const auto& [id, n] : nodes_)
        out += fmt::format("hearth_gateway_node_requests_total{{node=\"{}\"}} {}\n", escape_label(id), n.requests);
    out += "# HELP hearth_gateway_node_failures_total Failed probes and requests of the node.\n";
    out += "# TYPE hearth_gateway_node_failures_total counter\n";
    for (const auto& [id, n] : nodes_)
        out += fmt::format("hearth_gateway_node_failures_total{{node=\"{}\"}} {}\n", escape_label(id), n.failures_total);
    return out;
}

int NodePool::nodes_up() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(nodes_.begin(), nodes_.end(), [](const auto& kv) { return kv.second.up; }));
}

}  // namespace hearth::gateway
