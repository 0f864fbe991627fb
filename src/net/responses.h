#pragma once

#include <nlohmann/json.hpp>

#include "net/asio.h"
#include "net/errors.h"
#include "net/http_connection.h"

namespace hearth::net {

// Whole responses every route table sends. Each returns (or ends) false/early when the
// client is gone, as HttpConnection::send does.

asio::awaitable<bool> send_json(HttpConnection& conn, int status, const nlohmann::ordered_json& body);
asio::awaitable<bool> send_error(HttpConnection& conn, const ApiError& error);
// 405 with the Allow header naming the method the route takes.
asio::awaitable<void> method_not_allowed(HttpConnection& conn, const char* allow);
// 401 invalid_api_key with WWW-Authenticate: Bearer.
asio::awaitable<void> unauthorized(HttpConnection& conn);

}  // namespace hearth::net
