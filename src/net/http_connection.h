#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/asio.h"

namespace hearth::net {

// One client connection as the handlers see it: whole responses, chunked streams
// (server-sent events), and waiting for generation events while noticing a client
// that went away. Lives on one strand; every call must come from it.
class HttpConnection {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;

    HttpConnection(tcp::socket socket, std::chrono::seconds write_timeout);

    tcp::socket& socket() { return socket_; }
    beast::flat_buffer& buffer() { return buffer_; }

    // Prepares for the next request: keep-alive as the client asked; HTTP/1.0 clients
    // (version 10) get streams without chunked framing, ended by closing. Clears the
    // response headers set for the previous request.
    void begin_request(bool keep_alive, unsigned version = 11);
    // A header for every response to the current request (whole, stream or error), such
    // as X-Request-Id. The value must hold no CR or LF.
    void add_response_header(std::string name, std::string value);
    bool keep_alive() const { return keep_alive_ && !broken_; }
    bool broken() const { return broken_; }
    int status_sent() const { return status_; }

    // Each returns false when the client is gone (the connection is then closed).
    asio::awaitable<bool> send(int status, std::string_view content_type, std::string body,
                               const Headers& headers = {});
    asio::awaitable<bool> begin_stream(int status, std::string_view content_type);
    asio::awaitable<bool> write_chunk(std::string_view data);
    asio::awaitable<bool> end_stream();

    enum class WaitResult { Rung, Deadline, ClientGone };
    // Waits for the doorbell, the deadline, or the peer closing its side. A peer that
    // only half-closes (shutdown(SHUT_WR)) while its request runs counts as gone too:
    // TCP cannot tell the two apart without writing, as llama.cpp and Go's server find.
    asio::awaitable<WaitResult> wait(Doorbell& bell, std::chrono::steady_clock::time_point deadline);

    // Completes only when the client closes its side (then the connection is closed);
    // meant to be raced (operator||) against other work, which cancels it.
    asio::awaitable<void> peer_closed();

    void close();

private:
    asio::awaitable<bool> write_raw(std::vector<asio::const_buffer> buffers);

    tcp::socket socket_;
    beast::flat_buffer buffer_;
    asio::steady_timer timer_;
    std::chrono::seconds write_timeout_;
    bool keep_alive_ = true;
    bool broken_ = false;
    bool watch_peer_ = true;  // false once the client pipelined data we must not consume twice
    bool chunked_ = true;     // false for HTTP/1.0 clients: streams end by closing
    int status_ = 0;
    Headers response_headers_;  // for the current request's response
};

}  // namespace hearth::net
