#include "gateway/config.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "net/http_client.h"

namespace hearth::gateway {
namespace {

std::string normalized(std::string_view key) {
    std::string k(key);
    std::replace(k.begin(), k.end(), '_', '-');
    return k;
}

// Typed reads of one TOML value; `where` names it in errors.
Result<void> read(const toml::node& node, const std::string& where, std::string& out) {
    auto v = node.value<std::string>();
    if (!v) return make_error(where + " must be a string");
    out = *v;
    return {};
}

Result<void> read(const toml::node& node, const std::string& where, double& out) {
    auto v = node.value<double>();
    if (!v) return make_error(where + " must be a number");
    out = *v;
    return {};
}

Result<void> read(const toml::node& node, const std::string& where, int& out) {
    if (!node.is_integer()) return make_error(where + " must be an integer");
    const int64_t v = *node.value<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX) return make_error(where + " is out of range");
    out = static_cast<int>(v);
    return {};
}

Result<void> read(const toml::node& node, const std::string& where, int64_t& out) {
    if (!node.is_integer()) return make_error(where + " must be an integer");
    out = *node.value<int64_t>();
    return {};
}

Result<void> read(const toml::node& node, const std::string& where, bool& out) {
    if (!node.is_boolean()) return make_error(where + " must be true or false");
    out = *node.value<bool>();
    return {};
}

Result<NodeConfig> read_node(const toml::node& node, size_t index) {
    const std::string where = fmt::format("node #{}", index + 1);
    const auto* table = node.as_table();
    if (!table) return make_error(where + " must be a table ([[node]])");
    NodeConfig n;
    for (const auto& [key, value] : *table) {
        const std::string k = normalized(key.str());
        const std::string at = fmt::format("{} key '{}'", where, k);
        Result<void> ok;
        if (k == "url") {
            ok = read(value, at, n.url);
        } else if (k == "api-key") {
            ok = read(value, at, n.api_key);
        } else if (k == "weight") {
            ok = read(value, at, n.weight);
        } else if (k == "labels") {
            const auto* labels = value.as_array();
            if (!labels) return make_error(at + " must be an array of strings");
            for (const auto& l : *labels) {
                auto s = l.value<std::string>();
                if (!s) return make_error(at + " must be an array of strings");
                n.labels.push_back(*s);
            }
        } else {
            return make_error(fmt::format("{}: unknown key '{}'", where, k));
        }
        if (!ok) return ok.error();
    }
    if (n.url.empty()) return make_error(where + " needs a url");
    return n;
}

Result<void> read_key(GatewayConfig& c, const std::string& k, const toml::node& value) {
    const std::string at = fmt::format("config key '{}'", k);
    if (k == "host") return read(value, at, c.host);
    if (k == "port") return read(value, at, c.port);
    if (k == "http-threads") return read(value, at, c.http_threads);
    if (k == "api-key") return read(value, at, c.api_key);
    if (k == "join-key") return read(value, at, c.join_key);
    if (k == "ui-dir") return read(value, at, c.ui_dir);
    if (k == "probe-interval") return read(value, at, c.probe_interval);
    if (k == "connect-timeout") return read(value, at, c.connect_timeout);
    if (k == "timeout") return read(value, at, c.timeout);
    if (k == "queue") return read(value, at, c.queue);
    if (k == "queue-timeout") return read(value, at, c.queue_timeout);
    if (k == "drain-timeout") return read(value, at, c.drain_timeout);
    if (k == "node-max-inflight") return read(value, at, c.node_max_inflight);
    if (k == "affinity-threshold") return read(value, at, c.affinity_threshold);
    if (k == "retries") return read(value, at, c.retries);
    if (k == "max-body-bytes") return read(value, at, c.max_body_bytes);
    if (k == "access-log") return read(value, at, c.access_log);
    if (k == "node") {
        const auto* nodes = value.as_array();
        if (!nodes) return make_error("'node' must be an array of tables: write [[node]]");
        for (size_t i = 0; i < nodes->size(); ++i) {
            auto n = read_node(*nodes->get(i), c.nodes.size());
            if (!n) return n.error();
            c.nodes.push_back(std::move(*n));
        }
        return {};
    }
    if (k == "aliases") {
        const auto* table = value.as_table();
        if (!table) return make_error("'aliases' must be a table of name = \"model\"");
        for (const auto& [name, target] : *table) {
            std::string model;
            if (auto ok = read(target, fmt::format("alias '{}'", name.str()), model); !ok) return ok;
            c.aliases[std::string(name.str())] = model;
        }
        return {};
    }
    return make_error(fmt::format("unknown key '{}'", k));
}

}  // namespace

Result<GatewayConfig> load_gateway_config(const std::string& path, GatewayConfig base) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return make_error(fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description()));
    }
    for (const auto& [key, node] : table) {
        if (auto ok = read_key(base, normalized(key.str()), node); !ok) return make_error(path + ": " + ok.error().message);
    }
    // A relative UI folder is relative to the file, as in hearth serve's configuration.
    const auto dir = std::filesystem::path(path).parent_path();
    if (!base.ui_dir.empty() && std::filesystem::path(base.ui_dir).is_relative() && !dir.empty())
        base.ui_dir = (dir / base.ui_dir).string();
    return base;
}

Result<void> validate_gateway_config(const GatewayConfig& c) {
    if (c.port < 0 || c.port > 65535) return make_error(fmt::format("port {} is out of range", c.port));
    if (c.http_threads < 1 || c.http_threads > 64) return make_error("http-threads must be 1..64");
    if (c.probe_interval < 0.05 || c.probe_interval > 3600) return make_error("probe-interval must be 0.05..3600 seconds");
    if (c.connect_timeout <= 0) return make_error("connect-timeout must be > 0");
    if (c.timeout < 0) return make_error("timeout must be >= 0");
    if (c.queue < 0) return make_error("queue must be >= 0");
    if (c.queue_timeout < 0) return make_error("queue-timeout must be >= 0");
    if (c.drain_timeout < 0) return make_error("drain-timeout must be >= 0");
    if (c.node_max_inflight < 0) return make_error("node-max-inflight must be >= 0");
    if (c.affinity_threshold < 0) return make_error("affinity-threshold must be >= 0");
    if (c.retries < 0 || c.retries > 16) return make_error("retries must be 0..16");
    if (c.max_body_bytes < 1024) return make_error("max-body-bytes must be >= 1024");
    for (size_t i = 0; i < c.nodes.size(); ++i) {
        const auto& n = c.nodes[i];
        auto url = net::Url::parse(n.url);
        if (!url) return make_error(fmt::format("node #{}: {}", i + 1, url.error().message));
        if (!(n.weight > 0)) return make_error(fmt::format("node {}: weight must be > 0", n.url));
        for (size_t j = 0; j < i; ++j) {
            if (net::Url::parse(c.nodes[j].url)->to_string() == url->to_string())
                return make_error(fmt::format("node {} is listed twice", n.url));
        }
    }
    for (const auto& [name, model] : c.aliases) {
        if (name.empty() || model.empty()) return make_error("aliases need a name and a model");
    }
    return {};
}

Result<std::pair<std::string, std::string>> parse_alias(const std::string& text) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        return make_error(fmt::format("alias '{}' must be NAME=MODEL", text));
    return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

}  // namespace hearth::gateway
