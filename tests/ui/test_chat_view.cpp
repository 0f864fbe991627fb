// The chat page's HTML, built natively from the same C++ the browser runs.
#include <gtest/gtest.h>

#include "chat_view.h"

namespace hearth::ui {
namespace {

bool contains(const std::string& html, const std::string& part) { return html.find(part) != std::string::npos; }

TEST(ChatView, SplitsReasoningThatOpensTheReply) {
    auto s = split_think("  <think>plan</think>\n\nThe answer.");
    EXPECT_EQ(s.reasoning, "plan");
    EXPECT_EQ(s.answer, "The answer.");
    EXPECT_FALSE(s.thinking);
    s = split_think("<think>still planning");
    EXPECT_EQ(s.reasoning, "still planning");
    EXPECT_EQ(s.answer, "");
    EXPECT_TRUE(s.thinking);
    s = split_think("No <think> here</think>");
    EXPECT_EQ(s.answer, "No <think> here</think>");
    EXPECT_EQ(s.reasoning, "");
}

TEST(ChatView, ReasoningIsFoldedAndSaysWhenItIsStillRunning) {
    ChatMessage m;
    m.role = "assistant";
    m.content = "<think>step one";
    MessageView v;
    v.streaming = true;
    v.last = true;
    std::string html = render_message(m, v);
    EXPECT_TRUE(contains(html, "<details class=\"think\"><summary data-action=\"fold\" data-index=\"0\">Thinking…</summary>"));
    v.reasoning_open = true;
    EXPECT_TRUE(contains(render_message(m, v), "<details class=\"think\" open>"));
    v.reasoning_open = false;
    m.content += "</think>Done.";
    v.streaming = false;
    html = render_message(m, v);
    EXPECT_TRUE(contains(html, "\">Reasoning</summary>"));
    EXPECT_TRUE(contains(html, "<p>Done.</p>"));
    EXPECT_TRUE(contains(html, "data-action=\"regenerate\""));
}

TEST(ChatView, ToolCallsShowTheirNameAndArgumentsEscaped) {
    ChatMessage m;
    m.role = "assistant";
    m.tool_calls = nlohmann::json::parse(
        R"([{"id":"call_1","type":"function","function":{"name":"get<weather>","arguments":"{\"city\":\"<b>Paris</b>\"}"}}])");
    const std::string html = render_message(m, MessageView{});
    EXPECT_TRUE(contains(html, "Tool call <code>get&lt;weather&gt;</code>"));
    EXPECT_TRUE(contains(html, "&quot;city&quot;: &quot;&lt;b&gt;Paris&lt;/b&gt;&quot;"));
    EXPECT_FALSE(contains(html, "<b>"));
}

TEST(ChatView, UserTextIsEscapedNotMarkdown) {
    ChatMessage m;
    m.role = "user";
    m.content = "**not bold** <script>x</script>";
    const std::string html = render_message(m, MessageView{});
    EXPECT_TRUE(contains(html, "**not bold** &lt;script&gt;x&lt;/script&gt;"));
    EXPECT_TRUE(contains(html, "data-action=\"edit\""));
    MessageView editing;
    editing.editing = true;
    editing.index = 3;
    EXPECT_TRUE(contains(render_message(m, editing), "<textarea class=\"edit\" id=\"edit-3\""));
}

TEST(ChatView, StatsLine) {
    ChatMessage m;
    EXPECT_EQ(format_stats(m), "");
    m.ttft_ms = 84.4;
    m.tokens_per_second = 41.27;
    m.tokens = 128;
    EXPECT_EQ(format_stats(m), "84 ms to first token · 41.3 tokens/s · 128 tokens");
    m.ttft_ms = 1500;
    m.audio_seconds = 3.25;
    EXPECT_EQ(format_stats(m), "1.50 s to first token · 41.3 tokens/s · 128 tokens · 3.2 s spoken");
}

TEST(ChatView, ConversationListRenamesAndAsksBeforeDeleting) {
    Conversation a, b;
    a.id = "a";
    a.title = "<b>First</b>";
    b.id = "b";
    b.title = "Second";
    const std::vector<const Conversation*> items = {&a, &b};
    std::string html = render_conversation_list(items, ListView{"a", "", ""});
    EXPECT_TRUE(contains(html, "<li class=\"conv current\" data-action=\"open-chat\" data-id=\"a\"><span class=\"title\">&lt;b&gt;First&lt;/b&gt;"));
    EXPECT_FALSE(contains(html, "Delete?"));
    html = render_conversation_list(items, ListView{"a", "b", "a"});
    EXPECT_TRUE(contains(html, "id=\"rename-input\" data-change=\"rename-commit\" data-id=\"b\" value=\"Second\""));
    EXPECT_TRUE(contains(html, "class=\"icon armed\" data-action=\"delete-chat\" data-id=\"a\" title=\"Delete\" aria-label=\"Delete\">Delete?"));
}

TEST(ChatView, TitleIsTheFirstLineCutOnACharacter) {
    EXPECT_EQ(title_from("  \n Hello there\nsecond line"), "Hello there");
    EXPECT_EQ(title_from(" \n "), "New chat");
    const std::string long_line = std::string(47, 'a') + "é and more";
    EXPECT_EQ(title_from(long_line), std::string(47, 'a') + "…");
}

}  // namespace
}  // namespace hearth::ui
