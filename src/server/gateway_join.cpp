#include "server/gateway_join.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hearth::server {
namespace {

// A heartbeat is one small exchange; a gateway slower than this is as good as gone.
const net::ClientTimeouts kHeartbeatTimeouts{std::chrono::seconds(2), std::chrono::seconds(2), std::chrono::seconds(2)};
constexpr size_t kResponseLimit = 64 * 1024;

// A response body as one short line for the log.
std::string excerpt(const std::string& body) {
    std::string out = body.substr(0, 200);
    for (char& c : out) {
        if (c == '\r' || c == '\n' || c == '\t') c = ' ';
    }
    return body.size() > out.size() ? out + "..." : out;
}

std::string this_host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
    return name;
}

}  // namespace

Result<std::string> advertise_url(const ServerConfig& config, const std::string& bound_address) {
    if (!config.advertise.empty()) {
        auto u = net::Url::parse(config.advertise);
        if (!u) return make_error("advertise: " + u.error().message);
        return u->to_string();
    }
    auto u = net::Url::parse(bound_address);
    if (!u) return make_error("bound address: " + u.error().message);
    error_code ec;
    const auto address = asio::ip::make_address(u->host, ec);
    if (!ec && address.is_unspecified()) u->host = this_host_name();
    return u->to_string();
}

Result<std::unique_ptr<GatewayJoin>> GatewayJoin::create(const ServerConfig& config, std::string advertise) {
    auto gateway = net::Url::parse(config.join);
    if (!gateway) return make_error("join: " + gateway.error().message);
    std::unique_ptr<GatewayJoin> j(new GatewayJoin());
    j->gateway_ = std::move(*gateway);
    j->advertise_ = std::move(advertise);
    j->join_key_ = config.join_key;
    j->api_key_ = config.api_key;
    j->heartbeat_seconds_ = config.heartbeat;
    // A loopback address works only for a gateway on this machine.
    auto is_loopback = [](const std::string& host) {
        error_code ec;
        const auto a = asio::ip::make_address(host, ec);
        return host == "localhost" || (!ec && a.is_loopback());
    };
    if (auto ad = net::Url::parse(j->advertise_); ad && is_loopback(ad->host) && !is_loopback(j->gateway_.host)) {
        std::fprintf(stderr,
                     "join: warning: advertising %s, which the gateway at %s cannot reach unless it runs here; "
                     "listen on an outside address (--host) or set --advertise\n",
                     j->advertise_.c_str(), j->gateway_.to_string().c_str());
    }
    return j;
}

void GatewayJoin::start(const asio::any_io_executor& ex) { asio::co_spawn(ex, heartbeat_loop(), asio::detached); }

std::vector<std::pair<std::string, std::string>> GatewayJoin::auth_headers() const {
    if (join_key_.empty()) return {};
    return {{"Authorization", "Bearer " + join_key_}};
}

asio::awaitable<void> GatewayJoin::heartbeat_loop() {
    const auto ex = co_await asio::this_coro::executor;
    net::ClientRequest request;
    request.method = http::verb::post;
    request.target = "/gateway/join";
    request.headers = auth_headers();
    const nlohmann::json body = {{"url", advertise_}, {"api_key", api_key_}, {"heartbeat", heartbeat_seconds_}};
    request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(heartbeat_seconds_));
    asio::steady_timer timer(ex);
    for (;;) {
        // Beats keep their period however long an exchange takes (up to the period).
        timer.expires_after(period);
        if (left_) co_return;
        auto r = co_await net::fetch(ex, gateway_, request, kHeartbeatTimeouts, kResponseLimit);
        if (left_) co_return;  // a beat in flight while leaving must not count as joining
        report(r);
        auto [ec] = co_await timer.async_wait(use_tuple);
        if (ec) co_return;
    }
}

void GatewayJoin::report(const Result<net::ClientResponse>& r) {
    std::string state, line;
    if (!r) {
        state = "unreachable";  // whatever the reason: one line until it changes
        line = fmt::format("join: gateway {} unreachable: {}; retrying every {}s", gateway(), r.error().message,
                           heartbeat_seconds_);
    } else if (r->status >= 200 && r->status < 300) {
        state = "registered";
        line = fmt::format("join: registered with {} as {}", gateway(), advertise_);
    } else {
        state = fmt::format("refused {}", r->status);
        line = fmt::format("join: gateway refused: {} {}", r->status, excerpt(r->body));
    }
    if (state == state_) return;
    state_ = state;
    std::fprintf(stderr, "%s\n", line.c_str());
}

void GatewayJoin::leave(std::chrono::milliseconds limit) {
    if (left_.exchange(true)) return;
    net::ClientRequest request;
    request.method = http::verb::post;
    request.target = "/gateway/leave";
    request.headers = auth_headers();
    const nlohmann::json body = {{"url", advertise_}};
    request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const net::ClientTimeouts timeouts{limit, limit, limit};
    std::string outcome = "no answer within the time limit";
    asio::io_context ioc;  // after what the exchange refers to: it goes first
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto r = co_await net::fetch(ioc.get_executor(), gateway_, request, timeouts, kResponseLimit);
            if (!r) {
                outcome = r.error().message;
            } else if (r->status < 200 || r->status >= 300) {
                outcome = fmt::format("{} {}", r->status, excerpt(r->body));
            } else {
                outcome.clear();
            }
        },
        asio::detached);
    ioc.run_for(limit);  // what is still pending then is dropped with the context
    if (!outcome.empty()) std::fprintf(stderr, "join: could not leave gateway %s: %s\n", gateway().c_str(), outcome.c_str());
}

}  // namespace hearth::server
