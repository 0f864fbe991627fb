#pragma once

#include <string>

#include "server/server_context.h"

namespace hearth::server {

// Sends the response to one request: auth, route and method matching, the handler,
// and the request's line in /metrics.
asio::awaitable<void> route_request(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req);

// Percent-decodes a URL path; nullopt on malformed escapes or NUL bytes.
std::optional<std::string> url_decode_path(std::string_view path);

}  // namespace hearth::server
