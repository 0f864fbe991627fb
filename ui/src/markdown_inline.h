// Inside the Markdown renderer (markdown.h): the character classes and text helpers its
// block and inline parsers share, and the inline parser the blocks call for each paragraph,
// heading and table cell.
#pragma once

#include <string>
#include <string_view>

namespace hearth::ui::markdown {

constexpr size_t npos = std::string_view::npos;

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
inline bool is_blank_char(char c) { return c == ' ' || c == '\t'; }
// Emphasis depends on whitespace and punctuation around a delimiter run; the bytes of
// multi-byte UTF-8 characters count as letters.
inline bool is_space(char c) { return is_blank_char(c) || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
inline bool is_punct(char c) { return c > ' ' && c < 0x7F && !is_alnum(c); }
inline bool is_control(char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; }
inline bool is_one_of(char c, std::string_view set) { return set.find(c) != npos; }
inline bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank_char(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank_char(s.back())) s.remove_suffix(1);
    return s;
}

inline bool is_blank_line(std::string_view line) { return trim(line).empty(); }

inline void append_escaped(std::string& out, std::string_view text) {
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
}

// Appends the HTML of one block's inline content (emphasis, code spans, links, autolinks,
// escapes); everything taken from `text` is escaped.
void render_inline(std::string_view text, std::string& out);

}  // namespace hearth::ui::markdown
