#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "net/asio.h"

namespace hearth::net {

// What handlers read from a request beyond Beast's parse.

// The request's X-Request-Id when it is sane (printable ASCII, at most 128 bytes),
// else a fresh "req-" + 16 hex digits.
std::string request_id(const HttpRequest& req);

// Whether the request carries "Authorization: Bearer <key>" (compared in constant time).
bool bearer_matches(const HttpRequest& req, std::string_view key);

// Percent-decodes a URL path; nullopt on malformed escapes or NUL bytes.
std::optional<std::string> url_decode_path(std::string_view path);

}  // namespace hearth::net
