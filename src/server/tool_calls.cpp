#include "server/tool_calls.h"

#include <fmt/format.h>

#include "server/openai_params.h"

namespace hearth::server {
namespace {
// j[key] when it is a string, else "" (json::value() throws on a wrong type).
std::string string_field(const ojson& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

std::optional<ApiError> parse_tools(const ojson& body, ojson& tools, ToolChoice& choice) {
    tools = nullptr;
    auto it = body.find("tools");
    if (it != body.end() && !it->is_null()) {
        if (!it->is_array()) return bad_request("'tools' must be an array", "tools");
        for (size_t i = 0; i < it->size(); ++i) {
            const auto& t = (*it)[i];
            const std::string param = fmt::format("tools[{}]", i);
            if (!t.is_object() || string_field(t, "type") != "function") {
                return bad_request("each tool must be an object with type 'function'", param + ".type");
            }
            auto fn = t.find("function");
            if (fn == t.end() || !fn->is_object()) return bad_request("tool 'function' must be an object", param + ".function");
            auto name = fn->find("name");
            if (name == fn->end() || !name->is_string() || name->get<std::string>().empty()) {
                return bad_request("tool function 'name' must be a non-empty string", param + ".function.name");
            }
            auto params = fn->find("parameters");
            if (params != fn->end() && !params->is_null() && !params->is_object()) {
                return bad_request("tool function 'parameters' must be a JSON schema object",
                                   param + ".function.parameters");
            }
        }
        if (!it->empty()) tools = *it;
    }
    choice = ToolChoice{};
    auto tc = body.find("tool_choice");
    if (tc == body.end() || tc->is_null()) {
        choice.mode = tools.is_null() ? ToolChoice::Mode::None : ToolChoice::Mode::Auto;
        return std::nullopt;
    }
    if (tc->is_string()) {
        const auto s = tc->get<std::string>();
        if (s == "none") {
            choice.mode = ToolChoice::Mode::None;
        } else if (s == "auto") {
            choice.mode = ToolChoice::Mode::Auto;
        } else if (s == "required") {
            choice.mode = ToolChoice::Mode::Required;
        } else {
            return bad_request("'tool_choice' must be none, auto, required or a function", "tool_choice");
        }
    } else if (tc->is_object()) {
        auto fn = tc->find("function");
        if (string_field(*tc, "type") != "function" || fn == tc->end() || !fn->is_object() || !fn->contains("name") ||
            !(*fn)["name"].is_string()) {
            return bad_request("'tool_choice' object must be {\"type\":\"function\",\"function\":{\"name\":...}}",
                               "tool_choice");
        }
        choice.mode = ToolChoice::Mode::Named;
        choice.name = (*fn)["name"].get<std::string>();
    } else {
        return bad_request("'tool_choice' must be a string or an object", "tool_choice");
    }
    if (choice.mode != ToolChoice::Mode::None && tools.is_null()) {
        if (choice.mode == ToolChoice::Mode::Auto) {
            choice.mode = ToolChoice::Mode::None;
            return std::nullopt;
        }
        return bad_request("'tool_choice' needs 'tools'", "tool_choice");
    }
    if (choice.mode == ToolChoice::Mode::Named) {
        bool found = false;
        for (const auto& t : tools) found = found || t["function"]["name"] == choice.name;
        if (!found) return bad_request(fmt::format("tool_choice names '{}', which is not in 'tools'", choice.name), "tool_choice");
    }
    return std::nullopt;
}

ojson forced_tool_call_schema(const ojson& tools, const ToolChoice& choice) {
    ojson alternatives = ojson::array();
    for (const auto& t : tools) {
        const auto& fn = t["function"];
        const std::string name = fn["name"].get<std::string>();
        if (choice.mode == ToolChoice::Mode::Named && name != choice.name) continue;
        ojson params = fn.contains("parameters") && fn["parameters"].is_object() ? fn["parameters"]
                                                                                 : ojson{{"type", "object"}};
        ojson alt = {{"type", "object"},
                     {"properties", {{"name", {{"const", name}}}, {"arguments", params}}},
                     {"required", {"name", "arguments"}},
                     {"additionalProperties", false}};
        alternatives.push_back(std::move(alt));
    }
    if (alternatives.size() == 1) return alternatives[0];
    return ojson{{"anyOf", std::move(alternatives)}};
}

std::optional<ojson> forced_output_to_tool_call(const std::string& text) {
    auto j = ojson::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    auto name = j.find("name");
    if (name == j.end() || !name->is_string()) return std::nullopt;
    auto args = j.find("arguments");
    const std::string arguments = args == j.end() ? "{}" : args->dump();
    return ojson{{"id", random_id("call_")},
                 {"type", "function"},
                 {"function", {{"name", name->get<std::string>()}, {"arguments", arguments}}}};
}

}  // namespace hearth::server
