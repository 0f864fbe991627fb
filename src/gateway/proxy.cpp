#include "gateway/proxy.h"

#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "base/sse_events.h"
#include "gateway/routing.h"

namespace hearth::gateway {
namespace {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

// Answers up to this size with a Content-Length are read whole before the client sees a
// byte, so that a node failing mid-body costs a retry, not the answer; larger ones stream.
constexpr uint64_t kWholeBodyLimit = 16u << 20;

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

// A string field of the body, "" when absent or of another type.
std::string string_field(const nlohmann::json& body, const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// An error to the client: an error object with its status (503s with Retry-After), or,
// once an event stream's head went out, an error event and [DONE] in that stream.
asio::awaitable<void> send_failure(HttpConnection& conn, const ApiError& e) {
    if (conn.status_sent() != 0) {
        const std::string tail = sse_event(e.to_json()) + sse_done();
        if (co_await conn.write_chunk(tail)) co_await conn.end_stream();
        co_return;
    }
    HttpConnection::Headers headers;
    if (e.status == 503) headers.emplace_back("Retry-After", "1");
    co_await conn.send(e.status, "application/json", e.body(), headers);
}

// A node's error answer as an error object (its own when it sent one).
ApiError node_error(int status, const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
        const auto& e = j["error"];
        return ApiError{status, string_field(e, "message"), string_field(e, "type"), string_field(e, "param"),
                        string_field(e, "code")};
    }
    return ApiError{status, fmt::format("the node answered HTTP {}: {}", status, body.substr(0, 200)), "server_error", {},
                    "upstream_error"};
}

// A chat chunk that only opens the assistant's message (hearth sends one as soon as it
// queues a request): nothing the client could miss if the request starts over elsewhere.
bool opens_message_only(std::string_view data) {
    auto j = nlohmann::json::parse(data, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
        return false;
    for (const auto& c : j["choices"]) {
        if (!c.is_object() || !c.contains("delta") || !c["delta"].is_object()) return false;
        if (c.contains("finish_reason") && !c["finish_reason"].is_null()) return false;
        for (const auto& [key, value] : c["delta"].items()) {
            if (key == "role") continue;
            if ((key == "content" || key == "reasoning_content") && (value.is_null() || value == "")) continue;
            return false;
        }
    }
    return true;
}

// Cuts an event stream into whole events (so that an error event written after a
// break never lands inside a half event), noting usage as it passes. Other streams
// (audio) pass as they come.
class EventFramer {
public:
    EventFramer(AccessRecord& log, bool events) : log_(log), events_(events) {}

    // What may be written now of what has arrived.
    std::string take(std::string piece) {
        if (!events_) return piece;
        pending_ += piece;
        size_t cut = for_each_sse_event(pending_, [&](std::string_view data) { read_usage(data, log_); });
        if (cut == 0 && pending_.size() >= (1u << 20)) cut = pending_.size();  // not events after all
        std::string ready = pending_.substr(0, cut);
        pending_.erase(0, cut);
        return ready;
    }

    // At the end of the stream: whatever is left.
    std::string rest() { return std::move(pending_); }
    bool events() const { return events_; }

private:
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

// One request on its way: the parsed body, where it may go, and what went wrong so far.
struct Forwarding {
    RouteQuery query;
    std::string payload;
    std::string last_error;
    int failures = 0;
    Clock::time_point start;
    Clock::time_point deadline;        // of the whole request (config timeout)
    Clock::time_point queue_deadline;  // of waiting for a node
};

// The model, voice, prefix key and payload (aliases applied); an error for a body that
// cannot be routed.
std::variant<Forwarding, ApiError> parse_forwarding(const GatewayContext& ctx, const HttpRequest& req,
                                                    const std::string& route) {
    auto body = nlohmann::json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) return invalid_json_body();
    Forwarding f;
    f.query.route = route;
    f.query.model = string_field(body, "model");
    if (route == "/v1/audio/speech") {
        f.query.voice = string_field(body, "voice");
    } else if (f.query.model.empty()) {
        return bad_request("you must provide a model parameter", "model", "missing_model");
    }
    if (route == "/v1/chat/completions") {
        // A reply to be spoken (modalities ["text", "audio"]) goes where the voice is.
        const auto modalities = body.find("modalities");
        if (modalities != body.end() && modalities->is_array()) {
            for (const auto& m : *modalities) f.query.spoken = f.query.spoken || m == "audio";
        }
        const auto audio = body.find("audio");
        if (f.query.spoken && audio != body.end() && audio->is_object()) f.query.voice = string_field(*audio, "voice");
    }
    f.payload = req.body();
    if (auto alias = ctx.config.aliases.find(f.query.model); alias != ctx.config.aliases.end()) {
        f.query.model = alias->second;
        body["model"] = alias->second;
        f.payload = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    f.query.prefix = prefix_key(route, body);
    f.start = Clock::now();
    const double timeout = ctx.config.timeout > 0 ? ctx.config.timeout : 365.0 * 24 * 3600;
    f.deadline = f.start + ms(timeout);
    f.queue_deadline = f.start + ms(ctx.config.queue_timeout);
    return f;
}

// A node for the request, waiting in the gateway's queue while none can take it; null
// once an error was sent or the client left.
asio::awaitable<std::unique_ptr<Lease>> wait_for_node(GatewayContext& ctx, HttpConnection& conn, Forwarding& f) {
    std::unique_ptr<WaitQueue::Ticket> ticket;  // a place in the queue, left on return
    auto ex = co_await asio::this_coro::executor;
    for (;;) {
        if (!ticket || ticket->first()) {  // earlier waiters for the model go first
            auto acquired = ctx.pool->acquire(f.query);
            if (auto* lease = std::get_if<std::unique_ptr<Lease>>(&acquired)) co_return std::move(*lease);
            if (std::get<NoNode>(acquired) == NoNode::Unknown) {
                if (f.failures == 0) {
                    const ApiError e = f.query.spoken && ctx.pool->serves_model(f.query.model)
                                           ? ApiError{400, fmt::format("No node serving '{}' has speech for a spoken reply",
                                                                       f.query.model),
                                                      "invalid_request_error", "modalities", "audio_unavailable"}
                                           : ApiError{404, fmt::format("The model '{}' does not exist", f.query.model),
                                                      "invalid_request_error", "model", "model_not_found"};
                    co_await send_failure(conn, e);
                } else {  // the nodes that served it left while we tried
                    const ApiError e{502, "every node serving the model failed: " + f.last_error, "server_error", {},
                                     "upstream_failed"};
                    co_await send_failure(conn, e);
                }
                co_return nullptr;
            }
        }
        if (!ticket && !(ticket = ctx.waiting->enter(f.query.model, ex))) {
            const std::string why = fmt::format("the gateway's queue is full ({} requests waiting)", ctx.config.queue);
            const ApiError busy = too_busy(why);
            co_await send_failure(conn, busy);
            co_return nullptr;
        }
        if (Clock::now() >= f.queue_deadline) {
            const std::string why = f.last_error.empty()
                                        ? fmt::format("no node could take the request within {} s", ctx.config.queue_timeout)
                                        : "no node could take the request: " + f.last_error;
            const ApiError busy = too_busy(why);
            co_await send_failure(conn, busy);
            co_return nullptr;
        }
        if (!co_await ticket->wait(conn, f.queue_deadline)) co_return nullptr;  // the client left
        // Nodes that failed this request are down now, and full ones may have room again.
        f.query.exclude.clear();
    }
}

enum class Outcome { Done, Retry };

// Relays one node's answer. Retry: nothing reached the client and another node may
// answer (f.last_error says why; the node is marked failed where it is at fault).
asio::awaitable<Outcome> relay(GatewayContext& ctx, HttpConnection& conn, Forwarding& f, const Lease& lease,
                               ClientExchange& x, AccessRecord& log) {
    const int status = x.status();
    std::string content_type = x.header(http::field::content_type);
    if (content_type.empty()) content_type = "application/json";
    auto failed = [&](const Error& e) {
        f.last_error = e.message;
        // A request that ran out of time is not the node's fault, and starting it over won't help.
        if (Clock::now() >= f.deadline) return Outcome::Done;
        ctx.pool->node_failed(lease.id(), e.message);
        return Outcome::Retry;
    };
    const bool events = is_event_stream(content_type);
    if (conn.status_sent() != 0 && (!events || status != 200)) {
        // The stream's head went out for an earlier node that failed; this one answers
        // otherwise: its answer becomes the stream's error event.
        auto body = co_await x.rest(64 * 1024);
        const ApiError e = node_error(status, body ? *body : body.error().message);
        co_await send_failure(conn, e);
        co_return Outcome::Done;
    }
    const std::string length = x.header(http::field::content_length);
    if (!is_streamed(content_type) && !length.empty() && std::strtoull(length.c_str(), nullptr, 10) <= kWholeBodyLimit) {
        std::optional<Result<std::string>> whole;
        if (!co_await unless_client_leaves(conn, x.rest(kWholeBodyLimit), whole)) co_return Outcome::Done;
        if (!*whole) co_return failed(whole->error());
        const double first = std::chrono::duration<double>(Clock::now() - f.start).count();
        ctx.metrics->observe_ttfb(first);
        log.ttft_ms = first * 1000;
        read_usage(**whole, log);
        co_await conn.send(status, content_type, std::move(**whole));
        co_return Outcome::Done;
    }
    // A stream is committed to at its first byte the client must see: for chat events,
    // after the chunks that only open the message. The head goes out at once, so that the
    // client sets its stream up while the node computes; another node that takes over
    // continues the same stream.
    if (events && status == 200 && conn.status_sent() == 0) {
        // (g++ 12: no co_await inside && or ?:)
        const bool sent = co_await conn.begin_stream(status, content_type);
        if (!sent) co_return Outcome::Done;
    }
    std::string head;
    for (;;) {
        std::optional<Result<std::string>> piece;
        if (!co_await unless_client_leaves(conn, x.next(), piece)) co_return Outcome::Done;
        if (!*piece) co_return failed(piece->error());
        const bool ended = (*piece)->empty();
        head += **piece;
        bool started = !events;
        for_each_sse_event(head, [&](std::string_view data) { started = started || !opens_message_only(data); });
        if (ended || started) break;
    }
    const double ttfb = std::chrono::duration<double>(Clock::now() - f.start).count();
    ctx.metrics->observe_ttfb(ttfb);
    log.ttft_ms = ttfb * 1000;
    if (conn.status_sent() == 0) {
        const bool sent = co_await conn.begin_stream(status, content_type);
        if (!sent) co_return Outcome::Done;
    }
    EventFramer framer(log, events);
    std::string next = std::move(head);
    for (;;) {
        if (next.empty()) {
            const std::string tail = framer.rest();
            if (co_await conn.write_chunk(tail)) co_await conn.end_stream();
            co_return Outcome::Done;
        }
        const std::string ready = framer.take(std::move(next));
        if (!co_await conn.write_chunk(ready)) co_return Outcome::Done;  // the client is gone: the exchange closes with us
        // Not raced against the client leaving: that shows at the next write, tokens come
        // often, and a race per piece cost more than relaying it.
        auto more = co_await x.next();
        if (!more) {
            if (Clock::now() < f.deadline) ctx.pool->node_failed(lease.id(), more.error().message);
            co_await end_broken_stream(conn, framer.events(), more.error().message);
            co_return Outcome::Done;
        }
        next = std::move(*more);
    }
}

}  // namespace

asio::awaitable<void> forward(GatewayContext& ctx, HttpConnection& conn, const HttpRequest& req,
                              const std::string& route, AccessRecord& log) {
    auto parsed = parse_forwarding(ctx, req, route);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        co_await send_failure(conn, *e);
        co_return;
    }
    Forwarding& f = std::get<Forwarding>(parsed);
    log.model = f.query.model;
    auto ex = co_await asio::this_coro::executor;
    for (;;) {
        auto lease = co_await wait_for_node(ctx, conn, f);
        if (!lease) co_return;
        log.node = lease->id();
        ClientRequest upstream;
        upstream.method = http::verb::post;
        upstream.target = route;
        upstream.body = f.payload;
        if (!lease->api_key().empty()) upstream.headers.emplace_back("Authorization", "Bearer " + lease->api_key());
        upstream.headers.emplace_back("X-Request-Id", log.id);
        if (auto accept = req.find(http::field::accept); accept != req.end())
            upstream.headers.emplace_back("Accept", std::string(accept->value()));
        const auto left = std::max<Clock::duration>(f.deadline - Clock::now(), std::chrono::milliseconds(1));
        const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(left);
        const net::ClientTimeouts timeouts{std::min(ms(ctx.config.connect_timeout), left_ms), left_ms, left_ms};

        std::optional<Result<std::unique_ptr<ClientExchange>>> started;
        if (!co_await unless_client_leaves(conn, ClientExchange::start(ex, lease->url(), upstream, timeouts), started))
            co_return;
        Outcome outcome = Outcome::Retry;
        if (!*started) {
            f.last_error = started->error().message;
            if (Clock::now() < f.deadline) ctx.pool->node_failed(lease->id(), f.last_error);
        } else if ((**started)->status() == 503) {
            // Full: another node, or this one once it has room, takes it; not a failure.
            auto why = co_await (**started)->rest(64 * 1024);
            f.last_error = fmt::format("{} answered 503: {}", lease->id(), why ? *why : why.error().message);
            f.query.exclude.insert(lease->id());
            continue;
        } else {
            outcome = co_await relay(ctx, conn, f, *lease, ***started, log);
        }
        if (outcome == Outcome::Done && conn.status_sent() != 0) co_return;
        if (conn.broken()) co_return;
        if (Clock::now() >= f.deadline) {
            const ApiError e{504, "the request took longer than the gateway's timeout: " + f.last_error, "server_error", {},
                             "timeout"};
            co_await send_failure(conn, e);
            co_return;
        }
        f.query.exclude.insert(lease->id());
        if (++f.failures > ctx.config.retries) {
            const ApiError e{502, "the node failed: " + f.last_error, "server_error", {}, "upstream_failed"};
            co_await send_failure(conn, e);
            co_return;
        }
        ctx.metrics->count_retry();
    }
}

}  // namespace hearth::gateway
