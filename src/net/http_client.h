#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/asio.h"

namespace hearth::net {

// An http:// base URL such as "http://10.0.0.5:8080" or "http://host:8080/prefix".
struct Url {
    std::string host;
    std::string port = "80";
    std::string prefix;  // path before the routes, without a trailing slash ("" or "/prefix")

    // Errors name what is wrong ("https is not supported", "missing host", ...).
    static Result<Url> parse(std::string_view text);
    // The canonical spelling: "http://host:port/prefix" (the same node reads the same).
    std::string to_string() const;
};

struct ClientRequest {
    http::verb method = http::verb::get;
    std::string target;  // "/v1/models": appended to the URL's prefix
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // sent as application/json when not empty
};

struct ClientTimeouts {
    std::chrono::milliseconds connect{2000};
    std::chrono::milliseconds head{600000};  // until the response's head has arrived
    std::chrono::milliseconds idle{600000};  // between pieces of the body
};

// One request to an upstream HTTP/1.1 server on its own connection, its response body
// read piece by piece as the server sends it (chunked framing removed), so that event
// streams pass through without waiting for their end. Not thread-safe: use from one strand.
class ClientExchange {
public:
    // Connects, sends the request and reads the response head. Errors mean nothing
    // came back (refused, reset, timed out, not HTTP): safe to retry elsewhere.
    static asio::awaitable<Result<std::unique_ptr<ClientExchange>>> start(const asio::any_io_executor& ex, const Url& url,
                                                                         const ClientRequest& request,
                                                                         const ClientTimeouts& timeouts);
    ~ClientExchange();

    int status() const { return parser_.get().result_int(); }
    std::string header(http::field field) const { return std::string(parser_.get()[field]); }
    bool done() const { return parser_.is_done(); }

    // The next piece of the body as it arrives; "" once the body is complete.
    asio::awaitable<Result<std::string>> next();
    // The rest of the body, at most `limit` bytes.
    asio::awaitable<Result<std::string>> rest(size_t limit);
    // Drops the connection; a pending next() ends with an error.
    void cancel();

private:
    // The connection and the watchdog that closes it when the body goes silent for
    // `idle`: one timer for the whole exchange instead of one raced against every read.
    // Shared with the timer's handler, which may run after the exchange is gone.
    struct Link {
        Link(tcp::socket s, std::chrono::milliseconds idle_limit)
            : socket(std::move(s)), timer(socket.get_executor()), idle(idle_limit) {}
        tcp::socket socket;
        asio::steady_timer timer;
        std::chrono::milliseconds idle;
        std::chrono::steady_clock::time_point last_read;
        bool timed_out = false;
    };
    static void watch(const std::weak_ptr<Link>& weak, error_code ec);

    ClientExchange(tcp::socket socket, const ClientTimeouts& timeouts);

    std::shared_ptr<Link> link_;
    ClientTimeouts timeouts_;
    beast::flat_buffer buffer_;
    http::response_parser<http::buffer_body> parser_;
};

struct ClientResponse {
    int status = 0;
    std::string content_type;
    std::string body;
};

// A whole exchange: the response and its body (at most `limit` bytes).
asio::awaitable<Result<ClientResponse>> fetch(const asio::any_io_executor& ex, const Url& url,
                                              const ClientRequest& request, const ClientTimeouts& timeouts,
                                              size_t limit = 8u << 20);

}  // namespace hearth::net
