#include "template/lexer.h"

#include <cctype>

#include "base/utf8.h"

namespace hearth::tmpl {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Lexer {
public:
    Lexer(std::string src, const LexOptions& o) : s_(std::move(src)), opt_(o) {}

    std::vector<Token> run() {
        bool line_starting = true;
        while (pos_ < s_.size()) {
            size_t found = find_tag(pos_);
            std::string text = s_.substr(pos_, found - pos_);
            int text_line = line_, text_col = col_;
            advance_to(found);
            if (found >= s_.size()) {
                emit_text(std::move(text), text_line, text_col);
                break;
            }
            char kind = s_[found + 1];  // '{', '%' or '#'
            char sign = found + 2 < s_.size() ? s_[found + 2] : 0;
            if (sign != '-' && sign != '+') sign = 0;
            if (sign == '-') {
                size_t e = text.size();
                while (e > 0 && is_space(text[e - 1])) --e;
                text.resize(e);
            } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
                size_t nl = text.rfind('\n');
                size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
                if (l_pos > 0 || line_starting) {
                    bool ws = l_pos < text.size();
                    for (size_t k = l_pos; k < text.size(); ++k)
                        if (!is_space(text[k])) ws = false;
                    if (ws) text.resize(l_pos);
                }
            }
            emit_text(std::move(text), text_line, text_col);
            size_t start = found + 2 + (sign ? 1 : 0);
            if (kind == '#') {
                line_starting = lex_comment(found, start);
            } else if (kind == '%' && is_raw(start)) {
                line_starting = lex_raw(found, start);
            } else {
                line_starting = lex_tag(found, start, kind == '%');
            }
        }
        Token eof;
        eof.type = Tok::Eof;
        eof.line = line_;
        eof.column = col_;
        out_.push_back(eof);
        return std::move(out_);
    }

private:
    [[noreturn]] void fail(const std::string& msg) { throw TemplateError{msg, line_, col_}; }

    size_t find_tag(size_t from) const {
        for (size_t p = s_.find('{', from); p != std::string::npos; p = s_.find('{', p + 1)) {
            if (p + 1 < s_.size() && (s_[p + 1] == '{' || s_[p + 1] == '%' || s_[p + 1] == '#')) return p;
        }
        return s_.size();
    }

    void advance_to(size_t p) {
        for (; pos_ < p && pos_ < s_.size(); ++pos_) {
            if (s_[pos_] == '\n') { ++line_; col_ = 1; } else { ++col_; }
        }
    }

    void emit_text(std::string text, int line, int col) {
        if (text.empty()) return;
        out_.push_back(Token{Tok::Text, std::move(text), line, col});
    }

    // After an end marker: handle '-' (strip following whitespace) and trim_blocks.
    // Returns whether the consumed end ends with a newline (Jinja's line_starting).
    bool finish_end(size_t after, char end_sign, bool is_block_or_comment) {
        size_t p = after;
        if (end_sign == '-') {
            while (p < s_.size() && is_space(s_[p])) ++p;
        } else if (end_sign != '+' && is_block_or_comment && opt_.trim_blocks && p < s_.size() && s_[p] == '\n') {
            ++p;
        }
        advance_to(p);
        return p > 0 && s_[p - 1] == '\n';
    }

    bool lex_comment(size_t tag_start, size_t start) {
        size_t e = s_.find("#}", start);
        if (e == std::string::npos) fail("missing end of comment tag");
        char sign = (e > start && (s_[e - 1] == '-' || s_[e - 1] == '+')) ? s_[e - 1] : 0;
        return finish_end(e + 2, sign, true);
    }

    size_t skip_ws(size_t p) const {
        while (p < s_.size() && is_space(s_[p])) ++p;
        return p;
    }

    bool is_raw(size_t start) const {
        size_t p = skip_ws(start);
        if (s_.compare(p, 3, "raw") != 0) return false;
        p = skip_ws(p + 3);
        if (p < s_.size() && s_[p] == '-') ++p;
        return s_.compare(p, 2, "%}") == 0;
    }

    bool lex_raw(size_t tag_start, size_t start) {
        size_t p = skip_ws(start) + 3;
        p = skip_ws(p);
        char sign = 0;
        if (s_[p] == '-') { sign = '-'; ++p; }
        p += 2;
        if (sign == '-') p = skip_ws(p);
        // Find {% endraw %}
        size_t search = p;
        while (true) {
            size_t t = s_.find("{%", search);
            if (t == std::string::npos) { advance_to(p); fail("missing endraw"); }
            size_t q = t + 2;
            char lsign = 0;
            if (q < s_.size() && (s_[q] == '-' || s_[q] == '+')) lsign = s_[q++];
            q = skip_ws(q);
            if (s_.compare(q, 6, "endraw") != 0) { search = t + 2; continue; }
            q = skip_ws(q + 6);
            char rsign = 0;
            if (q < s_.size() && (s_[q] == '-' || s_[q] == '+')) rsign = s_[q++];
            if (s_.compare(q, 2, "%}") != 0) { search = t + 2; continue; }
            std::string text = s_.substr(p, t - p);
            if (lsign == '-') {
                size_t e = text.size();
                while (e > 0 && is_space(text[e - 1])) --e;
                text.resize(e);
            } else if (lsign != '+' && opt_.lstrip_blocks) {
                size_t nl = text.rfind('\n');
                size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
                if (nl != std::string::npos) {
                    bool ws = l_pos < text.size();
                    for (size_t k = l_pos; k < text.size(); ++k)
                        if (!is_space(text[k])) ws = false;
                    if (ws) text.resize(l_pos);
                }
            }
            advance_to(p);
            emit_text(std::move(text), line_, col_);
            return finish_end(q + 2, rsign, true);
        }
    }

