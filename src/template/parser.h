// hearth/template — recursive-descent parser from tokens to the syntax tree, following
// Jinja2's grammar and operator precedence.
#pragma once

#include <vector>

#include "template/ast.h"
#include "template/lexer.h"

namespace hearth::tmpl {

// Throws TemplateError (with line and column) on syntax errors.
Body parse_template(const std::vector<Token>& tokens, int max_depth = 200);

}  // namespace hearth::tmpl
