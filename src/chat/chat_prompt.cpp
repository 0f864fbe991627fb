// OpenAI chat messages -> the model's prompt text. The messages are checked and put in the
// shape Hugging Face chat templates expect (as transformers and llama.cpp hand them over),
// then rendered with the model's `tokenizer.chat_template` by hearth_template.
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

#include "chat/chat.h"
#include "template/template.h"

namespace hearth::chat {

namespace {

using json = nlohmann::ordered_json;

// Used when the model carries no template: ChatML, with tools and tool calls written the
// Hermes way (which detect_tool_call_format then recognises).
constexpr std::string_view kChatMlTemplate = R"JINJA({%- if tools %}
{{- '<|im_start|>system\n' }}
{%- if messages[0].role == 'system' %}{{- messages[0].content + '\n\n' }}{%- endif %}
{{- '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' }}
{%- for tool in tools %}{{- '\n' + (tool | tojson) }}{%- endfor %}
{{- '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' }}
{%- elif messages[0].role == 'system' %}
{{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
{%- if message.role == 'system' and loop.first %}
{%- elif message.role == 'tool' %}
{{- '<|im_start|>user\n<tool_response>\n' + message.content + '\n</tool_response><|im_end|>\n' }}
{%- else %}
{{- '<|im_start|>' + message.role + '\n' + message.content }}
{%- if message.tool_calls %}
{%- for tool_call in message.tool_calls %}
{%- if message.content or not loop.first %}{{- '\n' }}{%- endif %}
{{- '<tool_call>\n{"name": "' + tool_call.function.name + '", "arguments": ' + (tool_call.function.arguments | tojson) + '}\n</tool_call>' }}
{%- endfor %}
{%- endif %}
{{- '<|im_end|>\n' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %})JINJA";

std::string where(size_t i) { return "messages[" + std::to_string(i) + "]"; }

// Content as the templates want it: a string. Text parts are joined with newlines (as
// llama.cpp does for templates that take plain strings); null becomes "".
Result<std::string> content_text(const json& content, const std::string& at) {
    if (content.is_null()) return std::string();
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array())
        return make_error(at + ".content must be a string or an array of content parts, not " +
                          std::string(content.type_name()));
    std::string text;
    for (size_t i = 0; i < content.size(); ++i) {
        const json& part = content[i];
        std::string part_at = at + ".content[" + std::to_string(i) + "]";
        if (!part.is_object()) return make_error(part_at + " must be an object");
        auto type = part.find("type");
        if (type == part.end() || !type->is_string()) return make_error(part_at + " has no string 'type'");
        if (*type != "text")
            return make_error(part_at + ": content parts of type '" + type->get<std::string>() +
                              "' are not supported (only 'text')");
        auto t = part.find("text");
        if (t == part.end() || !t->is_string()) return make_error(part_at + " has no string 'text'");
        if (i > 0) text += '\n';
        text += t->get<std::string>();
    }
    return text;
}

// Mistral's templates insist on tool-call ids of exactly nine alphanumerics; other ids
// (ours are "call_" + 24) are mapped to nine-character ones, the same id to the same.
bool is_nine_alnum(const std::string& id) {
    if (id.size() != 9) return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    return true;
}

std::string nine_char_id(const std::string& id) {
    if (is_nine_alnum(id)) return id;
    static constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
    std::string out(9, 'a');
    for (char& c : out) {
        c = kAlnum[h % 62];
        h = h / 62 + (h % 62) * 0x9E3779B97F4A7C15ull;
    }
    return out;
}

// How a template wants the parts of tool-call history that OpenAI and Hugging Face spell
// differently. Transformers' convention is arguments as objects (templates `tojson` them)
// and content null when an assistant message only calls tools; some templates instead
// concatenate arguments as strings, or fail on null content, or render tool calls only
// when content is none. Like llama.cpp, we find out by rendering a probe conversation.
struct TemplateStyle {
    bool nine_char_ids = false;      // Mistral: tool-call ids of exactly nine alphanumerics
    bool object_arguments = true;
    bool null_call_content = false;  // content of tool-call-only assistant messages: null, not ""
    bool merge_system = false;       // no system role (Gemma): system text goes into the next user turn
};

bool shows_needle(const Result<std::string>& out) {
    if (!out.ok()) return false;
    // The argument must appear as JSON, not as an escaped string inside JSON.
    for (size_t at = out->find("\"argument_needle\""); at != std::string::npos;
         at = out->find("\"argument_needle\"", at + 1))
        if (at == 0 || (*out)[at - 1] != '\\') return true;
    return false;
}

TemplateStyle probe_style(const tmpl::ChatTemplate& t, const std::string& source) {
    TemplateStyle style;
    style.nine_char_ids = source.find("length != 9") != std::string::npos;
    {
        tmpl::RenderOptions o;
        o.now = 0;
        const json user = {{"role", "user"}, {"content", "user_needle"}};
        auto with_system = t.apply(json::array({{{"role", "system"}, {"content", "system_needle"}}, user}), nullptr,
                                   true, "", "", json::object(), o);
        auto alone = t.apply(json::array({user}), nullptr, true, "", "", json::object(), o);
        style.merge_system = alone.ok() && (!with_system.ok() || with_system->find("system_needle") == std::string::npos);
    }
    if (source.find("tool_calls") == std::string::npos) return style;
    const json tools = json::parse(R"([{"type": "function", "function": {"name": "probe_tool", "description": "probe",
        "parameters": {"type": "object", "properties": {"argument_needle": {"type": "string"}}}}}])");
    auto render = [&](const json& arguments, const json& content) {
        json call = {{"id", "call00001"},
                     {"type", "function"},
                     {"function", {{"name", "probe_tool"}, {"arguments", arguments}}}};
        json messages = json::array({{{"role", "user"}, {"content", "probe"}},
                                     {{"role", "assistant"}, {"content", content}, {"tool_calls", json::array({call})}},
                                     {{"role", "tool"}, {"tool_call_id", "call00001"}, {"name", "probe_tool"},
                                      {"content", "ok"}}});
        tmpl::RenderOptions o;
        o.now = 0;
        return t.apply(messages, tools, false, "", "", json::object(), o);
    };
    const json as_object = {{"argument_needle", "probe"}};
    const json as_string = as_object.dump();
    const bool object_ok = shows_needle(render(as_object, "")) || shows_needle(render(as_object, nullptr));
    const bool string_ok = shows_needle(render(as_string, "")) || shows_needle(render(as_string, nullptr));
    style.object_arguments = object_ok || !string_ok;
    const json& args = style.object_arguments ? as_object : as_string;
    style.null_call_content = !shows_needle(render(args, "")) && shows_needle(render(args, nullptr));
    return style;
}

