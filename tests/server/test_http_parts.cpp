#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/metrics.h"
#include "server/openai_params.h"
#include "server/router.h"
#include "server/tool_calls.h"
#include "support/shared_data.h"

namespace hearth::server {
namespace {
namespace fs = std::filesystem;

TEST(OpenAIParams, DefaultsAndConversions) {
    CommonParams p;
    auto body = ojson::parse(R"({"model":"m","max_completion_tokens":7,"temperature":0,"stop":"x","seed":5,
                                 "presence_penalty":1,"stream":true,"stream_options":{"include_usage":true},
                                 "logprobs":true,"top_logprobs":4})");
    ASSERT_FALSE(parse_common_params(body, Endpoint::Chat, p).has_value());
    EXPECT_EQ(p.model, "m");
    EXPECT_EQ(p.gen.max_tokens, 7);
    EXPECT_EQ(p.gen.sampling.temperature, 0.0f);
    EXPECT_EQ(p.gen.sampling.top_p, 1.0f);  // OpenAI's default
    EXPECT_EQ(p.gen.sampling.seed, 5u);
    EXPECT_EQ(p.gen.sampling.repeat_last_n, -1);  // penalties see the whole output
    EXPECT_EQ(p.gen.stop, std::vector<std::string>{"x"});
    EXPECT_TRUE(p.stream && p.include_usage && p.logprobs);
    EXPECT_EQ(p.top_logprobs, 4);
    CommonParams q;
    ASSERT_FALSE(parse_common_params(ojson::parse(R"({"model":"m"})"), Endpoint::Chat, q).has_value());
    EXPECT_EQ(q.gen.max_tokens, -1);  // until the context is full
    CommonParams c;
    ASSERT_FALSE(parse_common_params(ojson::parse(R"({"model":"m","logprobs":3})"), Endpoint::Completions, c));
    EXPECT_TRUE(c.logprobs);
    EXPECT_EQ(c.top_logprobs, 3);
}

TEST(OpenAIParams, ErrorsNameTheParam) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({})", "model"},
        {R"({"model":"m","max_tokens":-1})", "max_tokens"},
        {R"({"model":"m","max_tokens":18446744073709551615})", "max_tokens"},
        {R"({"model":"m","top_p":2})", "top_p"},
        {R"({"model":"m","n":3})", "n"},
        {R"({"model":"m","stop":[1]})", "stop"},
        {R"({"model":"m","stream":"yes"})", "stream"},
        {R"({"model":"m","stream":true,"stream_options":{"include_usage":1}})", "stream_options.include_usage"},
    };
    for (const auto& [json, param] : cases) {
        CommonParams p;
        auto e = parse_common_params(ojson::parse(json), Endpoint::Chat, p);
        ASSERT_TRUE(e.has_value()) << json;
        EXPECT_EQ(e->status, 400);
        EXPECT_EQ(e->param, param) << json;
        EXPECT_EQ(e->to_json()["error"]["type"], "invalid_request_error");
    }
}

TEST(ToolCalls, ChoiceSchemaAndOutput) {
    auto body = ojson::parse(R"({"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}},
                                          {"type":"function","function":{"name":"b"}}],
                                 "tool_choice":{"type":"function","function":{"name":"b"}}})");
    ojson tools;
    ToolChoice choice;
    ASSERT_FALSE(parse_tools(body, tools, choice).has_value());
    EXPECT_EQ(choice.mode, ToolChoice::Mode::Named);
    const auto named = forced_tool_call_schema(tools, choice);
    EXPECT_EQ(named["properties"]["name"]["const"], "b");
    choice.mode = ToolChoice::Mode::Required;
    const auto any = forced_tool_call_schema(tools, choice);
    ASSERT_EQ(any["anyOf"].size(), 2u);
    auto call = forced_output_to_tool_call(R"({"name":"a","arguments":{"x":[1,2]}})");
    ASSERT_TRUE(call.has_value());
    EXPECT_EQ((*call)["function"]["name"], "a");
    EXPECT_EQ((*call)["function"]["arguments"], R"({"x":[1,2]})");
    EXPECT_FALSE(forced_output_to_tool_call(R"({"name":"a","argu)").has_value());
    body["tool_choice"]["function"]["name"] = "zzz";
    auto e = parse_tools(body, tools, choice);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->param, "tool_choice");
}

TEST(Metrics, PrometheusText) {
    Metrics m;
    m.count_request("/v1/chat/completions", 200, 0.3);
    m.count_request("/v1/chat/completions", 200, 0.03);
    m.count_request("/v1/models", 401, 0.001);
    m.count_generation(10, 5, 0.02);
    const std::string text = m.render(EngineGauges{1, 3, 2});
    EXPECT_NE(text.find("hearth_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_requests_total{route=\"/v1/models\",status=\"401\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_prompt_tokens_total 10\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_active_sequences 3\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_queue_depth 2\n"), std::string::npos);
    // Cumulative buckets: 0.03 <= 0.05; 0.3 only from 0.5 up.
    EXPECT_NE(text.find("hearth_request_duration_seconds_bucket{le=\"0.05\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_request_duration_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_request_duration_seconds_bucket{le=\"0.5\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_request_duration_seconds_count 3\n"), std::string::npos);
    EXPECT_NE(text.find("hearth_time_to_first_token_seconds_bucket{le=\"0.025\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace hearth::server
