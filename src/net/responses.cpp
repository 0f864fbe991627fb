#include "net/responses.h"

#include <fmt/format.h>

#include "net/sse.h"

namespace hearth::net {

asio::awaitable<bool> send_json(HttpConnection& conn, int status, const nlohmann::ordered_json& body) {
    co_return co_await conn.send(status, "application/json", dump_json(body));
}

asio::awaitable<bool> send_error(HttpConnection& conn, const ApiError& error) {
    co_return co_await conn.send(error.status, "application/json", error.body());
}

asio::awaitable<void> method_not_allowed(HttpConnection& conn, const char* allow) {
    const ApiError e{405, fmt::format("Method not allowed; use {}", allow), "invalid_request_error", {},
                     "method_not_allowed"};
    const HttpConnection::Headers headers{{"Allow", allow}};  // (g++ 12: no braced lists in co_await)
    co_await conn.send(405, "application/json", e.body(), headers);
}

asio::awaitable<void> unauthorized(HttpConnection& conn) {
    const ApiError e{401, "Incorrect API key provided", "invalid_request_error", {}, "invalid_api_key"};
    const HttpConnection::Headers headers{{"WWW-Authenticate", "Bearer"}};
    co_await conn.send(401, "application/json", e.body(), headers);
}

}  // namespace hearth::net
