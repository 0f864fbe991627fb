#pragma once

#include <cstdint>
#include <string_view>

namespace hearth {

// The shape of a JSON text from one pass over its bytes, without parsing it. Parsers of
// untrusted JSON check it first where a parse would cost more than the text's length:
// nesting (recursive conversion), values (memory), keys of one object (ordered_json
// inserts each key with a scan of those before it). Malformed text still gets a shape;
// the parse then refuses it.
struct JsonShape {
    int max_depth = 0;            // deepest nesting of arrays and objects
    int64_t values = 1;           // at most this many values (openings and commas count)
    int64_t max_object_keys = 0;  // most keys in one object
};

JsonShape json_shape(std::string_view text);

}  // namespace hearth
