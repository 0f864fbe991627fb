#include "net/errors.h"

namespace hearth::net {

nlohmann::ordered_json ApiError::to_json() const {
    nlohmann::ordered_json e;
    e["message"] = message;
    e["type"] = type;
    e["param"] = param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param);
    e["code"] = code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(code);
    return nlohmann::ordered_json{{"error", std::move(e)}};
}

std::string ApiError::body() const {
    return to_json().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

ApiError bad_request(std::string message, std::string param, std::string code) {
    return ApiError{400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

ApiError invalid_json_body() {
    return bad_request("We could not parse the JSON body of your request: it is not valid JSON");
}

ApiError not_found(std::string message, std::string code) {
    return ApiError{404, std::move(message), "invalid_request_error", {}, std::move(code)};
}

ApiError server_error(int status, std::string message, std::string code) {
    return ApiError{status, std::move(message), "server_error", {}, std::move(code)};
}

}  // namespace hearth::net
