// `hearth gateway`: one OpenAI endpoint in front of many nodes. Flags override the --config file.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "gateway/gateway.h"

namespace hearth::cli {

void add_gateway_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("gateway", "Route OpenAI requests across hearth (or other OpenAI-compatible) nodes");
    struct Args {
        gateway::GatewayConfig flags;
        std::string config_file;
        std::vector<std::string> nodes;
        std::vector<std::string> aliases;
        bool no_access_log = false;
    };
    auto a = std::make_shared<Args>();
    auto& f = a->flags;
    cmd->add_option("--config", a->config_file, "TOML file: the keys of the flags, [[node]] tables, an [aliases] table");
    cmd->add_option("--node", a->nodes, "a node's base URL (repeatable), e.g. http://10.0.0.5:8080");
    cmd->add_option("--alias", a->aliases, "NAME=MODEL: requests for NAME go to nodes serving MODEL (repeatable)");
    cmd->add_option("--host", f.host, "address to listen on")->capture_default_str();
    cmd->add_option("--port", f.port, "port (0: any free port)")->capture_default_str();
    cmd->add_option("--http-threads", f.http_threads, "I/O threads")->capture_default_str();
    cmd->add_option("--api-key", f.api_key, "require 'Authorization: Bearer KEY' from clients");
    cmd->add_option("--join-key", f.join_key, "key nodes give to join (hearth serve --join URL --join-key KEY)");
    cmd->add_option("--probe-interval", f.probe_interval, "seconds between probes of a node")->capture_default_str();
    cmd->add_option("--connect-timeout", f.connect_timeout, "seconds to connect to a node")->capture_default_str();
    cmd->add_option("--timeout", f.timeout, "seconds per request (0: none)")->capture_default_str();
    cmd->add_option("--queue", f.queue, "requests waiting for a node before 503")->capture_default_str();
    cmd->add_option("--queue-timeout", f.queue_timeout, "seconds a request may wait for a node")->capture_default_str();
    cmd->add_option("--drain-timeout", f.drain_timeout, "at SIGTERM, seconds running requests may take to finish")
        ->capture_default_str();
    cmd->add_option("--node-max-inflight", f.node_max_inflight, "requests sent to one node at once (0: twice its slots)")
        ->capture_default_str();
    cmd->add_option("--affinity-threshold", f.affinity_threshold,
                    "keep a prefix on its node unless it has this many more requests than the least busy")
        ->capture_default_str();
    cmd->add_option("--retries", f.retries, "other nodes tried when one fails before answering")->capture_default_str();
    cmd->add_flag("--no-access-log", a->no_access_log, "no line per request on stderr");
    cmd->add_option("--ui-dir", f.ui_dir, "serve the web UI from this folder instead of the built-in one (UI development)");
    cmd->callback([a, cmd] {
        gateway::GatewayConfig config;
        if (!a->config_file.empty()) {
            auto loaded = gateway::load_gateway_config(a->config_file);
            if (!loaded) return fail(loaded.error().message);
            config = std::move(*loaded);
        }
        auto given = [&](const char* flag) { return cmd->get_option(flag)->count() > 0; };
        const auto& f = a->flags;
        if (given("--host")) config.host = f.host;
        if (given("--port")) config.port = f.port;
        if (given("--http-threads")) config.http_threads = f.http_threads;
        if (given("--api-key")) config.api_key = f.api_key;
        if (given("--join-key")) config.join_key = f.join_key;
        if (given("--probe-interval")) config.probe_interval = f.probe_interval;
        if (given("--connect-timeout")) config.connect_timeout = f.connect_timeout;
        if (given("--timeout")) config.timeout = f.timeout;
        if (given("--queue")) config.queue = f.queue;
        if (given("--queue-timeout")) config.queue_timeout = f.queue_timeout;
        if (given("--drain-timeout")) config.drain_timeout = f.drain_timeout;
        if (given("--node-max-inflight")) config.node_max_inflight = f.node_max_inflight;
        if (given("--affinity-threshold")) config.affinity_threshold = f.affinity_threshold;
        if (given("--retries")) config.retries = f.retries;
        if (given("--ui-dir")) config.ui_dir = f.ui_dir;
        if (a->no_access_log) config.access_log = false;
        for (const auto& url : a->nodes) config.nodes.push_back({url, {}, 1.0, {}});
        for (const auto& text : a->aliases) {
            auto alias = gateway::parse_alias(text);
            if (!alias) return fail(alias.error().message);
            config.aliases[alias->first] = alias->second;
        }
        auto ok = gateway::run_gateway(config, [](const std::string& address) {
            std::printf("listening on %s\n", address.c_str());
            std::fflush(stdout);
        });
        if (!ok) return fail(ok.error().message);
        std::fprintf(stderr, "gateway stopped\n");
    });
}

}  // namespace hearth::cli
