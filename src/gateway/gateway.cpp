#include "gateway/gateway.h"

#include <cstdio>

#include <fmt/format.h>

#include "gateway/metrics.h"
#include "gateway/node_pool.h"
#include "gateway/probe.h"
#include "gateway/proxy.h"
#include "net/listener.h"
#include "webui/webui.h"

namespace hearth::gateway {
namespace {

// POST /gateway/join and /gateway/leave: a node announcing itself, with the join key.
asio::awaitable<void> handle_membership(GatewayContext& ctx, HttpConnection& conn, const HttpRequest& req, bool join) {
    if (ctx.config.join_key.empty()) {
        const ApiError e{403, "joining is disabled on this gateway: set its join-key", "invalid_request_error", {},
                         "join_disabled"};  // (g++ 12: no braced lists in co_await)
        co_await send_error(conn, e);
        co_return;
    }
    if (!bearer_matches(req, ctx.config.join_key)) {
        const ApiError e{401, "Incorrect join key", "invalid_request_error", {}, "invalid_join_key"};
        co_await send_error(conn, e);
        co_return;
    }
    auto body = nlohmann::json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("url") || !body["url"].is_string()) {
        co_await send_error(conn, bad_request("the body must be a JSON object with the node's \"url\"", "url"));
        co_return;
    }
    const std::string url = body["url"].get<std::string>();
    if (!join) {
        const bool known = ctx.pool->leave(url);
        const nlohmann::ordered_json answer = {{"left", known}};  // (g++ 12: no braced lists in co_await)
        co_await send_json(conn, 200, answer);
        co_return;
    }
    NodeConfig node;
    node.url = url;
    if (body.contains("api_key") && body["api_key"].is_string()) node.api_key = body["api_key"].get<std::string>();
    if (body.contains("weight") && body["weight"].is_number() && body["weight"].get<double>() > 0)
        node.weight = body["weight"].get<double>();
    const double heartbeat = body.contains("heartbeat") && body["heartbeat"].is_number() ? body["heartbeat"].get<double>() : 2.0;
    if (auto ok = ctx.pool->join(node, heartbeat); !ok) {
        co_await send_error(conn, bad_request(ok.error().message, "url"));
        co_return;
    }
    const nlohmann::ordered_json answer = {{"joined", true}, {"probe_interval", ctx.config.probe_interval}};
    co_await send_json(conn, 200, answer);
}

asio::awaitable<void> route_request(GatewayContext& ctx, HttpConnection& conn, const HttpRequest& req) {
    const auto t0 = Clock::now();
    AccessRecord log;
    log.id = request_id(req);
    log.method = std::string(req.method_string());
    conn.add_response_header("X-Request-Id", log.id);
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    const auto method = req.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    const auto path = url_decode_path(target);
    std::string route = "unmatched";
    const bool authorized = ctx.config.api_key.empty() || bearer_matches(req, ctx.config.api_key);
    const std::string p = path ? *path : std::string();
    const bool forwarded = p == "/v1/chat/completions" || p == "/v1/completions" || p == "/v1/audio/speech" ||
                           p == "/v1/embeddings";
    if (!path || p.empty() || p.front() != '/') {
        co_await send_error(conn, bad_request("malformed request path"));
    } else if (p == "/health") {
        route = p;
        if (!get) {
            co_await method_not_allowed(conn, "GET");
        } else {
            const int up = ctx.pool->nodes_up();
            // 503 without a live node, so that a balancer in front of several gateways skips this one.
            const nlohmann::ordered_json health = {{"status", up > 0 ? "ok" : "no_nodes"}, {"nodes_up", up}};
            co_await send_json(conn, up > 0 ? 200 : 503, health);
        }
    } else if (p == "/metrics") {
        route = p;
        if (!get) {
            co_await method_not_allowed(conn, "GET");
        } else {
            co_await conn.send(200, "text/plain; version=0.0.4",
                               ctx.metrics->render(ctx.waiting->size()) + ctx.pool->metrics_text());
        }
    } else if (p == "/gateway/join" || p == "/gateway/leave") {
        route = p;
        if (method != http::verb::post) {
            co_await method_not_allowed(conn, "POST");
        } else {
            co_await handle_membership(ctx, conn, req, p == "/gateway/join");
        }
    } else if (p == "/status" || p == "/v1/models" || p.rfind("/v1/models/", 0) == 0 || p == "/v1/audio/voices" ||
               forwarded) {
        route = p.rfind("/v1/models/", 0) == 0 ? "/v1/models/{id}" : p;
        if (!authorized) {
            co_await unauthorized(conn);
        } else if (forwarded) {
            if (method != http::verb::post) {
                co_await method_not_allowed(conn, "POST");
            } else {
                co_await forward(ctx, conn, req, p, log);
            }
        } else if (!get) {
            co_await method_not_allowed(conn, "GET");
        } else if (p == "/status") {
            auto status = ctx.pool->status_json();
            status["queued"] = ctx.waiting->size();
            co_await send_json(conn, 200, status);
        } else if (p == "/v1/audio/voices") {
            co_await send_json(conn, 200, ctx.pool->voices_json());
        } else {
            auto models = ctx.pool->models_json(ctx.config.aliases);
            if (p == "/v1/models") {
                co_await send_json(conn, 200, models);
            } else {
                const std::string id = p.substr(11);
                const nlohmann::ordered_json* found = nullptr;
                for (const auto& m : models["data"])
                    if (m["id"] == id) found = &m;
                if (found) {
                    co_await send_json(conn, 200, *found);
                } else {
                    const ApiError e{404, fmt::format("The model '{}' does not exist", id), "invalid_request_error",
                                     "model", "model_not_found"};
                    co_await send_error(conn, e);
                }
            }
        }
    } else if (get && p.rfind("/v1/", 0) != 0) {
        route = "static";
        co_await webui::serve(conn, req, p, ctx.config.ui_dir);
    } else {
        co_await send_error(conn, not_found(fmt::format("Unknown route {} {}", log.method, std::string(target)),
                                            "unknown_route"));
    }
    log.route = route;
    log.status = conn.status_sent() ? conn.status_sent() : 499;
    log.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    // Per-model counts only for models a node took: client-chosen names must not mint series.
    ctx.metrics->count_request(route, log.node.empty() ? std::string() : log.model, log.status);
    if (ctx.config.access_log) std::fprintf(stderr, "%s\n", format_access_line(log).c_str());
}

void print_banner(const GatewayConfig& config) {
    std::fprintf(stderr, "gateway: %zu configured node(s)%s; API key %s; joining %s\n", config.nodes.size(),
                 config.nodes.empty() ? " (nodes may join)" : "", config.api_key.empty() ? "off" : "on",
                 config.join_key.empty() ? "off" : "on (join key set)");
    for (const auto& n : config.nodes) std::fprintf(stderr, "gateway: node %s (weight %g)\n", n.url.c_str(), n.weight);
    for (const auto& [alias, model] : config.aliases)
        std::fprintf(stderr, "gateway: alias %s -> %s\n", alias.c_str(), model.c_str());
}

}  // namespace

