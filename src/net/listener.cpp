#include "net/listener.h"

#include <cstdio>

#include <csignal>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include <fmt/format.h>

#include "net/errors.h"
#include "net/request.h"

namespace hearth::net {
namespace {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

constexpr auto kIdleTimeout = 60s;    // between requests on a kept-alive connection
constexpr auto kWriteTimeout = 120s;  // a client that reads nothing for this long is dropped

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

}  // namespace

Listener::Listener(asio::io_context& ioc, const ListenOptions& options)
    : ioc_(ioc), options_(options), acceptor_(asio::make_strand(ioc)) {}

Result<std::unique_ptr<Listener>> Listener::open(asio::io_context& ioc, const ListenOptions& options) {
    std::unique_ptr<Listener> l(new Listener(ioc, options));
    error_code ec;
    auto address = asio::ip::make_address(options.host, ec);
    if (ec) {  // a name such as "localhost": its first address
        tcp::resolver resolver(ioc);
        auto found = resolver.resolve(options.host, "", ec);
        if (ec || found.empty()) return make_error(fmt::format("bad --host '{}': {}", options.host, ec.message()));
        address = found.begin()->endpoint().address();
    }
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    l->acceptor_.open(endpoint.protocol(), ec);
    if (!ec) l->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l->acceptor_.bind(endpoint, ec);
    if (!ec) l->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error(fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()));
    return l;
}

std::string Listener::address() const {
    error_code ec;
    const auto bound = acceptor_.local_endpoint(ec);
    const std::string host =
        bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
    return fmt::format("http://{}:{}", host, bound.port());
}

void Listener::start(RequestHandler handler, RefusedHook on_refused) {
    handler_ = std::move(handler);
    on_refused_ = std::move(on_refused);
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);  // the acceptor's strand
}

void Listener::close() {
    error_code ec;
    acceptor_.close(ec);
}

void Listener::close_async() {
    asio::post(acceptor_.get_executor(), [this] { close(); });
}

asio::awaitable<void> Listener::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_tuple);
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        if (ec) {
            // Out of descriptors and the like: back off instead of spinning.
            asio::steady_timer t(ioc_, 50ms);
            co_await t.async_wait(use_tuple);
            continue;
        }
        auto ex = socket.get_executor();
        asio::co_spawn(ex, session(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> Listener::session(tcp::socket socket) {
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    HttpConnection conn(std::move(socket), std::chrono::duration_cast<std::chrono::seconds>(kWriteTimeout));
    asio::steady_timer timer(conn.socket().get_executor());
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(64 * 1024);
        parser.body_limit(static_cast<uint64_t>(options_.max_body_bytes));
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
            // Whatever of the request was read names it in the log and the response.
            RefusedRequest refused{0, request_id(parser.get()), std::string(parser.get().method_string()),
                                   std::string(parser.get().target())};
            conn.add_response_header("X-Request-Id", refused.id);
            if (rec == http::error::body_limit) {
                ApiError e{413, fmt::format("Request body too large (limit {} bytes)", options_.max_body_bytes),
                           "invalid_request_error", {}, "request_too_large"};
                co_await conn.send(413, "application/json", e.body());
                refused.status = 413;
            } else if (rec == http::error::header_limit) {
                co_await conn.send(431, "application/json", bad_request("Request headers too large").body());
                refused.status = 431;
            } else if (is_http_error(rec) && rec != http::error::end_of_stream && rec != http::error::partial_message) {
                co_await conn.send(400, "application/json", bad_request("Malformed HTTP request: " + rec.message()).body());
                refused.status = 400;
            }
            if (refused.status != 0 && on_refused_) on_refused_(refused);
            if (refused.status == 413) co_await drain(conn);
            break;
        }
        HttpRequest req = parser.release();
        conn.begin_request(req.keep_alive() && !draining_, req.version());
        std::string failure;
        ++active_;
        try {
            co_await handler_(conn, req);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        --active_;
        if (!failure.empty()) {
            // A handler bug must not take the server down; tell the client if we still can.
            if (conn.status_sent() == 0) {
                conn.begin_request(false);
                co_await conn.send(500, "application/json", server_error(500, "internal error: " + failure).body());
            }
            conn.close();
        }
        if (!conn.keep_alive()) break;
    }
    conn.close();
}

namespace {

// Checks every 50 ms whether the running requests are done or the time is up.
void stop_when_idle(asio::io_context& ioc, Listener& listener, std::shared_ptr<asio::steady_timer> timer,
                    std::chrono::steady_clock::time_point deadline) {
    if (listener.active_requests() == 0 || std::chrono::steady_clock::now() >= deadline) {
        ioc.stop();
        return;
    }
    timer->expires_after(std::chrono::milliseconds(50));
    timer->async_wait([&ioc, &listener, timer, deadline](const error_code& e) {
        if (!e) stop_when_idle(ioc, listener, timer, deadline);
    });
}

}  // namespace

void run_until_signal(asio::io_context& ioc, int threads, Listener* listener, std::chrono::milliseconds drain,
                      std::function<void()> on_drain) {
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    std::function<void(const error_code&, int)> on_signal = [&](const error_code& e, int signal) {
        if (e) return;
        // Ctrl-C at a terminal means now; SIGTERM (systemd, a supervisor) means gracefully.
        if (!listener || drain.count() <= 0 || signal == SIGINT) {
            ioc.stop();
            return;
        }
        std::fprintf(stderr, "draining: %d requests running, up to %.0f s (signal again to stop now)\n",
                     listener->active_requests(), drain.count() / 1000.0);
        listener->close_async();
        listener->start_draining();
        if (on_drain) on_drain();
        stop_when_idle(ioc, *listener, std::make_shared<asio::steady_timer>(ioc), std::chrono::steady_clock::now() + drain);
        signals.async_wait([&](const error_code& again, int) {
            if (!again) ioc.stop();
        });
    };
    signals.async_wait(on_signal);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
}

}  // namespace hearth::net
