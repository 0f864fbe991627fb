// hearth/net — HTTP/1.1 plumbing shared by `hearth serve` and `hearth gateway`, on
// Boost.Beast and C++20 coroutines: a listener that parses requests and hands each to
// a handler (a few I/O threads serve every connection, no thread per client), the
// connection the handler answers on (whole responses, chunked SSE streams, noticing a
// client that went away), OpenAI-shaped error objects, and a client for upstream
// servers that reads their bodies as they arrive. It knows nothing of models.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "net/access_log.h"
#include "net/asio.h"
#include "net/http_connection.h"

namespace hearth::net {

struct ListenOptions {
    std::string host = "127.0.0.1";  // an address or a name (its first address)
    int port = 8080;                 // 0: any free port
    int64_t max_body_bytes = 8 << 20;
};

// Answers one parsed request. Exceptions become a 500 error object and close the connection.
using RequestHandler = std::function<asio::awaitable<void>(HttpConnection&, const HttpRequest&)>;
// A request refused before a handler saw it (413 body too large, 431 headers too large,
// 400 malformed): what the access log and metrics need. The response carried `id` as
// X-Request-Id, as every response does.
struct RefusedRequest {
    int status = 0;
    std::string id;
    std::string method;  // empty where the request line was not readable
    std::string target;

    // The access log's view: the target as the route (the log line sanitizes it).
    AccessRecord access_record() const {
        AccessRecord r;
        r.id = id;
        r.method = method.empty() ? "-" : method;
        r.route = target.empty() ? "-" : target;
        r.status = status;
        return r;
    }
};
using RefusedHook = std::function<void(const RefusedRequest&)>;

// A bound socket and its accept loop. Must outlive the io_context's run.
class Listener {
public:
    static Result<std::unique_ptr<Listener>> open(asio::io_context& ioc, const ListenOptions& options);

    // "http://127.0.0.1:8080", with the port actually bound.
    std::string address() const;
    // Starts accepting; each connection runs on its own strand of the io_context.
    void start(RequestHandler handler, RefusedHook on_refused = {});
    // Stops accepting: at shutdown, so that nobody connects to a server that will not answer.
    // close() once the io_context has stopped; close_async() while it runs.
    void close();
    void close_async();
    // Requests whose handler is running.
    int active_requests() const { return active_.load(); }
    // From now on a connection closes after its current request (no keep-alive).
    void start_draining() { draining_ = true; }

private:
    Listener(asio::io_context& ioc, const ListenOptions& options);
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> session(tcp::socket socket);

    asio::io_context& ioc_;
    ListenOptions options_;
    tcp::acceptor acceptor_;
    RequestHandler handler_;
    RefusedHook on_refused_;
    std::atomic<int> active_{0};
    std::atomic<bool> draining_{false};
};

// Runs `ioc` on `threads` threads until SIGINT or SIGTERM, then stops it. With a
// `listener` and a `drain` time, SIGTERM only closes the listener and lets the running
// requests finish (streams included) for up to that long; another signal, or SIGINT,
// stops at once.
// `on_drain` runs (on an I/O thread) when draining begins.
void run_until_signal(asio::io_context& ioc, int threads, Listener* listener = nullptr,
                      std::chrono::milliseconds drain = {}, std::function<void()> on_drain = {});

}  // namespace hearth::net