Result<void> run_gateway(const GatewayConfig& config, const std::function<void(const std::string&)>& on_listening) {
    if (auto ok = validate_gateway_config(config); !ok) return ok.error();
    if (config.nodes.empty() && config.join_key.empty())
        return make_error("no nodes: list them (--node URL, [[node]] in the config) or let them join (--join-key KEY)");
    NodePool pool(config);
    WaitQueue waiting(config.queue);
    pool.on_room([&waiting] { waiting.notify_all(); });
    GatewayMetrics metrics;
    GatewayContext ctx;
    ctx.config = config;
    ctx.pool = &pool;
    ctx.waiting = &waiting;
    ctx.metrics = &metrics;
    print_banner(config);
    asio::io_context ioc(config.http_threads);
    auto listener = net::Listener::open(ioc, {config.host, config.port, config.max_body_bytes});
    if (!listener) return listener.error();
    (*listener)->start([&ctx](HttpConnection& conn, const HttpRequest& req) { return route_request(ctx, conn, req); },
                       [&metrics, &config](const net::RefusedRequest& r) {
                           metrics.count_request("unmatched", {}, r.status);
                           if (config.access_log) std::fprintf(stderr, "%s\n", format_access_line(r.access_record()).c_str());
                       });
    asio::co_spawn(asio::make_strand(ioc), probe_loop(pool, config), asio::detached);
    on_listening((*listener)->address());
    net::run_until_signal(ioc, config.http_threads, listener->get(),
                          std::chrono::milliseconds(static_cast<int64_t>(config.drain_timeout * 1000)));
    (*listener)->close();
    return {};
}

}  // namespace hearth::gateway
