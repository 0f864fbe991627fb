#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hearth::net {

// An OpenAI-style error: the HTTP status and the body
// {"error":{"message","type","param","code"}}. Handlers return these as values.
struct ApiError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";
    std::string param;  // empty -> null
    std::string code;   // empty -> null

    nlohmann::ordered_json to_json() const;
    // to_json() as text; never throws (messages may quote request bytes that are not
    // UTF-8, such as a percent-decoded path: those become U+FFFD).
    std::string body() const;
};

ApiError bad_request(std::string message, std::string param = {}, std::string code = {});
// 400 for a request body that is not JSON.
ApiError invalid_json_body();
ApiError not_found(std::string message, std::string code = {});
ApiError server_error(int status, std::string message, std::string code = {});

}  // namespace hearth::net
