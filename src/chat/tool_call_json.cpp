#include "chat/tool_call_json.h"

#include <cctype>

namespace hearth::chat::detail {

using json = nlohmann::ordered_json;

std::optional<size_t> JsonSpanScanner::scan(std::string_view text) {
    for (; pos_ < text.size(); ++pos_) {
        const char c = text[pos_];
        if (in_string_) {
            if (escape_) escape_ = false;
            else if (c == '\\') escape_ = true;
            else if (c == '"') in_string_ = false;
            continue;
        }
        if (c == '"') {
            in_string_ = true;
        } else if (c == '{' || c == '[') {
            ++depth_;
        } else if (c == '}' || c == ']') {
            if (--depth_ <= 0) return ++pos_;
        }
    }
    return std::nullopt;
}

std::string compact_json(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<ParsedCall> parse_call_object(const json& value) {
    if (!value.is_object()) return std::nullopt;
    auto name = value.find("name");
    if (name == value.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) return std::nullopt;
    json args = json::object();
    auto a = value.find("arguments");
    if (a == value.end()) a = value.find("parameters");
    if (a != value.end() && !a->is_null()) {
        if (a->is_string()) {
            json parsed = json::parse(a->get<std::string>(), nullptr, false);
            if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
            args = std::move(parsed);
        } else if (a->is_object()) {
            args = *a;
        } else {
            return std::nullopt;
        }
    }
    return ParsedCall{name->get<std::string>(), compact_json(args)};
}

std::optional<ParsedCall> parse_call_text(std::string_view text) {
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded()) return std::nullopt;
    return parse_call_object(value);
}

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

void skip_spaces(std::string_view s, size_t& i) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
}

}  // namespace

std::optional<ParsedCall> parse_python_call(std::string_view text) {
    size_t i = 0;
    skip_spaces(text, i);
    const size_t name_start = i;
    while (i < text.size() && ident_char(text[i])) ++i;
    if (i == name_start) return std::nullopt;
    std::string name(text.substr(name_start, i - name_start));
    if (text.substr(i, 6) != ".call(") return std::nullopt;
    i += 6;
    json args = json::object();
    for (;;) {
        skip_spaces(text, i);
        if (i < text.size() && text[i] == ')') { ++i; break; }
        const size_t key_start = i;
        while (i < text.size() && ident_char(text[i])) ++i;
        if (i == key_start) return std::nullopt;
        std::string key(text.substr(key_start, i - key_start));
        skip_spaces(text, i);
        if (i >= text.size() || text[i] != '=') return std::nullopt;
        ++i;
        skip_spaces(text, i);
        if (i >= text.size()) return std::nullopt;
        if (text[i] == '"' || text[i] == '\'') {
            const char quote = text[i++];
            std::string value;
            while (i < text.size() && text[i] != quote) {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                value += text[i++];
            }
            if (i >= text.size()) return std::nullopt;
            ++i;
            args[key] = value;
        } else {
            const size_t v_start = i;
            while (i < text.size() && text[i] != ',' && text[i] != ')') ++i;
            std::string raw(text.substr(v_start, i - v_start));
            while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back()))) raw.pop_back();
            if (raw == "True") raw = "true";
            if (raw == "False") raw = "false";
            if (raw == "None") raw = "null";
            json v = json::parse(raw, nullptr, false);
            args[key] = v.is_discarded() ? json(raw) : v;
        }
        skip_spaces(text, i);
        if (i < text.size() && text[i] == ',') ++i;
        else if (i < text.size() && text[i] == ')') { ++i; break; }
        else return std::nullopt;
    }
    skip_spaces(text, i);
    if (i != text.size()) return std::nullopt;
    return ParsedCall{std::move(name), compact_json(args)};
}

}  // namespace hearth::chat::detail
