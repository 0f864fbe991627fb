// JSON Schema -> byte grammar for constrained decoding.
//
// The grammar produces JSON text without whitespace before or after the top-level value;
// between tokens it allows nothing, one space, or a newline with up to 32 spaces/tabs of
// indentation (so a model can neither pad forever nor loop on blank lines). Objects list
// their declared properties in schema order (required ones always, optional ones may be
// left out); extra properties are allowed only when additionalProperties says so
// explicitly, or when the schema declares no properties at all. Numbers have at most 16
// integer and 16 fraction digits and a two-digit exponent (so every number fits a double;
// parsers reject overflowing ones). Strings must be valid UTF-8 and valid JSON escapes.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "chat/json_grammar.h"

namespace hearth::chat::grammar {

// `schema` null: any JSON object (response_format json_object). Keywords the grammar
// cannot enforce (pattern, minimum, ...) are an error, or with `lenient` ignored.
Result<std::shared_ptr<const Grammar>> json_schema_grammar(const nlohmann::ordered_json* schema, bool lenient = false);

}  // namespace hearth::chat::grammar
