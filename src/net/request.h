#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <variant>

#include <nlohmann/json.hpp>

#include "net/asio.h"
#include "net/errors.h"

namespace hearth::net {

// What handlers read from a request beyond Beast's parse.

// The request's X-Request-Id when it is sane (printable ASCII, at most 128 bytes),
// else a fresh "req-" + 16 hex digits.
std::string request_id(const HttpRequest& req);

// Whether the request carries "Authorization: Bearer <key>" (compared in constant time).
bool bearer_matches(const HttpRequest& req, std::string_view key);

// A request body as JSON that keeps its keys' order; an error object (400) for a body that
// is not JSON, or holds an object with more than kMaxJsonKeys keys: ordered_json inserts
// each key with a scan of the keys before it, so such a body would cost quadratic time.
constexpr int kMaxJsonKeys = 4096;
std::variant<nlohmann::ordered_json, ApiError> parse_json_body(std::string_view body);

// Percent-decodes a URL path; nullopt on malformed escapes or NUL bytes.
std::optional<std::string> url_decode_path(std::string_view path);

}  // namespace hearth::net
