#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/net.h"

namespace hearth::server {

using ojson = nlohmann::ordered_json;

struct ToolChoice {
    enum class Mode { None, Auto, Required, Named } mode = Mode::Auto;
    std::string name;  // Named
    bool forced() const { return mode == Mode::Required || mode == Mode::Named; }
};

// Validates `tools` (function tools with a name and optional JSON-schema parameters)
// and `tool_choice` ("none" | "auto" | "required" | {"type":"function","function":{"name"}}).
// `tools` is left null when absent.
std::optional<ApiError> parse_tools(const ojson& body, ojson& tools, ToolChoice& choice);

// When a call is forced the model's output is constrained to this schema:
// {"name": <one of the allowed tools>, "arguments": <its parameters>}, as llama.cpp
// forces the tool-call format with a grammar.
ojson forced_tool_call_schema(const ojson& tools, const ToolChoice& choice);

// The OpenAI tool call ({id, type:"function", function:{name, arguments}}) from the
// forced output; nullopt when the text is not a complete call (e.g. cut by max_tokens).
std::optional<ojson> forced_output_to_tool_call(const std::string& text);

}  // namespace hearth::server
