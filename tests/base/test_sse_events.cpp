#include "base/sse_events.h"

#include <gtest/gtest.h>

#include <vector>

namespace hearth {
namespace {

std::vector<std::string> events(std::string_view text, size_t* consumed = nullptr) {
    std::vector<std::string> out;
    const size_t used = for_each_sse_event(text, [&](std::string_view d) { out.emplace_back(d); });
    if (consumed) *consumed = used;
    return out;
}

TEST(SseEvents, SplitsEventsAndJoinsDataLines) {
    size_t used = 0;
    auto got = events("data: {\"a\":1}\n\ndata: x\ndata:y\n\n: comment\nevent: e\ndata: [DONE]\r\n\r\n", &used);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], "{\"a\":1}");
    EXPECT_EQ(got[1], "x\ny");
    EXPECT_EQ(got[2], "[DONE]");
}

TEST(SseEvents, LeavesAHalfEventForTheNextRead) {
    size_t used = 0;
    const std::string text = "data: one\n\ndata: tw";
    auto got = events(text, &used);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(text.substr(used), "data: tw");
    got = events(text.substr(used) + "o\n\n", &used);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], "two");
}

}  // namespace
}  // namespace hearth
