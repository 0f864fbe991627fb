#include "server/router.h"

#include <chrono>
#include <cstdio>
#include <exception>

#include <boost/asio/thread_pool.hpp>

#include <fmt/format.h>

#include "net/access_log.h"
#include "net/request.h"
#include "webui/webui.h"

namespace hearth::server {
namespace {

bool authorized(const ServerContext& ctx, const HttpRequest& req) {
    return ctx.config.api_key.empty() || net::bearer_matches(req, ctx.config.api_key);
}

}  // namespace

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
            if (unknown && ctx.speech && is_speech_model(id)) {  // listed by /v1/models beside the LLMs
                co_return Out(bad_request(
                    fmt::format("The model '{}' is a speech model: use it with /v1/audio/speech, not for text", id),
                    "model", "model_not_supported"));
            }
            if (unknown) {
                co_return Out(ApiError{404, r.error().message, "invalid_request_error", "model", "model_not_found"});
            }
            co_return Out(server_error(500, r.error().message, "model_load_failed"));
        },
        asio::use_awaitable);
    co_return out;
}

namespace {

// Matches the route and runs its handler; rec.route gets the route's /metrics label.
asio::awaitable<void> dispatch(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req, RequestRecord& rec) {
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    const auto method = req.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    std::string& route = rec.route;

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
    } else if (*decoded == "/status") {
        route = "/status";
        if (!authorized(ctx, req)) {  // the /v1 rule: it tells what this server holds
            co_await unauthorized(conn);
        } else if (!get) {
            co_await method_not_allowed(conn, "GET");
        } else {
            co_await handle_status(ctx, conn);
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
            co_await unauthorized(conn);
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
            co_await handle_chat_completions(ctx, conn, req, rec);
        } else if (is_speech) {
            co_await ctx.speech->speech(ctx, conn, req);
        } else {
            co_await handle_completions(ctx, conn, req, rec);
        }
    } else if (get) {
        route = "static";
        co_await webui::serve(conn, req, *decoded, ctx.config.ui_dir);
    } else {
        co_await send_error(conn, not_found(fmt::format("Unknown route {} {}", std::string(req.method_string()),
                                                        std::string(target)),
                                            "unknown_route"));
    }
}

void write_access_log(const RequestRecord& rec, int status, double ms) {
    net::AccessRecord a;
    a.id = rec.id;
    a.method = rec.method;
    a.route = rec.route;
    a.model = rec.model;
    a.status = status;
    a.prompt_tokens = rec.prompt_tokens;
    a.completion_tokens = rec.completion_tokens;
    a.ttft_ms = rec.ttft_seconds < 0 ? -1.0 : rec.ttft_seconds * 1000;
    a.ms = ms;
    const std::string line = net::format_access_line(a) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines of concurrent requests do not mix
}

}  // namespace

asio::awaitable<void> route_request(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req) {
    RequestRecord rec;
    rec.start = std::chrono::steady_clock::now();
    rec.id = net::request_id(req);
    rec.method = std::string(req.method_string());
    conn.add_response_header("X-Request-Id", rec.id);
    std::exception_ptr failure;
    std::string what;
    try {
        co_await dispatch(ctx, conn, req, rec);
    } catch (const std::exception& e) {
        failure = std::current_exception();
        what = e.what();
    }
    if (failure && conn.status_sent() == 0) {
        // The listener would answer a handler's exception too, but without the request's
        // id; this connection is closed after it either way.
        conn.begin_request(false);
        conn.add_response_header("X-Request-Id", rec.id);
        co_await send_error(conn, server_error(500, "internal error: " + what));
    }
    const auto elapsed = std::chrono::steady_clock::now() - rec.start;
    const int status = conn.status_sent() ? conn.status_sent() : 499;  // 499: the client left first
    ctx.metrics->count_request(rec.route, status, std::chrono::duration<double>(elapsed).count());
    if (ctx.config.access_log) write_access_log(rec, status, std::chrono::duration<double, std::milli>(elapsed).count());
    if (failure) std::rethrow_exception(failure);  // the listener closes the connection
}

}  // namespace hearth::server