// Probing renders the template a few times; remember the answer per template text.
TemplateStyle style_of(const tmpl::ChatTemplate& t, const std::string& source) {
    static std::mutex mu;
    static std::unordered_map<std::string, TemplateStyle> cache;
    {
        std::lock_guard<std::mutex> lock(mu);
        if (auto it = cache.find(source); it != cache.end()) return it->second;
    }
    TemplateStyle style = probe_style(t, source);
    std::lock_guard<std::mutex> lock(mu);
    if (cache.size() > 64) cache.clear();
    cache.emplace(source, style);
    return style;
}

Result<json> normalize_tool_calls(const json& calls, const std::string& at, const TemplateStyle& style,
                                  std::map<std::string, std::string>& names_by_id) {
    if (!calls.is_array()) return make_error(at + ".tool_calls must be an array");
    json out = json::array();
    for (size_t i = 0; i < calls.size(); ++i) {
        const json& call = calls[i];
        std::string call_at = at + ".tool_calls[" + std::to_string(i) + "]";
        if (!call.is_object()) return make_error(call_at + " must be an object");
        auto fn = call.find("function");
        if (fn == call.end() || !fn->is_object()) return make_error(call_at + " has no 'function' object");
        auto name = fn->find("name");
        if (name == fn->end() || !name->is_string()) return make_error(call_at + ".function has no string 'name'");
        json arguments = json::object();
        if (auto a = fn->find("arguments"); a != fn->end() && !a->is_null()) {
            if (!style.object_arguments) {
                arguments = a->is_string() ? *a : json(a->dump());
            } else if (a->is_string()) {
                // OpenAI sends arguments as JSON text; templates iterate or tojson them, so
                // they get the parsed value. Text that is not JSON stays text.
                json parsed = json::parse(a->get<std::string>(), nullptr, false);
                arguments = parsed.is_discarded() ? *a : parsed;
            } else {
                arguments = *a;
            }
        }
        json c = json::object();
        if (auto id = call.find("id"); id != call.end() && id->is_string()) {
            std::string v = id->get<std::string>();
            if (style.nine_char_ids) v = nine_char_id(v);
            names_by_id[v] = name->get<std::string>();
            c["id"] = v;
        }
        c["type"] = "function";
        c["function"] = json{{"name", *name}, {"arguments", std::move(arguments)}};
        out.push_back(std::move(c));
    }
    return out;
}

