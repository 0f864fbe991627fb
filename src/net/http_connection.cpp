#include "net/http_connection.h"

#include <array>

#include <fmt/format.h>

namespace hearth::net {

using namespace asio::experimental::awaitable_operators;

namespace {
constexpr char kCrlf[] = "\r\n";
constexpr char kLastChunk[] = "0\r\n\r\n";
}  // namespace

HttpConnection::HttpConnection(tcp::socket socket, std::chrono::seconds write_timeout)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), write_timeout_(write_timeout) {}

void HttpConnection::begin_request(bool keep_alive, unsigned version) {
    keep_alive_ = keep_alive;
    chunked_ = version >= 11;
    status_ = 0;
    watch_peer_ = true;
    response_headers_.clear();
}

void HttpConnection::add_response_header(std::string name, std::string value) {
    response_headers_.emplace_back(std::move(name), std::move(value));
}

void HttpConnection::close() {
    broken_ = true;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
}

asio::awaitable<bool> HttpConnection::write_raw(std::vector<asio::const_buffer> buffers) {
    if (broken_) co_return false;
    timer_.expires_after(write_timeout_);
    auto r = co_await (asio::async_write(socket_, buffers, use_tuple) || timer_.async_wait(use_tuple));
    if (r.index() == 0 && !std::get<0>(std::get<0>(r))) co_return true;
    close();  // write failed or timed out: the client is gone or stuck
    co_return false;
}

asio::awaitable<bool> HttpConnection::send(int status, std::string_view content_type, std::string body,
                                           const Headers& headers) {
    status_ = status;
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "hearth");
    res.set(http::field::content_type, content_type);
    for (const auto& [k, v] : response_headers_) res.set(k, v);
    for (const auto& [k, v] : headers) res.set(k, v);
    res.keep_alive(keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    http::response_serializer<http::string_body> sr{res};
    if (broken_) co_return false;
    timer_.expires_after(write_timeout_);
    auto r = co_await (http::async_write(socket_, sr, use_tuple) || timer_.async_wait(use_tuple));
    if (r.index() == 0 && !std::get<0>(std::get<0>(r))) co_return true;
    close();
    co_return false;
}

asio::awaitable<bool> HttpConnection::begin_stream(int status, std::string_view content_type) {
    status_ = status;
    if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the end of the stream is the end of the connection
    std::string extra;
    for (const auto& [k, v] : response_headers_) extra += fmt::format("{}: {}\r\n", k, v);
    std::string head = fmt::format(
        "HTTP/1.1 {} {}\r\nServer: hearth\r\nContent-Type: {}\r\nCache-Control: no-cache\r\n{}{}Connection: {}\r\n\r\n",
        status, std::string(http::obsolete_reason(static_cast<http::status>(status))), content_type, extra,
        chunked_ ? "Transfer-Encoding: chunked\r\n" : "", keep_alive() ? "keep-alive" : "close");
    std::vector<asio::const_buffer> buffers{asio::buffer(head)};  // (g++ 12: no braced lists in co_await)
    co_return co_await write_raw(std::move(buffers));
}

asio::awaitable<bool> HttpConnection::write_chunk(std::string_view data) {
    if (data.empty()) co_return !broken_;  // an empty chunk would end the stream
    if (!chunked_) {
        std::vector<asio::const_buffer> raw{asio::buffer(data.data(), data.size())};
        co_return co_await write_raw(std::move(raw));
    }
    const std::string size = fmt::format("{:x}\r\n", data.size());
    std::vector<asio::const_buffer> buffers{asio::buffer(size), asio::buffer(data.data(), data.size()),
                                            asio::buffer(kCrlf, 2)};
    co_return co_await write_raw(std::move(buffers));
}

asio::awaitable<bool> HttpConnection::end_stream() {
    if (!chunked_) co_return !broken_;
    std::vector<asio::const_buffer> buffers{asio::buffer(kLastChunk, 5)};
    co_return co_await write_raw(std::move(buffers));
}

asio::awaitable<HttpConnection::WaitResult> HttpConnection::wait(Doorbell& bell,
                                                                 std::chrono::steady_clock::time_point deadline) {
    if (broken_) co_return WaitResult::ClientGone;
    timer_.expires_at(deadline);
    if (!watch_peer_) {
        auto r = co_await (bell.async_receive(use_tuple) || timer_.async_wait(use_tuple));
        co_return r.index() == 0 ? WaitResult::Rung : WaitResult::Deadline;
    }
    // A read that completes means the peer closed (or sent more requests early).
    std::array<char, 4096> scratch;
    auto r = co_await (bell.async_receive(use_tuple) || timer_.async_wait(use_tuple) ||
                       socket_.async_read_some(asio::buffer(scratch), use_tuple));
    if (r.index() == 0) co_return WaitResult::Rung;
    if (r.index() == 1) co_return WaitResult::Deadline;
    auto [ec, n] = std::get<2>(r);
    if (ec) {
        close();
        co_return WaitResult::ClientGone;
    }
    // Pipelined bytes of the next request: keep them for the next read, stop watching.
    auto dst = buffer_.prepare(n);
    asio::buffer_copy(dst, asio::buffer(scratch.data(), n));
    buffer_.commit(n);
    watch_peer_ = false;
    co_return WaitResult::Rung;  // spurious wake-up; the caller re-checks its events
}

asio::awaitable<void> HttpConnection::peer_closed() {
    asio::steady_timer forever(socket_.get_executor(), std::chrono::steady_clock::time_point::max());
    if (broken_) co_return;
    if (watch_peer_) {
        std::array<char, 4096> scratch;
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(scratch), use_tuple);
        if (ec == asio::error::operation_aborted) co_return;  // raced and lost: cancelled
        if (ec) {
            close();
            co_return;
        }
        // Pipelined bytes of the next request: keep them, and stop watching.
        auto dst = buffer_.prepare(n);
        asio::buffer_copy(dst, asio::buffer(scratch.data(), n));
        buffer_.commit(n);
        watch_peer_ = false;
    }
    co_await forever.async_wait(use_tuple);
}

}  // namespace hearth::net
