#pragma once

#include <string>

#include "server/server_context.h"

namespace hearth::server {

// Sends the response to one request: its id (X-Request-Id), auth, route and method
// matching, the handler, the request's line in /metrics and in the access log.
asio::awaitable<void> route_request(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req);

}  // namespace hearth::server
