#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hearth::net {

// JSON text that never throws: invalid UTF-8 (a token piece cut mid-character) becomes U+FFFD.
inline std::string dump_json(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// One server-sent event as OpenAI streams them: "data: <json>\n\n".
inline std::string sse_event(const nlohmann::ordered_json& j) { return "data: " + dump_json(j) + "\n\n"; }

inline const char* sse_done() { return "data: [DONE]\n\n"; }

}  // namespace hearth::net
