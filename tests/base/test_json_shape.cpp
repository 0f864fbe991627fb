#include <gtest/gtest.h>

#include "base/json_shape.h"

namespace hearth {
namespace {

TEST(JsonShape, CountsNestingValuesAndKeysOutsideStrings) {
    const JsonShape s = json_shape(R"({"a": [1, 2, {"b": 3, "c": "x:{[,"}], "d": "\"]"})");
    EXPECT_EQ(s.max_depth, 3);
    EXPECT_EQ(s.max_object_keys, 2);  // the outer object's a and d; the inner b and c
    EXPECT_EQ(s.values, 1 + 3 + 4);   // 3 openings, 4 commas
    EXPECT_EQ(json_shape("5").max_depth, 0);
    EXPECT_EQ(json_shape("[[{}]]").max_depth, 3);
    // Colons inside an array belong to its objects, not to the array.
    EXPECT_EQ(json_shape(R"([{"a":1},{"b":1,"c":1}])").max_object_keys, 2);
    // Malformed text still gets a shape (closings past the top are ignored).
    EXPECT_EQ(json_shape("]]][[").max_depth, 2);
}

}  // namespace
}  // namespace hearth
