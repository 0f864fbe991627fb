#include "server/server.h"

#include <csignal>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include <fmt/format.h>

#include "server/router.h"
#include "server/server_context.h"

namespace hearth::server {
namespace {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

constexpr auto kIdleTimeout = 60s;     // between requests on a kept-alive connection
constexpr auto kWriteTimeout = 120s;   // a client that reads nothing for this long is dropped

bool is_http_error(const error_code& ec) { return ec.category() == make_error_code(http::error::bad_method).category(); }

// After refusing a body we did not read, read (and drop) what the client still sends
// for a moment so that it sees our response instead of a connection reset.
asio::awaitable<void> drain(HttpConnection& conn) {
    error_code ec;
    conn.socket().shutdown(tcp::socket::shutdown_send, ec);
    asio::steady_timer timer(conn.socket().get_executor());
    timer.expires_after(2s);
    std::vector<char> scratch(64 * 1024);
    for (size_t total = 0; total < (64u << 20);) {
        auto r = co_await (conn.socket().async_read_some(asio::buffer(scratch), use_tuple) || timer.async_wait(use_tuple));
        if (r.index() == 1) break;
        auto [rec, n] = std::get<0>(r);
        if (rec) break;
        total += n;
    }
}

asio::awaitable<void> session(ServerContext& ctx, tcp::socket socket) {
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    HttpConnection conn(std::move(socket), std::chrono::duration_cast<std::chrono::seconds>(kWriteTimeout));
    asio::steady_timer timer(conn.socket().get_executor());
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(64 * 1024);
        parser.body_limit(static_cast<uint64_t>(ctx.config.max_body_bytes));
        timer.expires_after(kIdleTimeout);
        auto r = co_await (http::async_read_header(conn.socket(), conn.buffer(), parser, use_tuple) ||
                           timer.async_wait(use_tuple));
        if (r.index() == 1) break;  // idle
        auto [rec, n] = std::get<0>(r);
        if (!rec && !parser.is_done()) {
            // curl and others wait for "100 Continue" before sending a large body.
            if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
                static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
                auto w = co_await asio::async_write(conn.socket(), asio::buffer(kContinue, sizeof(kContinue) - 1), use_tuple);
                if (std::get<0>(w)) break;
            }
            auto body = co_await (http::async_read(conn.socket(), conn.buffer(), parser, use_tuple) ||
                                  timer.async_wait(use_tuple));
            if (body.index() == 1) break;  // too slow
            rec = std::get<0>(std::get<0>(body));
        }
        if (rec) {
            conn.begin_request(false);
            if (rec == http::error::body_limit) {
                ApiError e{413, fmt::format("Request body too large (limit {} bytes)", ctx.config.max_body_bytes),
                           "invalid_request_error", {}, "request_too_large"};
                co_await conn.send(413, "application/json", e.body());
                ctx.metrics->count_request("unmatched", 413, 0);
                co_await drain(conn);
            } else if (rec == http::error::header_limit) {
                co_await conn.send(431, "application/json",
                                   bad_request("Request headers too large").body());
            } else if (is_http_error(rec) && rec != http::error::end_of_stream && rec != http::error::partial_message) {
                co_await conn.send(400, "application/json",
                                   bad_request("Malformed HTTP request: " + rec.message()).body());
            }
            break;
        }
        HttpRequest req = parser.release();
        conn.begin_request(req.keep_alive(), req.version());
        std::string failure;
        try {
            co_await route_request(ctx, conn, req);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            // A handler bug must not take the server down; tell the client if we still can.
            if (conn.status_sent() == 0) {
                conn.begin_request(false);
                co_await conn.send(500, "application/json",
                                   server_error(500, "internal error: " + failure).body());
            }
            conn.close();
        }
        if (!conn.keep_alive()) break;
    }
    conn.close();
}

asio::awaitable<void> accept_loop(ServerContext& ctx, tcp::acceptor& acceptor, asio::io_context& ioc) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            // Out of descriptors and the like: back off instead of spinning.
            asio::steady_timer t(ioc, 50ms);
            co_await t.async_wait(use_tuple);
            continue;
        }
        auto ex = socket.get_executor();
        asio::co_spawn(ex, session(ctx, std::move(socket)), asio::detached);
    }
}

}  // namespace

Result<void> run_server(const ServerConfig& config, const std::function<void(const std::string&)>& on_listening) {
    if (auto ok = validate_config(config); !ok) return ok.error();
    auto registry = ModelRegistry::create(config);
    if (!registry) return registry.error();

    std::unique_ptr<SpeechRoutes> speech;
#ifdef HEARTH_SERVER_SPEECH
    auto created = SpeechRoutes::create(config);
    if (!created) return created.error();
    speech = std::move(*created);
#endif
    Metrics metrics;
    asio::thread_pool blocking(1);
    auto gate = std::make_shared<PostGate>();
    ServerContext ctx{config, registry->get(), &metrics, &blocking, gate, speech.get()};
    {
        asio::io_context ioc(config.http_threads);
        tcp::acceptor acceptor(ioc);
        error_code ec;
        auto address = asio::ip::make_address(config.host, ec);
        if (ec) {  // a name such as "localhost": its first address
            tcp::resolver resolver(ioc);
            auto found = resolver.resolve(config.host, "", ec);
            if (ec || found.empty()) return make_error(fmt::format("bad --host '{}': {}", config.host, ec.message()));
            address = found.begin()->endpoint().address();
        }
        const tcp::endpoint endpoint(address, static_cast<unsigned short>(config.port));
        acceptor.open(endpoint.protocol(), ec);
        if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(endpoint, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return make_error(fmt::format("cannot listen on {}:{}: {}", config.host, config.port, ec.message()));

        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const error_code& e, int) {
            if (!e) ioc.stop();
        });
        asio::co_spawn(ioc, accept_loop(ctx, acceptor, ioc), asio::detached);

        const auto bound = acceptor.local_endpoint();
        const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
        on_listening(fmt::format("http://{}:{}", host, bound.port()));

        std::vector<std::thread> threads;
        for (int i = 1; i < config.http_threads; ++i) threads.emplace_back([&] { ioc.run(); });
        ioc.run();
        for (auto& t : threads) t.join();
        // Engines that finish requests from now on must not post to the dying context.
        gate->close();
        // Work on the other pools (a model load, a synthesis) completes into this
        // context: wait for it while the context still exists.
        blocking.join();
#ifdef HEARTH_SERVER_SPEECH
        if (speech) speech->shutdown();
#endif
    }  // the io_context goes: suspended handlers drop their requests' models
    return {};
}

}  // namespace hearth::server