    bool lex_tag(size_t tag_start, size_t start, bool block) {
        Token begin{block ? Tok::BlockBegin : Tok::VarBegin, "", line_, col_};
        out_.push_back(begin);
        advance_to(start);
        const char* close = block ? "%}" : "}}";
        int depth = 0;
        while (true) {
            advance_to(skip_ws(pos_));
            if (pos_ >= s_.size()) fail(block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
            char c = s_[pos_];
            if (depth == 0) {
                char sign = 0;
                size_t p = pos_;
                if ((c == '-' || c == '+') && s_.compare(p + 1, 2, close) == 0) { sign = c; ++p; }
                if (s_.compare(p, 2, close) == 0) {
                    out_.push_back(Token{block ? Tok::BlockEnd : Tok::VarEnd, "", line_, col_});
                    return finish_end(p + 2, sign, block);
                }
            }
            Token t;
            t.line = line_;
            t.column = col_;
            size_t p = pos_;
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                while (p < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p])) || s_[p] == '_')) ++p;
                t.type = Tok::Name;
                t.text = s_.substr(pos_, p - pos_);
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                while (p < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[p])) || s_[p] == '_')) ++p;
                t.type = Tok::Int;
                if (p + 1 < s_.size() && s_[p] == '.' && std::isdigit(static_cast<unsigned char>(s_[p + 1]))) {
                    t.type = Tok::Float;
                    ++p;
                    while (p < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[p])) || s_[p] == '_')) ++p;
                }
                if (p < s_.size() && (s_[p] == 'e' || s_[p] == 'E')) {
                    size_t q = p + 1;
                    if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
                    if (q < s_.size() && std::isdigit(static_cast<unsigned char>(s_[q]))) {
                        while (q < s_.size() && std::isdigit(static_cast<unsigned char>(s_[q]))) ++q;
                        p = q;
                        t.type = Tok::Float;
                    }
                }
                for (size_t k = pos_; k < p; ++k)
                    if (s_[k] != '_') t.text += s_[k];
            } else if (c == '\'' || c == '"') {
                t.type = Tok::String;
                p = lex_string(p, t.text);
            } else {
                static const char* two[] = {"//", "**", "==", "!=", "<=", ">="};
                t.type = Tok::Op;
                for (const char* op : two)
                    if (s_.compare(p, 2, op) == 0) { t.text = op; break; }
                if (t.text.empty()) {
                    if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos)
                        fail(std::string("unexpected character '") + c + "'");
                    t.text = std::string(1, c);
                }
                p += t.text.size();
                if (c == '(' || c == '[' || c == '{') ++depth;
                if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
            }
            advance_to(p);
            out_.push_back(std::move(t));
        }
    }

    size_t lex_string(size_t p, std::string& out) {
        char q = s_[p++];
        while (true) {
            if (p >= s_.size()) fail("unterminated string literal");
            char c = s_[p];
            if (c == q) return p + 1;
            if (c != '\\') { out += c; ++p; continue; }
            if (p + 1 >= s_.size()) fail("unterminated string literal");
            char e = s_[p + 1];
            p += 2;
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case '\\': out += '\\'; break;
                case '\'': out += '\''; break;
                case '"': out += '"'; break;
                case 'a': out += '\a'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'v': out += '\v'; break;
                case '\n': break;
                case 'x': case 'u': case 'U': {
                    int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    uint32_t cp = 0;
                    for (int k = 0; k < n; ++k) {
                        int h = p < s_.size() ? hexval(s_[p]) : -1;
                        if (h < 0) fail("truncated \\x/\\u escape in string literal");
                        cp = cp * 16 + uint32_t(h);
                        ++p;
                    }
                    if (cp > 0x10ffff) fail("illegal unicode escape");
                    utf8_append(out, cp);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        uint32_t cp = uint32_t(e - '0');
                        for (int k = 0; k < 2 && p < s_.size() && s_[p] >= '0' && s_[p] <= '7'; ++k) cp = cp * 8 + uint32_t(s_[p++] - '0');
                        utf8_append(out, cp);
                    } else {
                        out += '\\';
                        out += e;
                    }
            }
        }
    }

    std::string s_;
    LexOptions opt_;
    size_t pos_ = 0;
    int line_ = 1, col_ = 1;
    std::vector<Token> out_;
};

std::string normalize(std::string_view src, bool keep_trailing_newline) {
    std::string out;
    out.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\r') {
            out += '\n';
            if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
        } else {
            out += src[i];
        }
    }
    if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

std::vector<Token> lex(std::string_view source, const LexOptions& options) {
    return Lexer(normalize(source, options.keep_trailing_newline), options).run();
}

}  // namespace hearth::tmpl
