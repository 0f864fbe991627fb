#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace hearth::gateway {

// A node given in the configuration (joined nodes are described by their join request).
struct NodeConfig {
    std::string url;      // base URL, e.g. http://10.0.0.5:8080
    std::string api_key;  // sent to the node as "Authorization: Bearer <key>"
    double weight = 1.0;  // relative capacity: load is divided by it
    std::vector<std::string> labels;
};

// Everything `hearth gateway` can be told, by flags or a TOML file (same keys, dashes
// or underscores; nodes as [[node]] tables, aliases as an [aliases] table).
struct GatewayConfig {
    std::string host = "127.0.0.1";
    int port = 8090;
    int http_threads = 2;
    std::string api_key;   // clients' key for /v1/* and /status (none: open)
    std::string join_key;  // nodes' key for /gateway/join (none: joining is refused)
    std::vector<NodeConfig> nodes;
    std::map<std::string, std::string> aliases;  // requested model id -> model id the nodes serve
    double probe_interval = 1.0;   // seconds between health/status probes of a node
    double connect_timeout = 2.0;  // seconds to connect to a node
    double timeout = 600;          // seconds per request (0: none)
    int queue = 256;               // requests waiting at the gateway for a node before 503
    double queue_timeout = 60;     // seconds a request may wait for a node
    double drain_timeout = 30;     // at SIGTERM: seconds running requests may take to finish
    int node_max_inflight = 0;     // requests sent to one node at once (0: twice its slots, 64 for foreign nodes)
    double affinity_threshold = 4; // a prefix's node is kept unless its load exceeds the least by this many requests
    int retries = 2;               // other nodes tried when one fails before answering
    int64_t max_body_bytes = 8 << 20;
    bool access_log = true;
    std::string ui_dir;  // the web UI from this folder instead of the embedded one
};

// Reads a TOML file over `base`. Unknown keys and wrong types are errors.
Result<GatewayConfig> load_gateway_config(const std::string& path, GatewayConfig base = {});

// Checks ranges and node URLs (nodes may be empty: they can join later).
Result<void> validate_gateway_config(const GatewayConfig& config);

// "NAME=MODEL" for --alias.
Result<std::pair<std::string, std::string>> parse_alias(const std::string& text);

}  // namespace hearth::gateway