Result<json> normalize_messages(const json& messages, const TemplateStyle& style) {
    if (!messages.is_array()) return make_error("'messages' must be an array");
    if (messages.empty()) return make_error("'messages' must contain at least one message");
    json out = json::array();
    std::map<std::string, std::string> names_by_id;  // tool-call id -> function name
    for (size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        const std::string at = where(i);
        if (!m.is_object()) return make_error(at + " must be an object");
        auto role_it = m.find("role");
        if (role_it == m.end()) return make_error(at + " is missing 'role'");
        if (!role_it->is_string()) return make_error(at + ".role must be a string");
        std::string role = role_it->get<std::string>();
        if (role == "developer") role = "system";
        if (role != "system" && role != "user" && role != "assistant" && role != "tool")
            return make_error(at + " has unknown role '" + role +
                              "' (expected system, developer, user, assistant or tool)");

        json msg = json::object();
        msg["role"] = role;
        auto content_it = m.find("content");
        const bool has_calls = m.contains("tool_calls") && m["tool_calls"].is_array() && !m["tool_calls"].empty();
        if ((content_it == m.end() || content_it->is_null()) && !(role == "assistant"))
            return make_error(at + " (" + role + ") is missing 'content'");
        auto text = content_text(content_it == m.end() ? json() : *content_it, at);
        if (!text) return text.error();
        msg["content"] = std::move(text.value());

        if (role == "assistant") {
            if (content_it == m.end() || content_it->is_null()) {
                if (!has_calls && !m.contains("reasoning_content"))
                    return make_error(at + " (assistant) needs 'content' or 'tool_calls'");
            }
            if (auto r = m.find("reasoning_content"); r != m.end() && r->is_string()) msg["reasoning_content"] = *r;
            if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
                auto calls = normalize_tool_calls(*tc, at, style, names_by_id);
                if (!calls) return calls.error();
                // An empty list would still make `'tool_calls' in message` true in Llama's template.
                if (!calls->empty()) {
                    msg["tool_calls"] = std::move(calls.value());
                    if (style.null_call_content && msg["content"] == "") msg["content"] = nullptr;
                }
            }
        } else if (m.contains("tool_calls") && !m["tool_calls"].is_null()) {
            return make_error(at + ": only assistant messages may carry 'tool_calls'");
        }

        if (role == "tool") {
            auto id = m.find("tool_call_id");
            if (id != m.end() && !id->is_string()) return make_error(at + ".tool_call_id must be a string");
            if (id != m.end()) {
                std::string v = id->get<std::string>();
                if (style.nine_char_ids) v = nine_char_id(v);
                msg["tool_call_id"] = v;
                if (!m.contains("name") && names_by_id.count(v)) msg["name"] = names_by_id[v];
            }
        }
        if (auto name = m.find("name"); name != m.end()) {
            if (!name->is_string()) return make_error(at + ".name must be a string");
            msg["name"] = *name;
        }
        out.push_back(std::move(msg));
    }
    if (!style.merge_system) return out;
    json merged = json::array();
    std::string pending;
    for (auto& m : out) {
        if (m["role"] == "system") {
            pending += (pending.empty() ? "" : "\n\n") + m["content"].get<std::string>();
            continue;
        }
        if (m["role"] == "user" && !pending.empty()) {
            m["content"] = pending + "\n\n" + m["content"].get<std::string>();
            pending.clear();
        }
        merged.push_back(std::move(m));
    }
    if (!pending.empty()) merged.push_back({{"role", "user"}, {"content", pending}});
    return merged;
}

