#include "tts/sentence_splitter.h"

#include "tts/unicode_text.h"

namespace hearth::tts {

namespace {

bool is_terminal(char32_t c) {
    switch (c) {
        case U'.': case U'!': case U'?': case 0x3002: case 0xFF01: case 0xFF1F: case 0xFF0E:
        case 0x0964: case 0x0965: case 0x061F: case 0x06D4: case 0x2026: case 0x037E:
            return true;
        default:
            return false;
    }
}

bool is_closing(char32_t c) {
    return c == U'"' || c == U'\'' || c == U')' || c == U']' || c == U'}' || c == 0x201D || c == 0x2019 ||
           c == 0x00BB || c == 0x300D || c == 0x300F || c == 0xFF09;
}

// Ideographic and Devanagari terminators need no space after them.
bool needs_no_space(char32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF0E || c == 0x0964 || c == 0x0965; }

bool is_space(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == 0xA0 || c == 0x3000; }

void push_trimmed(std::vector<std::string>& out, const std::u32string& s, size_t max_bytes) {
    size_t b = 0, e = s.size();
    while (b < e && is_space(s[b])) ++b;
    while (e > b && is_space(s[e - 1])) --e;
    std::u32string rest = s.substr(b, e - b);
    while (!rest.empty()) {
        std::string utf8 = codepoints_to_utf8(rest);
        if (utf8.size() <= max_bytes) {
            out.push_back(std::move(utf8));
            return;
        }
        // Cut at the last space that keeps the piece under max_bytes (or hard cut).
        size_t bytes = 0, cut = 0, last_space = 0;
        for (size_t i = 0; i < rest.size(); ++i) {
            std::string one;
            append_utf8(one, rest[i]);
            if (bytes + one.size() > max_bytes) break;
            bytes += one.size();
            cut = i + 1;
            if (is_space(rest[i])) last_space = i;
        }
        if (last_space > 0) cut = last_space;
        if (cut == 0) cut = 1;
        push_trimmed(out, rest.substr(0, cut), max_bytes);
        rest = rest.substr(cut);
        size_t k = 0;
        while (k < rest.size() && is_space(rest[k])) ++k;
        rest = rest.substr(k);
    }
}

}  // namespace

std::vector<std::string> split_sentences(const std::string& text, size_t max_bytes) {
    const std::u32string cps = utf8_to_codepoints(text);
    std::vector<std::string> out;
    std::u32string current;
    size_t i = 0;
    while (i < cps.size()) {
        const char32_t c = cps[i];
        current.push_back(c);
        ++i;
        if (c == U'\n') {
            size_t j = i;
            while (j < cps.size() && is_space(cps[j]) && cps[j] != U'\n') ++j;
            if (j < cps.size() && cps[j] == U'\n') {  // blank line: paragraph end
                push_trimmed(out, current, max_bytes);
                current.clear();
                i = j + 1;
            }
            continue;
        }
        if (!is_terminal(c)) continue;
        // Absorb repeated terminators ("?!", "...") and closing quotes/brackets.
        while (i < cps.size() && (is_terminal(cps[i]) || is_closing(cps[i]))) current.push_back(cps[i++]);
        if (i == cps.size() || is_space(cps[i]) || needs_no_space(c)) {
            push_trimmed(out, current, max_bytes);
            current.clear();
        }
    }
    push_trimmed(out, current, max_bytes);
    return out;
}

}  // namespace hearth::tts
