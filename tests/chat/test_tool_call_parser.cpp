// ToolCallParser: every case is fed whole, split at every byte position into two chunks,
// and one byte at a time; the concatenated deltas must be the same each time.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chat/chat.h"

namespace {

using hearth::chat::ParsedDelta;
using hearth::chat::ToolCallFormat;
using hearth::chat::ToolCallParser;
using json = nlohmann::ordered_json;

struct Call {
    std::string name, arguments;
    bool operator==(const Call&) const = default;
};
struct Outcome {
    std::string content;
    std::vector<Call> calls;
    bool saw = false;
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    os << "content=" << json(o.content).dump() << " calls=[";
    for (const auto& c : o.calls) os << c.name << " " << c.arguments << "; ";
    return os << "]";
}

void merge(Outcome& o, const ParsedDelta& d) {
    o.content += d.content;
    for (const auto& tc : d.tool_calls) {
        if (tc.index == static_cast<int>(o.calls.size())) {
            // The first delta of a call names it and carries its id.
            EXPECT_EQ(tc.id.size(), 29u);
            EXPECT_EQ(tc.id.rfind("call_", 0), 0u);
            for (char c : tc.id.substr(5)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
            EXPECT_FALSE(tc.name.empty());
            o.calls.push_back({tc.name, tc.arguments});
        } else {
            ASSERT_LT(tc.index, static_cast<int>(o.calls.size()));
            EXPECT_TRUE(tc.id.empty() && tc.name.empty());
            o.calls[tc.index].arguments += tc.arguments;
        }
    }
}

Outcome feed(ToolCallFormat f, const std::vector<std::string>& chunks) {
    ToolCallParser p(f);
    Outcome o;
    for (const auto& c : chunks) merge(o, p.push(c));
    merge(o, p.finish());
    o.saw = p.saw_tool_calls();
    return o;
}

// Feeds `text` in every way and checks all give `expected`.
void check(ToolCallFormat f, const std::string& text, const Outcome& expected) {
    SCOPED_TRACE(text);
    Outcome whole = feed(f, {text});
    EXPECT_EQ(whole, expected);
    for (size_t i = 0; i <= text.size(); ++i) {
        Outcome split = feed(f, {text.substr(0, i), text.substr(i)});
        EXPECT_EQ(split, whole) << "split at " << i;
        if (split != whole) break;
    }
    std::vector<std::string> bytes;
    for (char c : text) bytes.emplace_back(1, c);
    EXPECT_EQ(feed(f, bytes), whole) << "byte by byte";
    // Arguments are compact JSON objects.
    for (const auto& c : whole.calls) {
        json a = json::parse(c.arguments, nullptr, false);
        ASSERT_FALSE(a.is_discarded()) << c.arguments;
        EXPECT_TRUE(a.is_object());
        EXPECT_EQ(a.dump(), c.arguments);
    }
}

Outcome content(const std::string& s) { return {s, {}, false}; }
Outcome calls(std::string content, std::vector<Call> cs) { return {std::move(content), std::move(cs), true}; }

TEST(ToolCallParser, NoneIsAllContent) {
    check(ToolCallFormat::None, "<tool_call>{\"name\":\"x\"}</tool_call>  ", content("<tool_call>{\"name\":\"x\"}</tool_call>  "));
}

TEST(ToolCallParser, Hermes) {
    const auto H = ToolCallFormat::Hermes;
    check(H, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
          calls("Let me check.", {{"get_weather", "{\"city\":\"Paris\"}"}}));
    check(H,
          "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": [1, 2, {\"y\": \"}</tool_call\"}]}}\n</tool_call>\n"
          "<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>",
          calls("", {{"a", "{\"x\":[1,2,{\"y\":\"}</tool_call\"}]}"}, {"b", "{}"}}));
    // Plain answers come back byte for byte, including look-alikes and trailing space.
    check(H, "a < b and <tool> or <tool_cal\n", content("a < b and <tool> or <tool_cal\n"));
    check(H, "  Hello,  world  ", content("  Hello,  world  "));
    check(H, "ends with <tool_ca", content("ends with <tool_ca"));
    // Arguments given as a JSON string, and non-ASCII text.
    check(H, "<tool_call>{\"name\":\"f\",\"arguments\":\"{\\\"city\\\": \\\"Zürich\\\"}\"}</tool_call>",
          calls("", {{"f", "{\"city\":\"Zürich\"}"}}));
    // No closing tag before the end of generation: still a call when the JSON is whole.
    check(H, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"n\": 1}}\n", calls("", {{"f", "{\"n\":1}"}}));
    // Malformed calls fall back to their raw text.
    check(H, "<tool_call>{\"name\": \"f\", \"arguments\": {</tool_call> done",
          content("<tool_call>{\"name\": \"f\", \"arguments\": {</tool_call> done"));
    check(H, "x <tool_call>{\"name\": \"f\", \"argu", content("x <tool_call>{\"name\": \"f\", \"argu"));
    check(H, "<tool_call>{\"arguments\": {}}</tool_call>", content("<tool_call>{\"arguments\": {}}</tool_call>"));
    // Text after a call is content again.
    check(H, "<tool_call>{\"name\":\"f\",\"arguments\":{}}</tool_call>\nDone.", calls("\nDone.", {{"f", "{}"}}));
}

TEST(ToolCallParser, Llama3) {
    const auto L = ToolCallFormat::Llama3;
    check(L, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
          calls("", {{"get_weather", "{\"city\":\"Paris\"}"}}));
    check(L, "\n<|python_tag|>{\"name\": \"a\", \"parameters\": {\"q\": \"x;y\"}}; {\"name\": \"b\", \"parameters\": {}}<|eom_id|>",
          calls("", {{"a", "{\"q\":\"x;y\"}"}, {"b", "{}"}}));
    check(L, "{\"name\": \"a\", \"parameters\": {}}\n{\"name\": \"b\", \"arguments\": {\"k\": true}}",
          calls("", {{"a", "{}"}, {"b", "{\"k\":true}"}}));
    check(L, "Hello there, {\"name\": \"not a call\"}", content("Hello there, {\"name\": \"not a call\"}"));
    check(L, "  {\"answer\": 42} is JSON", content("  {\"answer\": 42} is JSON"));
    check(L, "<|python_tag|>brave_search.call(query=\"weather in Paris\", count=3)",
          calls("", {{"brave_search", "{\"query\":\"weather in Paris\",\"count\":3}"}}));
    check(L, "<|python_tag|>print(1 + 1)", content("<|python_tag|>print(1 + 1)"));
    check(L, "{\"name\": \"f\", \"parameters\": {\"a\": ", content("{\"name\": \"f\", \"parameters\": {\"a\": "));
    check(L, "<|pyt", content("<|pyt"));
}

TEST(ToolCallParser, Mistral) {
    const auto M = ToolCallFormat::Mistral;
    check(M,
          "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"b\", "
          "\"arguments\": {}, \"id\": \"abcdefghi\"}]",
          calls("", {{"get_weather", "{\"city\":\"Paris\"}"}, {"b", "{}"}}));
    check(M, "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", calls("", {{"get_weather", "{\"city\":\"Paris\"}"}}));
    check(M, "Sure. [TOOL_CALLS]get_weather[CALL_ID]abc123XYZ[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]f2[ARGS]{}",
          calls("Sure.", {{"get_weather", "{\"city\":\"Paris\"}"}, {"f2", "{}"}}));
    check(M, "Hello [TOOL", content("Hello [TOOL"));
    check(M, "[TOOL_CALLS][{\"name\": 1}]", content("[TOOL_CALLS][{\"name\": 1}]"));
    check(M, "[TOOL_CALLS]f[ARGS]{\"a\": ", content("[TOOL_CALLS]f[ARGS]{\"a\": "));
    check(M, "[TOOL_CALLS]not a name[ARGS]{}", content("[TOOL_CALLS]not a name[ARGS]{}"));
}

TEST(ToolCallParser, StreamsContentBeforeTheEnd) {
    // Content must not be held back longer than a possible marker needs.
    ToolCallParser p(ToolCallFormat::Hermes);
    EXPECT_EQ(p.push("Hello wor").content, "Hello wor");
    EXPECT_EQ(p.push("ld <tool").content, "ld");
    EXPECT_EQ(p.push("s> x").content, " <tools> x");
    auto d = p.push("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>");
    ASSERT_EQ(d.tool_calls.size(), 1u);
    EXPECT_EQ(d.tool_calls[0].name, "f");
    EXPECT_EQ(d.tool_calls[0].arguments, "{}");
    EXPECT_TRUE(p.saw_tool_calls());
    EXPECT_TRUE(p.finish().content.empty());
}

// Random texts stitched from markers, JSON pieces and prose: any chunking gives the same
// result, and output without tool calls comes back byte for byte.
TEST(ToolCallParser, RandomTextsAnyChunking) {
    const std::vector<std::string> pieces = {
        "<tool_call>", "</tool_call>", "<tool_", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<|python_tag|>", "<|eom_id|>",
        "{", "}", "[", "]", "\"", "\\", ",", ";", ":", " ", "\n", "name", "\"name\": \"f\"", "\"arguments\": {}",
        "\"parameters\": {\"a\": 1}", "{\"name\": \"g\", \"arguments\": {\"x\": \"}\"}}", "hello", "f.call(a=1)", "<", "é",
        "<tool_call>{\"name\": \"t\", \"arguments\": {\"k\": [1]}}</tool_call>",
        "[TOOL_CALLS][{\"name\": \"m\", \"arguments\": {}}]", "[TOOL_CALLS]m2[ARGS]{\"a\": 1}",
        "{\"name\": \"l\", \"parameters\": {}}", "<|python_tag|>{\"name\": \"h\", \"parameters\": {\"q\": 1}}"};
    std::mt19937 rng(7);
    for (ToolCallFormat f : {ToolCallFormat::Hermes, ToolCallFormat::Llama3, ToolCallFormat::Mistral}) {
        int with_calls = 0;
        for (int iter = 0; iter < 300; ++iter) {
            std::string text;
            const int n = 1 + static_cast<int>(rng() % 12);
            for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
            SCOPED_TRACE(json(text).dump());
            Outcome whole = feed(f, {text});
            with_calls += whole.saw;
            if (!whole.saw) EXPECT_EQ(whole.content, text);
            EXPECT_EQ(whole.saw, !whole.calls.empty());
            std::vector<std::string> chunks;
            for (size_t pos = 0; pos < text.size();) {
                size_t len = 1 + rng() % 5;
                chunks.push_back(text.substr(pos, len));
                pos += len;
            }
            ASSERT_EQ(feed(f, chunks), whole);
            std::vector<std::string> bytes;
            for (char c : text) bytes.emplace_back(1, c);
            ASSERT_EQ(feed(f, bytes), whole);
        }
        EXPECT_GT(with_calls, 5) << hearth::chat::tool_call_format_name(f);
    }
}

}  // namespace