Result<json> normalize_tools(const json& tools) {
    if (tools.is_null()) return json();
    if (!tools.is_array()) return make_error("'tools' must be an array");
    for (size_t i = 0; i < tools.size(); ++i) {
        const json& t = tools[i];
        std::string at = "tools[" + std::to_string(i) + "]";
        if (!t.is_object()) return make_error(at + " must be an object");
        auto fn = t.find("function");
        if (fn == t.end() || !fn->is_object()) return make_error(at + " has no 'function' object");
        auto name = fn->find("name");
        if (name == fn->end() || !name->is_string()) return make_error(at + ".function has no string 'name'");
    }
    // Templates test `tools is not none`; an empty list would announce tools that are not there.
    if (tools.empty()) return json();
    return tools;
}

std::string special_piece(const tokenizer::Tokenizer& tok, tokenizer::TokenId id) {
    if (id < 0 || static_cast<size_t>(id) >= tok.n_vocab()) return "";
    return tok.token_to_piece(id, true);
}

// End-of-turn markers the template writes that the vocabulary does not already end
// generation on: the engine has to stop on their text.
std::vector<std::string> implied_stops(std::string_view tmpl, const tokenizer::Tokenizer& tok) {
    static constexpr std::string_view kMarkers[] = {"<|im_end|>", "<|eot_id|>", "<|eom_id|>",
                                                    "<|end|>",    "<end_of_turn>", "<|end_of_text|>"};
    std::vector<std::string> stops;
    for (std::string_view m : kMarkers) {
        if (tmpl.find(m) == std::string_view::npos) continue;
        tokenizer::TokenId id = tok.vocab().find(m);
        if (id == tokenizer::kNoToken || !tok.is_eog(id)) stops.emplace_back(m);
    }
    return stops;
}

}  // namespace

Result<ChatPrompt> build_chat_prompt(const gguf::Metadata& metadata, const tokenizer::Tokenizer& tokenizer,
                                     const json& messages, const json& tools, const ChatPromptOptions& options) {
    std::string source;
    if (!options.template_override.empty()) {
        source = options.template_override;
    } else if (auto t = metadata.get_string("tokenizer.chat_template"); t && !t->empty()) {
        source = *t;
    } else {
        source = std::string(kChatMlTemplate);
    }
    auto tmpl = tmpl::ChatTemplate::parse(source);
    if (!tmpl) return make_error("the chat template does not parse: " + tmpl.error().message);
    const TemplateStyle style = style_of(*tmpl, source);

    auto msgs = normalize_messages(messages, style);
    if (!msgs) return msgs.error();
    auto tool_list = normalize_tools(tools);
    if (!tool_list) return tool_list.error();
    auto text = tmpl->apply(*msgs, *tool_list, options.add_generation_prompt, special_piece(tokenizer, tokenizer.bos()),
                            special_piece(tokenizer, tokenizer.eos()));
    if (!text) return make_error("the chat template rejected the messages: " + text.error().message);

    ChatPrompt prompt;
    prompt.text = std::move(text.value());
    prompt.tool_format =
        detect_tool_call_format(source, metadata.get_string("general.architecture").value_or(std::string()));
    prompt.stops = implied_stops(source, tokenizer);
    return prompt;
}

}  // namespace hearth::chat
