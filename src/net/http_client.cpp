#include "net/http_client.h"

#include <array>

#include <boost/asio/connect.hpp>

#include <fmt/format.h>

namespace hearth::net {
namespace {

using namespace asio::experimental::awaitable_operators;

bool valid_port(std::string_view p) {
    if (p.empty() || p.size() > 5) return false;
    int v = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    return v > 0 && v < 65536;
}

}  // namespace

Result<Url> Url::parse(std::string_view text) {
    constexpr std::string_view scheme = "http://";
    if (text.rfind("https://", 0) == 0) return make_error(fmt::format("'{}': https is not supported; use http://", text));
    if (text.rfind(scheme, 0) != 0) return make_error(fmt::format("'{}': not an http:// URL", text));
    std::string_view rest = text.substr(scheme.size());
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (path.find_first_of("?#") != std::string_view::npos)
        return make_error(fmt::format("'{}': a base URL has no query or fragment", text));
    if (authority.find('@') != std::string_view::npos)
        return make_error(fmt::format("'{}': credentials in the URL are not supported; use an API key", text));
    Url url;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {  // [v6]:port
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) return make_error(fmt::format("'{}': unclosed [ in host", text));
        url.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return make_error(fmt::format("'{}': bad host", text));
            port = after.substr(1);
        }
    } else {
        const size_t colon = authority.rfind(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (url.host.empty()) return make_error(fmt::format("'{}': missing host", text));
    if (!port.empty() || authority.find(':') != std::string_view::npos) {
        if (!valid_port(port)) return make_error(fmt::format("'{}': bad port '{}'", text, port));
        url.port = std::string(port);
    }
    url.prefix = std::string(path);
    return url;
}

std::string Url::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("http://{}{}{}:{}{}", v6 ? "[" : "", host, v6 ? "]" : "", port, prefix);
}

ClientExchange::ClientExchange(tcp::socket socket, const ClientTimeouts& timeouts)
    : link_(std::make_shared<Link>(std::move(socket), timeouts.idle)), timeouts_(timeouts) {
    parser_.body_limit(boost::none);
}

ClientExchange::~ClientExchange() { cancel(); }

void ClientExchange::cancel() {
    error_code ec;
    link_->socket.shutdown(tcp::socket::shutdown_both, ec);
    link_->socket.close(ec);
    link_->timer.cancel();
}

void ClientExchange::watch(const std::weak_ptr<Link>& weak, error_code ec) {
    if (ec) return;  // cancelled: the exchange ended
    auto link = weak.lock();
    if (!link) return;
    const auto due = link->last_read + link->idle;
    if (std::chrono::steady_clock::now() >= due) {
        link->timed_out = true;
        link->socket.close(ec);  // the pending read fails
        return;
    }
    link->timer.expires_at(due);
    link->timer.async_wait([weak](error_code e) { watch(weak, e); });
}

asio::awaitable<Result<std::unique_ptr<ClientExchange>>> ClientExchange::start(const asio::any_io_executor& ex,
                                                                              const Url& url,
                                                                              const ClientRequest& request,
                                                                              const ClientTimeouts& timeouts) {
    using Out = Result<std::unique_ptr<ClientExchange>>;
    const std::string where = url.to_string();
    asio::steady_timer timer(ex);
    timer.expires_after(timeouts.connect);
    // No timer races the lookup: g++ 12 mishandles the non-trivial result of such a race.
    // Addresses need no lookup; names are resolved by the system's resolver and its timeouts.
    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(url.host, url.port, use_tuple);
    if (rec) co_return Out(make_error(fmt::format("{}: {}", where, rec.message())));
    tcp::socket socket(ex);
    auto connected = co_await (asio::async_connect(socket, endpoints, use_tuple) || timer.async_wait(use_tuple));
    if (connected.index() == 1) co_return Out(make_error(fmt::format("{}: connect timed out", where)));
    if (auto ec = std::get<0>(std::get<0>(connected))) co_return Out(make_error(fmt::format("{}: {}", where, ec.message())));
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);

    std::unique_ptr<ClientExchange> x(new ClientExchange(std::move(socket), timeouts));
    http::request<http::string_body> req{request.method, url.prefix + request.target, 11};
    const bool v6 = url.host.find(':') != std::string::npos;
    req.set(http::field::host, (v6 ? "[" + url.host + "]" : url.host) + ":" + url.port);
    req.set(http::field::user_agent, "hearth");
    req.set(http::field::connection, "close");
    if (!request.body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : request.headers) req.set(k, v);
    req.body() = request.body;
    req.prepare_payload();
    timer.expires_after(timeouts.head);
    auto written = co_await (http::async_write(x->link_->socket, req, use_tuple) || timer.async_wait(use_tuple));
    if (written.index() == 1) co_return Out(make_error(fmt::format("{}: sending the request timed out", where)));
    if (auto ec = std::get<0>(std::get<0>(written))) co_return Out(make_error(fmt::format("{}: {}", where, ec.message())));
    auto head = co_await (http::async_read_header(x->link_->socket, x->buffer_, x->parser_, use_tuple) ||
                          timer.async_wait(use_tuple));
    if (head.index() == 1) co_return Out(make_error(fmt::format("{}: no response within the time limit", where)));
    if (auto ec = std::get<0>(std::get<0>(head))) {
        co_return Out(make_error(fmt::format("{}: {}", where, ec == http::error::end_of_stream
                                                                  ? std::string("closed the connection without a response")
                                                                  : ec.message())));
    }
    co_return Out(std::move(x));
}

asio::awaitable<Result<std::string>> ClientExchange::next() {
    using Out = Result<std::string>;
    std::array<char, 16384> piece;
    Link& link = *link_;
    if (link.last_read == std::chrono::steady_clock::time_point{}) {
        link.last_read = std::chrono::steady_clock::now();
        watch(link_, {});  // the first body read starts the watchdog
    }
    while (!parser_.is_done()) {
        parser_.get().body().data = piece.data();
        parser_.get().body().size = piece.size();
        link.last_read = std::chrono::steady_clock::now();
        auto [ec, n] = co_await http::async_read_some(link.socket, buffer_, parser_, use_tuple);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
            if (link.timed_out) co_return Out(make_error("the upstream went silent"));
            co_return Out(make_error(ec == http::error::partial_message || ec == http::error::end_of_stream
                                         ? std::string("the upstream closed the connection mid-response")
                                         : ec.message()));
        }
        const size_t got = piece.size() - parser_.get().body().size;
        if (got > 0) co_return Out(std::string(piece.data(), got));
    }
    co_return Out(std::string());
}

asio::awaitable<Result<std::string>> ClientExchange::rest(size_t limit) {
    std::string body;
    for (;;) {
        auto piece = co_await next();
        if (!piece) co_return piece;
        if (piece->empty()) co_return Result<std::string>(std::move(body));
        if (body.size() + piece->size() > limit) co_return Result<std::string>(make_error("response too large"));
        body += *piece;
    }
}

asio::awaitable<Result<ClientResponse>> fetch(const asio::any_io_executor& ex, const Url& url,
                                              const ClientRequest& request, const ClientTimeouts& timeouts,
                                              size_t limit) {
    auto x = co_await ClientExchange::start(ex, url, request, timeouts);
    if (!x) co_return Result<ClientResponse>(x.error());
    ClientResponse out;
    out.status = (*x)->status();
    out.content_type = (*x)->header(http::field::content_type);
    auto body = co_await (*x)->rest(limit);
    if (!body) co_return Result<ClientResponse>(body.error());
    out.body = std::move(*body);
    co_return Result<ClientResponse>(std::move(out));
}

}  // namespace hearth::net
