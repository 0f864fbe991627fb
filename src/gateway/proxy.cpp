#include "gateway/proxy.h"

#include <optional>

#include <fmt/format.h>

#include "gateway/routing.h"

namespace hearth::gateway {
namespace {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

constexpr size_t kWholeBodyLimit = 64u << 20;  // a JSON answer larger than this is refused
constexpr auto kQueuePoll = 20ms;

std::chrono::milliseconds ms(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

bool is_event_stream(const std::string& content_type) { return content_type.rfind("text/event-stream", 0) == 0; }
bool is_streamed(const std::string& content_type) {
    return is_event_stream(content_type) || content_type.rfind("audio/", 0) == 0;
}

// Token counts from an OpenAI "usage" object, where a body or event has one.
void read_usage(std::string_view json_text, AccessRecord& log) {
    if (json_text.find("\"usage\"") == std::string_view::npos) return;
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    auto u = j.find("usage");
    if (u == j.end() || !u->is_object()) return;
    log.prompt_tokens = u->value("prompt_tokens", int64_t{-1});
    log.completion_tokens = u->value("completion_tokens", int64_t{-1});
}

// g++ 12 destroys non-trivial results of `co_await (a || b)` twice, so the racing
// work stores its result itself and the race yields only which side finished first.
template <class T>
asio::awaitable<void> store_into(asio::awaitable<T> work, std::optional<T>& out) {
    out.emplace(co_await std::move(work));
}

// Runs `work` until it finishes or the client goes away (which cancels it); false
// when the client left first.
template <class T>
asio::awaitable<bool> unless_client_leaves(HttpConnection& conn, asio::awaitable<T> work, std::optional<T>& out) {
    auto r = co_await (store_into(std::move(work), out) || conn.peer_closed());
    co_return r.index() == 0 && out.has_value();
}

ApiError too_busy(const std::string& why) { return ApiError{503, why, "server_error", {}, "gateway_busy"}; }

// Per request: the parsed body and where it may go.
struct Forwarding {
    RouteQuery query;
    std::string payload;
    std::string last_error;
    int failures = 0;
};

asio::awaitable<bool> send_busy(HttpConnection& conn, const std::string& why) {
    const HttpConnection::Headers headers{{"Retry-After", "1"}};
    co_return co_await conn.send(503, "application/json", too_busy(why).body(), headers);
}

// Cuts an event stream into whole events (so that an error event written after a
// break never lands inside a half event), noting usage as it passes. Audio and other
// streams pass as they come.
class EventFramer {
public:
    EventFramer(AccessRecord& log, bool events) : log_(log), events_(events) {}

    // What may be written now of what has arrived.
    std::string take(std::string piece) {
        if (!events_) return piece;
        pending_ += piece;
        const size_t end = pending_.rfind("\n\n");
        if (end == std::string::npos && pending_.size() < (1u << 20)) return {};
        const size_t cut = end == std::string::npos ? pending_.size() : end + 2;
        std::string ready = pending_.substr(0, cut);
        pending_.erase(0, cut);
        note_usage(ready);
        return ready;
    }

    // At the end of the stream: whatever is left.
    std::string rest() {
        note_usage(pending_);
        return std::move(pending_);
    }

    bool events() const { return events_; }

private:
    void note_usage(std::string_view events) {
        size_t pos = 0;
        while ((pos = events.find("data: {", pos)) != std::string_view::npos) {
            const size_t end = events.find("\n\n", pos);
            read_usage(events.substr(pos + 6, end == std::string_view::npos ? std::string_view::npos : end - pos - 6), log_);
            pos += 6;
        }
    }

    AccessRecord& log_;
    bool events_;
    std::string pending_;
};

// The upstream broke mid-stream: say so in the stream and close it properly. Audio has
// no in-band error: the client sees the cut.
asio::awaitable<void> end_broken_stream(HttpConnection& conn, bool events, const std::string& why) {
    if (!events) {
        conn.close();
        co_return;
    }
    const ApiError e{502, "the node serving this stream failed: " + why, "server_error", {}, "upstream_failed"};
    const std::string tail = sse_event(e.to_json()) + sse_done();
    if (co_await conn.write_chunk(tail)) co_await conn.end_stream();
}

}  // namespace

asio::awaitable<void> forward(GatewayContext& ctx, HttpConnection& conn, const HttpRequest& req,
                              const std::string& route, AccessRecord& log) {
    const auto t0 = Clock::now();
    auto body = nlohmann::json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        co_await conn.send(400, "application/json", invalid_json_body().body());
        co_return;
    }
    Forwarding f;
    f.query.route = route;
    const auto model_field = body.find("model");
    if (model_field != body.end() && model_field->is_string()) f.query.model = model_field->get<std::string>();
    if (route == "/v1/audio/speech") {
        f.query.voice = body.value("voice", "");
    } else if (f.query.model.empty()) {
        co_await conn.send(400, "application/json",
                           bad_request("you must provide a model parameter", "model", "missing_model").body());
        co_return;
    }
    f.payload = req.body();
    if (auto alias = ctx.config.aliases.find(f.query.model); alias != ctx.config.aliases.end()) {
        f.query.model = alias->second;
        body["model"] = alias->second;
        f.payload = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    log.model = f.query.model;
    f.query.prefix = prefix_key(route, body);

    auto ex = co_await asio::this_coro::executor;
    const auto queue_deadline = t0 + ms(ctx.config.queue_timeout);
    const double timeout = ctx.config.timeout > 0 ? ctx.config.timeout : 365.0 * 24 * 3600;
    const net::ClientTimeouts timeouts{ms(ctx.config.connect_timeout), ms(timeout), ms(timeout)};
    bool waiting = false;
    struct Unqueue {
        GatewayContext& ctx;
        bool& waiting;
        ~Unqueue() {
            if (waiting) --ctx.queued;
        }
    } unqueue{ctx, waiting};

    for (;;) {
        auto acquired = ctx.pool->acquire(f.query);
        if (auto* none = std::get_if<NoNode>(&acquired)) {
            if (*none == NoNode::Unknown && f.failures == 0) {
                const ApiError e{404, fmt::format("The model '{}' does not exist", f.query.model),
                                 "invalid_request_error", "model", "model_not_found"};  // (g++ 12: none in co_await)
                co_await conn.send(404, "application/json", e.body());
                co_return;
            }
            if (*none == NoNode::Unknown) {  // the nodes that served it left while we tried
                const ApiError e{502, "every node serving the model failed: " + f.last_error, "server_error", {},
                                 "upstream_failed"};
                co_await conn.send(502, "application/json", e.body());
                co_return;
            }
            if (!waiting) {
                if (ctx.queued.load() >= ctx.config.queue) {
                    const std::string why = fmt::format("the gateway's queue is full ({} requests waiting)", ctx.config.queue);
                    co_await send_busy(conn, why);
                    co_return;
                }
                ++ctx.queued;
                waiting = true;
            }
            if (Clock::now() >= queue_deadline) {
                const std::string why = f.last_error.empty()
                                            ? fmt::format("no node could take the request within {} s", ctx.config.queue_timeout)
                                            : "no node could take the request: " + f.last_error;
                co_await send_busy(conn, why);
                co_return;
            }
            asio::steady_timer poll(ex, kQueuePoll);
            auto r = co_await (poll.async_wait(use_tuple) || conn.peer_closed());
            if (r.index() == 1) co_return;  // the client left while waiting
            continue;
        }
        auto lease = std::move(std::get<std::unique_ptr<Lease>>(acquired));
        if (waiting) {
            --ctx.queued;
            waiting = false;
        }
        log.node = lease->id();

        ClientRequest upstream;
        upstream.method = http::verb::post;
        upstream.target = route;
        upstream.body = f.payload;
        if (!lease->api_key().empty()) upstream.headers.emplace_back("Authorization", "Bearer " + lease->api_key());
        upstream.headers.emplace_back("X-Request-Id", log.id);
        if (auto accept = req.find(http::field::accept); accept != req.end())
            upstream.headers.emplace_back("Accept", std::string(accept->value()));

        // Until the first body byte nothing reached the client: any failure is retried.
        auto retry = [&](const std::string& why, bool node_fault) {
            if (node_fault) ctx.pool->node_failed(lease->id(), why);
            f.query.exclude.insert(lease->id());
            f.last_error = why;
            ++f.failures;
            ctx.metrics->count_retry();
            return f.failures <= ctx.config.retries;
        };
        auto give_up = [&]() -> asio::awaitable<void> {
            const ApiError e{502, "the node failed: " + f.last_error, "server_error", {}, "upstream_failed"};
            co_await conn.send(502, "application/json", e.body());
        };

        std::optional<Result<std::unique_ptr<ClientExchange>>> started;
        if (!co_await unless_client_leaves(conn, ClientExchange::start(ex, lease->url(), upstream, timeouts), started))
            co_return;
        auto& exchange = *started;
        if (!exchange) {
            if (retry(exchange.error().message, true)) continue;
            co_await give_up();
            co_return;
        }
        auto& x = *exchange;
        const int status = x->status();
        std::string content_type = x->header(http::field::content_type);
        if (content_type.empty()) content_type = "application/json";
        // (g++ 12 destroys temporaries of a ?: inside a co_await twice: none below.)
        if (status == 503 || status == 502 || status == 504) {
            // Full or failing: another node may take it. Its own error is what the client
            // sees if none does.
            auto why = co_await x->rest(1u << 20);
            f.last_error = fmt::format("HTTP {} {}", status, why ? *why : why.error().message);
            f.query.exclude.insert(lease->id());
            ++f.failures;
            if (f.failures <= ctx.config.retries) {
                ctx.metrics->count_retry();
                continue;
            }
            std::string answer = why ? std::move(*why) : std::string();
            co_await conn.send(status, content_type, std::move(answer));
            co_return;
        }

        if (!is_streamed(content_type)) {
            std::optional<Result<std::string>> whole;
            if (!co_await unless_client_leaves(conn, x->rest(kWholeBodyLimit), whole)) co_return;
            auto& text = *whole;
            if (!text) {
                if (retry(text.error().message, true)) continue;
                co_await give_up();
                co_return;
            }
            const double first = std::chrono::duration<double>(Clock::now() - t0).count();
            ctx.metrics->observe_ttfb(first);
            log.ttft_ms = first * 1000;
            read_usage(*text, log);
            co_await conn.send(status, content_type, std::move(*text));
            co_return;
        }

        // An event stream is committed to at its second event: hearth sends the role chunk
        // as soon as it queues a request, and a node that dies before the first token
        // has started nothing the client could have seen.
        std::string head;
        std::optional<Result<std::string>> failed;
        const bool events = is_event_stream(content_type);
        for (;;) {
            std::optional<Result<std::string>> piece;
            if (!co_await unless_client_leaves(conn, x->next(), piece)) co_return;
            if (!*piece) {
                failed = std::move(piece);
                break;
            }
            const bool ended = (*piece)->empty();
            head += **piece;
            size_t complete = 0;
            for (size_t at = head.find("\n\n"); at != std::string::npos; at = head.find("\n\n", at + 2)) ++complete;
            if (ended || !events || complete >= 2) break;
        }
        if (failed) {
            if (retry(failed->error().message, true)) continue;
            co_await give_up();
            co_return;
        }
        const double ttfb = std::chrono::duration<double>(Clock::now() - t0).count();
        ctx.metrics->observe_ttfb(ttfb);
        log.ttft_ms = ttfb * 1000;
        if (!co_await conn.begin_stream(status, content_type)) co_return;
        EventFramer framer(log, is_event_stream(content_type));
        std::string next = std::move(head);
        for (;;) {
            if (next.empty()) {
                const std::string tail = framer.rest();
                if (co_await conn.write_chunk(tail)) co_await conn.end_stream();
                co_return;
            }
            const std::string ready = framer.take(std::move(next));
            if (!co_await conn.write_chunk(ready)) co_return;  // the client is gone: the exchange closes with us
            std::optional<Result<std::string>> more;
            if (!co_await unless_client_leaves(conn, x->next(), more)) co_return;
            auto& got = *more;
            if (!got) {
                ctx.pool->node_failed(lease->id(), got.error().message);
                co_await end_broken_stream(conn, framer.events(), got.error().message);
                co_return;
            }
            next = std::move(*got);
        }
    }
}

}  // namespace hearth::gateway
