#include "server/router.h"

#include <chrono>

#include <boost/asio/thread_pool.hpp>

#include <fmt/format.h>

namespace hearth::server {
namespace {

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;  // no early exit: the time does not depend on where they differ
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

bool authorized(const ServerContext& ctx, const HttpRequest& req) {
    if (ctx.config.api_key.empty()) return true;
    auto it = req.find(http::field::authorization);
    if (it == req.end()) return false;
    std::string_view v = it->value();
    constexpr std::string_view bearer = "Bearer ";
    if (v.size() < bearer.size() || !beast::iequals(v.substr(0, bearer.size()), bearer)) return false;
    return constant_time_equal(v.substr(bearer.size()), ctx.config.api_key);
}

asio::awaitable<void> method_not_allowed(HttpConnection& conn, const char* allow) {
    ApiError e{405, fmt::format("Method not allowed; use {}", allow), "invalid_request_error", {}, "method_not_allowed"};
    const HttpConnection::Headers headers{{"Allow", allow}};  // (g++ 12: no braced lists in co_await)
    co_await conn.send(405, "application/json", e.body(), headers);
}

}  // namespace

std::optional<std::string> url_decode_path(std::string_view path) {
    std::string out;
    for (size_t i = 0; i < path.size(); ++i) {
        char c = path[i];
        if (c == '%') {
            if (i + 2 >= path.size()) return std::nullopt;
            auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            const int hi = hex(path[i + 1]), lo = hex(path[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') return std::nullopt;
        out += c;
    }
    return out;
}

asio::awaitable<bool> send_json(HttpConnection& conn, int status, const nlohmann::ordered_json& body) {
    co_return co_await conn.send(status, "application/json",
                                 body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

asio::awaitable<bool> send_error(HttpConnection& conn, const ApiError& error) {
    co_return co_await conn.send(error.status, "application/json", error.body());
}

std::chrono::steady_clock::time_point request_deadline(const ServerContext& ctx,
                                                       std::chrono::steady_clock::time_point start) {
    if (ctx.config.timeout <= 0) return std::chrono::steady_clock::time_point::max();
    return start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(ctx.config.timeout));
}

asio::awaitable<std::variant<std::shared_ptr<LoadedModel>, ApiError>> acquire_model(ServerContext& ctx,
                                                                                  const std::string& id) {
    using Out = std::variant<std::shared_ptr<LoadedModel>, ApiError>;
    // Loaded already: no hop (a slow load of another model must not delay this one).
    if (auto loaded = ctx.registry->find_loaded(id)) co_return Out(std::move(loaded));
    // Loading maps and checks a file: off the I/O threads.
    Out out = co_await asio::co_spawn(
        *ctx.blocking,
        [&]() -> asio::awaitable<Out> {
            bool unknown = false;
            auto r = ctx.registry->acquire(id, &unknown);
            if (r) co_return Out(std::move(*r));
            if (unknown) {
                co_return Out(ApiError{404, r.error().message, "invalid_request_error", "model", "model_not_found"});
            }
            co_return Out(server_error(500, r.error().message, "model_load_failed"));
        },
        asio::use_awaitable);
    co_return out;
}

asio::awaitable<void> route_request(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    const auto method = req.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    std::string route = "unmatched";

    auto decoded = url_decode_path(target);
    if (!decoded || decoded->empty() || decoded->front() != '/') {
        co_await send_error(conn, bad_request("malformed request path"));
    } else if (*decoded == "/health") {
        route = "/health";
        if (!get) {
            co_await method_not_allowed(conn, "GET");
        } else {
            const nlohmann::ordered_json ok = {{"status", "ok"}};
            co_await send_json(conn, 200, ok);
        }
    } else if (*decoded == "/metrics") {
        route = "/metrics";
        if (!get) {
            co_await method_not_allowed(conn, "GET");
        } else {
            co_await conn.send(200, "text/plain; version=0.0.4", ctx.metrics->render(ctx.registry->gauges()));
        }
    } else if (decoded->rfind("/v1/", 0) == 0) {
        const std::string& p = *decoded;
        const bool is_models = p == "/v1/models";
        const bool is_model = p.rfind("/v1/models/", 0) == 0 && p.size() > 11;
        const bool is_chat = p == "/v1/chat/completions";
        const bool is_completions = p == "/v1/completions";
        const bool is_speech = ctx.speech && p == "/v1/audio/speech";
        const bool is_voices = ctx.speech && p == "/v1/audio/voices";
        route = is_models ? "/v1/models" : is_model ? "/v1/models/{id}"
                : (is_chat || is_completions || is_speech || is_voices) ? p : "unmatched";
        if (!is_models && !is_model && !is_chat && !is_completions && !is_speech && !is_voices) {
            co_await send_error(conn, not_found(fmt::format("Unknown route {} {}", std::string(req.method_string()), p),
                                                "unknown_route"));
        } else if (!authorized(ctx, req)) {
            ApiError e{401, "Incorrect API key provided", "invalid_request_error", {}, "invalid_api_key"};
            const HttpConnection::Headers headers{{"WWW-Authenticate", "Bearer"}};
            co_await conn.send(401, "application/json", e.body(), headers);
        } else if (is_voices) {
            if (!get) {
                co_await method_not_allowed(conn, "GET");
            } else {
                co_await ctx.speech->voices(ctx, conn);
            }
        } else if (is_models || is_model) {
            if (!get) {
                co_await method_not_allowed(conn, "GET");
            } else {
                const std::string id = is_model ? p.substr(11) : std::string();
                co_await handle_models(ctx, conn, is_model ? &id : nullptr);
            }
        } else if (method != http::verb::post) {
            co_await method_not_allowed(conn, "POST");
        } else if (is_chat) {
            co_await handle_chat_completions(ctx, conn, req);
        } else if (is_speech) {
            co_await ctx.speech->speech(ctx, conn, req);
        } else {
            co_await handle_completions(ctx, conn, req);
        }
    } else if (!ctx.config.ui_dir.empty() && get) {
        route = "static";
        co_await handle_static(ctx, conn, req, *decoded);
    } else {
        co_await send_error(conn, not_found(fmt::format("Unknown route {} {}", std::string(req.method_string()),
                                                        std::string(target)),
                                            "unknown_route"));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ctx.metrics->count_request(route, conn.status_sent() ? conn.status_sent() : 499, seconds);
}

}  // namespace hearth::server
