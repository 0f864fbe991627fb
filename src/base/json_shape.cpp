#include "base/json_shape.h"

#include <algorithm>
#include <vector>

namespace hearth {

JsonShape json_shape(std::string_view text) {
    JsonShape shape;
    std::vector<int64_t> keys;  // per open level: keys so far, -1 for an array
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            keys.push_back(c == '{' ? 0 : -1);
            shape.max_depth = std::max(shape.max_depth, int(keys.size()));
            ++shape.values;
        } else if (c == '}' || c == ']') {
            if (!keys.empty()) keys.pop_back();
        } else if (c == ',') {
            ++shape.values;
        } else if (c == ':' && !keys.empty() && keys.back() >= 0) {
            shape.max_object_keys = std::max(shape.max_object_keys, ++keys.back());
        }
    }
    return shape;
}

}  // namespace hearth
