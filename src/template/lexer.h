// hearth/template — the Jinja lexer: splits a template into text and tag tokens with
// Jinja2's whitespace control (`-`/`+` markers) and transformers' environment options
// trim_blocks and lstrip_blocks applied, and tokenizes the expressions inside tags.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "template/value.h"

namespace hearth::tmpl {

enum class Tok { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
    Tok type = Tok::Eof;
    std::string text;  // text, name, decoded string literal, operator, or number spelling
    int line = 1;
    int column = 1;
};

struct LexOptions {
    bool trim_blocks = true;
    bool lstrip_blocks = true;
    bool keep_trailing_newline = false;
};

// Throws TemplateError on malformed input.
std::vector<Token> lex(std::string_view source, const LexOptions& options = {});

}  // namespace hearth::tmpl
