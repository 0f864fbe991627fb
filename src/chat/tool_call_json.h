// Pieces of tool-call parsing that look at JSON: finding where a JSON object or array
// ends in a growing text, and reading {"name", "arguments"|"parameters"} objects.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hearth::chat::detail {

// Finds the end of one JSON object or array that starts at a given offset of a text that
// keeps growing. Strings and escapes are tracked so brackets inside strings do not count.
// Syntax is not validated here; the finished text is parsed afterwards.
class JsonSpanScanner {
public:
    void reset(size_t start) {
        pos_ = start;
        depth_ = 0;
        in_string_ = escape_ = false;
    }
    // Scans text[pos_..]; returns the offset one past the closing bracket once found.
    std::optional<size_t> scan(std::string_view text);

private:
    size_t pos_ = 0;
    int depth_ = 0;
    bool in_string_ = false;
    bool escape_ = false;
};

struct ParsedCall {
    std::string name;
    std::string arguments;  // compact JSON of the arguments object
};

// {"name": "...", "arguments": {...}} (or "parameters"; arguments given as JSON text are
// accepted too). Anything else is nullopt.
std::optional<ParsedCall> parse_call_object(const nlohmann::ordered_json& value);
std::optional<ParsedCall> parse_call_text(std::string_view text);

// Llama 3.1's built-in tool form: `brave_search.call(query="...", count=3)`.
std::optional<ParsedCall> parse_python_call(std::string_view text);

std::string compact_json(const nlohmann::ordered_json& value);

}  // namespace hearth::chat::detail
