#include "net/request.h"

#include <random>

#include <fmt/format.h>

#include "base/json_shape.h"

namespace hearth::net {

std::string request_id(const HttpRequest& req) {
    auto it = req.find("X-Request-Id");
    if (it != req.end()) {
        std::string_view v = it->value();
        bool sane = !v.empty() && v.size() <= 128;
        for (char c : v) sane = sane && c > 0x20 && c < 0x7f;
        if (sane) return std::string(v);
    }
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("req-{:016x}", rng());
}

bool bearer_matches(const HttpRequest& req, std::string_view key) {
    auto it = req.find(http::field::authorization);
    if (it == req.end()) return false;
    std::string_view v = it->value();
    constexpr std::string_view bearer = "Bearer ";
    if (v.size() < bearer.size() || !beast::iequals(v.substr(0, bearer.size()), bearer)) return false;
    v.remove_prefix(bearer.size());
    if (v.size() != key.size()) return false;
    unsigned char diff = 0;  // no early exit: the time does not depend on where they differ
    for (size_t i = 0; i < v.size(); ++i) diff |= static_cast<unsigned char>(v[i] ^ key[i]);
    return diff == 0;
}

std::variant<nlohmann::ordered_json, ApiError> parse_json_body(std::string_view body) {
    if (json_shape(body).max_object_keys > kMaxJsonKeys)
        return bad_request(fmt::format("the request body has an object with more than {} keys", kMaxJsonKeys));
    auto json = nlohmann::ordered_json::parse(body, nullptr, false);
    if (json.is_discarded()) return invalid_json_body();
    return json;
}

std::optional<std::string> url_decode_path(std::string_view path) {
    auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
    };
    std::string out;
    for (size_t i = 0; i < path.size(); ++i) {
        char c = path[i];
        if (c == '%') {
            if (i + 2 >= path.size()) return std::nullopt;
            const int hi = hex(path[i + 1]), lo = hex(path[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') return std::nullopt;
        out += c;
    }
    return out;
}

}  // namespace hearth::net
