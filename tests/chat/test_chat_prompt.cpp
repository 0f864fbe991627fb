// build_chat_prompt with the real chat templates in shared/data/templates: the message
// normalisation (developer role, content parts, JSON-string tool arguments, tool results)
// must give the prompts transformers would render.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "chat/chat.h"
#include "support/shared_data.h"

namespace {

using hearth::chat::build_chat_prompt;
using hearth::chat::ChatPromptOptions;
using hearth::chat::ToolCallFormat;
using json = nlohmann::ordered_json;
namespace tk = hearth::tokenizer;

std::string read_template(const std::string& name) {
    std::ifstream f(hearth::test::shared_path("data/templates/" + name), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// A vocabulary with only the special tokens the templates print (bos/eos).
tk::Tokenizer tiny_tokenizer(const std::string& bos, const std::string& eos, bool eos_is_eog = true) {
    tk::Vocab v;
    v.type = tk::VocabType::Bpe;
    v.model = "gpt2";
    v.pre = "gpt-2";
    for (const char* t : {"a", "b", "c"}) {
        v.tokens.push_back(t);
        v.types.push_back(tk::TokenType::Normal);
    }
    v.tokens.push_back(bos);
    v.types.push_back(tk::TokenType::Control);
    v.tokens.push_back(eos);
    v.types.push_back(eos_is_eog ? tk::TokenType::Control : tk::TokenType::Normal);
    v.bos = 3;
    if (eos_is_eog) v.eos = 4;
    auto t = tk::Tokenizer::from_vocab(std::move(v));
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return std::move(*t);
}

hearth::gguf::Metadata metadata_with(const std::string& tmpl, const std::string& arch = "qwen2") {
    hearth::gguf::Metadata md;
    md.set("general.architecture", hearth::gguf::Value::str(arch));
    if (!tmpl.empty()) md.set("tokenizer.chat_template", hearth::gguf::Value::str(tmpl));
    return md;
}

json weather_tools() {
    return json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
}

// OpenAI-shaped conversation: developer role, text parts, a tool call whose arguments are
// a JSON string and null content, the tool's answer, a reply and a new question.
json tool_conversation(const std::string& call_id = "call_8fKq2LmZpX0aBc7TnE5vR1sY") {
    return json::array({
        {{"role", "developer"}, {"content", "You are terse."}},
        {{"role", "user"},
         {"content", json::array({{{"type", "text"}, {"text", "Weather in"}}, {{"type", "text"}, {"text", "Paris?"}}})}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls", json::array({{{"id", call_id},
                                      {"type", "function"},
                                      {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}})}},
        {{"role", "tool"}, {"tool_call_id", call_id}, {"content", "{\"temp\": 22}"}},
        {{"role", "assistant"}, {"content", "22 degrees."}},
        {{"role", "user"}, {"content", "Thanks"}},
    });
}

TEST(ChatPrompt, Qwen25SystemAndUser) {
    HEARTH_REQUIRE_SHARED("data/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
    auto tok = tiny_tokenizer("<|endoftext|>", "<|im_end|>");
    auto md = metadata_with(read_template("Qwen-Qwen2.5-7B-Instruct.jinja"));
    json msgs = json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}});
    auto p = build_chat_prompt(md, tok, msgs, nullptr);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_EQ(p->tool_format, ToolCallFormat::Hermes);
    EXPECT_TRUE(p->stops.empty());  // <|im_end|> is the eos token

    ChatPromptOptions no_gen;
    no_gen.add_generation_prompt = false;
    auto q = build_chat_prompt(md, tok, msgs, nullptr, no_gen);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatPrompt, Qwen25ToolHistory) {
    HEARTH_REQUIRE_SHARED("data/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
    auto tok = tiny_tokenizer("<|endoftext|>", "<|im_end|>");
    auto md = metadata_with(read_template("Qwen-Qwen2.5-7B-Instruct.jinja"));
    auto p = build_chat_prompt(md, tok, tool_conversation(), weather_tools());
    ASSERT_TRUE(p.ok()) << p.error().message;
    const std::string& t = p->text;
    EXPECT_EQ(t.rfind("<|im_start|>system\nYou are terse.\n\n# Tools\n", 0), 0u) << t;
    EXPECT_NE(t.find("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": "
                     "\"Weather for a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": "
                     "{\"type\": \"string\"}}, \"required\": [\"city\"]}}}\n</tools>"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("<|im_start|>user\nWeather in\nParis?<|im_end|>\n"), std::string::npos) << t;
    EXPECT_NE(t.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                     "\"Paris\"}}\n</tool_call><|im_end|>\n"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("<|im_start|>user\n<tool_response>\n{\"temp\": 22}\n</tool_response><|im_end|>\n"
                     "<|im_start|>assistant\n22 degrees.<|im_end|>\n<|im_start|>user\nThanks<|im_end|>\n"
                     "<|im_start|>assistant\n"),
              std::string::npos)
        << t;
}

TEST(ChatPrompt, Qwen3ToolHistory) {
    HEARTH_REQUIRE_SHARED("data/templates/Qwen-Qwen3-0.6B.jinja");
    auto tok = tiny_tokenizer("<|endoftext|>", "<|im_end|>");
    auto md = metadata_with(read_template("Qwen-Qwen3-0.6B.jinja"), "qwen3");
    auto p = build_chat_prompt(md, tok, tool_conversation(), weather_tools());
    ASSERT_TRUE(p.ok()) << p.error().message;
    const std::string& t = p->text;
    EXPECT_EQ(p->tool_format, ToolCallFormat::Hermes);
    EXPECT_EQ(t.rfind("<|im_start|>system\nYou are terse.\n\n# Tools\n", 0), 0u) << t;
    EXPECT_NE(t.find("\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""), std::string::npos) << t;
    // Arguments reach the template as an object: tojson writes Python's separators.
    EXPECT_NE(t.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                     "\"Paris\"}}\n</tool_call><|im_end|>\n"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("<|im_start|>user\n<tool_response>\n{\"temp\": 22}\n</tool_response><|im_end|>\n"),
              std::string::npos)
        << t;
    EXPECT_TRUE(t.ends_with("<|im_start|>user\nThanks<|im_end|>\n<|im_start|>assistant\n")) << t;
}

TEST(ChatPrompt, Llama31ToolsAndCalls) {
    HEARTH_REQUIRE_SHARED("data/templates/meta-llama-Llama-3.1-8B-Instruct.jinja");
    auto tok = tiny_tokenizer("<|begin_of_text|>", "<|eot_id|>");
    const std::string src = read_template("meta-llama-Llama-3.1-8B-Instruct.jinja");
    auto md = metadata_with(src, "llama");
    auto p = build_chat_prompt(md, tok, tool_conversation(), weather_tools());
    ASSERT_TRUE(p.ok()) << p.error().message;
    const std::string& t = p->text;
    EXPECT_EQ(p->tool_format, ToolCallFormat::Llama3);
    EXPECT_EQ(t.rfind("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n", 0), 0u)
        << t;
    EXPECT_NE(t.find("You are terse.<|eot_id|>"), std::string::npos) << t;
    // Tools go into the first user message, pretty-printed.
    EXPECT_NE(t.find("<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions"), std::string::npos);
    EXPECT_NE(t.find("{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\""),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("Weather in\nParis?<|eot_id|>"), std::string::npos) << t;
    EXPECT_NE(t.find("<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": "
                     "{\"city\": \"Paris\"}}<|eot_id|>"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("<|start_header_id|>ipython<|end_header_id|>\n\n"), std::string::npos) << t;
    EXPECT_TRUE(t.ends_with("<|start_header_id|>user<|end_header_id|>\n\nThanks<|eot_id|>"
                            "<|start_header_id|>assistant<|end_header_id|>\n\n"))
        << t;
}

TEST(ChatPrompt, Llama32UserAssistant) {
    HEARTH_REQUIRE_SHARED("data/templates/meta-llama-Llama-3.2-3B-Instruct.jinja");
    auto tok = tiny_tokenizer("<|begin_of_text|>", "<|eot_id|>");
    auto md = metadata_with(read_template("meta-llama-Llama-3.2-3B-Instruct.jinja"), "llama");
    json msgs = json::array({{{"role", "user"}, {"content", "Hi"}}, {{"role", "assistant"}, {"content", "Hello!"}},
                             {{"role", "user"}, {"content", "Bye"}}});
    auto p = build_chat_prompt(md, tok, msgs, nullptr);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->tool_format, ToolCallFormat::Llama3);
    EXPECT_NE(p->text.find("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant"
                           "<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye"
                           "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
              std::string::npos)
        << p->text;
    EXPECT_EQ(p->text.find("Environment: ipython"), std::string::npos);
}

TEST(ChatPrompt, MistralNemoToolIdsBecomeNineCharacters) {
    HEARTH_REQUIRE_SHARED("data/templates/mistralai-Mistral-Nemo-Instruct-2407.jinja");
    auto tok = tiny_tokenizer("<s>", "</s>");
    auto md = metadata_with(read_template("mistralai-Mistral-Nemo-Instruct-2407.jinja"), "llama");
    auto p = build_chat_prompt(md, tok, tool_conversation(), weather_tools());
    ASSERT_TRUE(p.ok()) << p.error().message;
    const std::string& t = p->text;
    EXPECT_EQ(p->tool_format, ToolCallFormat::Mistral);
    const std::string call_prefix = "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"";
    size_t at = t.find(call_prefix);
    ASSERT_NE(at, std::string::npos) << t;
    std::string id = t.substr(at + call_prefix.size(), 9);
    for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
    EXPECT_EQ(t.substr(at + call_prefix.size() + 9, 7), "\"}]</s>");
    EXPECT_NE(t.find("[TOOL_RESULTS]{\"content\": {\"temp\": 22}, \"call_id\": \"" + id + "\"}[/TOOL_RESULTS]"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("[AVAILABLE_TOOLS][{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""),
              std::string::npos)
        << t;
    EXPECT_TRUE(t.ends_with("[INST]You are terse.\n\nThanks[/INST]")) << t;
    EXPECT_EQ(t.rfind("<s>[INST]Weather in\nParis?[/INST]", 0), 0u) << t;
}

TEST(ChatPrompt, MistralSmallNewToolForm) {
    HEARTH_REQUIRE_SHARED("data/templates/Mistral-Small-3.2-24B-Instruct-2506.jinja");
    auto tok = tiny_tokenizer("<s>", "</s>");
    auto md = metadata_with(read_template("Mistral-Small-3.2-24B-Instruct-2506.jinja"), "llama");
    auto p = build_chat_prompt(md, tok, tool_conversation("abcDEF123"), weather_tools());
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_NE(p->text.find("[TOOL_CALLS]get_weather[CALL_ID]abcDEF123[ARGS]{\"city\": \"Paris\"}</s>"),
              std::string::npos)
        << p->text;
    EXPECT_NE(p->text.find("[TOOL_RESULTS]abcDEF123[TOOL_CONTENT]{\"temp\": 22}[/TOOL_RESULTS]"), std::string::npos);
}

// Templates that concatenate arguments as text and render tool calls only for null
// content get exactly that (found by probing the template, as llama.cpp does).
TEST(ChatPrompt, StringArgumentTemplates) {
    HEARTH_REQUIRE_SHARED("data/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
    auto tok = tiny_tokenizer("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
    auto md = metadata_with(read_template("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"));
    auto p = build_chat_prompt(md, tok, tool_conversation(), weather_tools());
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_NE(p->text.find("<｜User｜>Weather in\nParis?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
                           "<｜tool▁sep｜>get_weather\n```json\n{\"city\":\"Paris\"}\n```<｜tool▁call▁end｜>"),
              std::string::npos)
        << p->text;
    EXPECT_NE(p->text.find("<｜tool▁output▁begin｜>{\"temp\": 22}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>22 degrees."),
              std::string::npos)
        << p->text;

    HEARTH_REQUIRE_SHARED("data/templates/meetkai-functionary-medium-v3.2.jinja");
    auto md2 = metadata_with(read_template("meetkai-functionary-medium-v3.2.jinja"), "llama");
    auto q = build_chat_prompt(md2, tok, tool_conversation(), weather_tools());
    ASSERT_TRUE(q.ok()) << q.error().message;
    EXPECT_NE(q->text.find(">>>get_weather\n{\"city\":\"Paris\"}"), std::string::npos) << q->text;
}

// Every shared template gets the tool conversation: it renders, or says why not; and
// where it shows the call, the arguments are there in some form.
TEST(ChatPrompt, AllSharedTemplatesWithToolHistory) {
    HEARTH_REQUIRE_SHARED("data/templates");
    auto tok = tiny_tokenizer("<s>", "</s>");
    int rendered = 0, total = 0;
    for (const auto& e : std::filesystem::directory_iterator(hearth::test::shared_path("data/templates"))) {
        if (e.path().extension() != ".jinja") continue;
        ++total;
        auto md = metadata_with(read_template(e.path().filename().string()));
        auto p = build_chat_prompt(md, tok, tool_conversation("abcDEF123"), weather_tools());
        if (!p.ok()) {
            EXPECT_FALSE(p.error().message.empty());
            std::cout << "[ template ] " << e.path().filename().string() << ": " << p.error().message << "\n";
            continue;
        }
        ++rendered;
        EXPECT_NE(p->text.find("Paris"), std::string::npos) << e.path().filename();
    }
    std::cout << "[ template ] " << rendered << " of " << total << " templates render the tool conversation\n";
    EXPECT_GE(rendered, total - 3);
}

// Gemma's template refuses the system role; the system text joins the first user turn.
TEST(ChatPrompt, SystemMergedWhereTheTemplateHasNoSystemRole) {
    HEARTH_REQUIRE_SHARED("data/templates/google-gemma-2-2b-it.jinja");
    auto tok = tiny_tokenizer("<bos>", "<eos>");
    auto md = metadata_with(read_template("google-gemma-2-2b-it.jinja"), "gemma2");
    json msgs = json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}});
    auto p = build_chat_prompt(md, tok, msgs, nullptr);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->text, "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
    EXPECT_EQ(p->stops, std::vector<std::string>{"<end_of_turn>"});
}

TEST(ChatPrompt, ChatMlWhenTheModelHasNoTemplate) {
    auto tok = tiny_tokenizer("<s>", "</s>");
    auto md = metadata_with("");
    json msgs = json::array({{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "U"}}});
    auto p = build_chat_prompt(md, tok, msgs, nullptr);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->text, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
    // <|im_end|> is not a token of this vocabulary: the engine must stop on the text.
    EXPECT_EQ(p->stops, std::vector<std::string>{"<|im_end|>"});
    EXPECT_EQ(p->tool_format, ToolCallFormat::Hermes);

    auto q = build_chat_prompt(md, tok, tool_conversation(), weather_tools());
    ASSERT_TRUE(q.ok()) << q.error().message;
    EXPECT_NE(q->text.find("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"),
              std::string::npos)
        << q->text;

    ChatPromptOptions o;
    o.template_override = "{{ bos_token }}|{% for m in messages %}{{ m.role }}:{{ m.content }}|{% endfor %}{{ eos_token }}";
    auto r = build_chat_prompt(md, tok, msgs, nullptr, o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->text, "<s>|system:S|user:U|</s>");
}

TEST(PrepareChat, PromptTokensBosConstraintStopsAndReasoning) {
    auto tok = tiny_tokenizer("<s>", "</s>");
    json msgs = json::array({{{"role", "user"}, {"content", "abc"}}});
    ChatPromptOptions o;
    o.template_override = "{% for m in messages %}{{ m.content }}{% endfor %}";
    auto md = metadata_with("");
    auto text = hearth::chat::prepare_chat(md, tok, msgs, nullptr, {}, o);
    ASSERT_TRUE(std::holds_alternative<hearth::chat::PreparedChat>(text));
    const auto& t = std::get<hearth::chat::PreparedChat>(text);
    EXPECT_EQ(t.prompt, tok.encode("abc", false, true));
    EXPECT_EQ(t.constraint, nullptr);
    EXPECT_FALSE(t.starts_in_reasoning);

    // A prompt that opens a reasoning block for the reply.
    o.template_override = "{% for m in messages %}{{ m.content }}{% endfor %}<think>\n";
    auto think = hearth::chat::prepare_chat(md, tok, msgs, nullptr, {}, o);
    ASSERT_TRUE(std::holds_alternative<hearth::chat::PreparedChat>(think));
    EXPECT_TRUE(std::get<hearth::chat::PreparedChat>(think).starts_in_reasoning);

    // Output rules become constraints; what cannot be enforced names its field.
    o.template_override.clear();
    using Kind = hearth::chat::ChatOutput::Kind;
    auto json_out = hearth::chat::prepare_chat(md, tok, msgs, nullptr, {Kind::Json, nullptr}, o);
    ASSERT_TRUE(std::holds_alternative<hearth::chat::PreparedChat>(json_out));
    EXPECT_NE(std::get<hearth::chat::PreparedChat>(json_out).constraint, nullptr);
    EXPECT_EQ(std::get<hearth::chat::PreparedChat>(json_out).stops, std::vector<std::string>{"<|im_end|>"});
    const json bad = json::parse(R"({"type": "string", "pattern": "^a+$"})");
    auto refused = hearth::chat::prepare_chat(md, tok, msgs, nullptr, {Kind::Json, bad}, o);
    ASSERT_TRUE(std::holds_alternative<hearth::chat::PrepareError>(refused));
    EXPECT_EQ(std::get<hearth::chat::PrepareError>(refused).field, "response_format");
    auto lenient = hearth::chat::prepare_chat(md, tok, msgs, nullptr, {Kind::ForcedToolCall, bad}, o);
    EXPECT_TRUE(std::holds_alternative<hearth::chat::PreparedChat>(lenient)) << "a tool's schema is best effort";
    auto broken = hearth::chat::prepare_chat(md, tok, json::array({{{"role", "user"}}}), nullptr, {}, o);
    ASSERT_TRUE(std::holds_alternative<hearth::chat::PrepareError>(broken));
    EXPECT_EQ(std::get<hearth::chat::PrepareError>(broken).field, "messages");
}

TEST(ChatPrompt, ValidationErrors) {
    auto tok = tiny_tokenizer("<s>", "</s>");
    auto md = metadata_with("");
    auto err = [&](const json& messages, const json& tools = nullptr) {
        auto p = build_chat_prompt(md, tok, messages, tools);
        return p.ok() ? std::string("(ok)") : p.error().message;
    };
    EXPECT_NE(err(json::array()).find("at least one message"), std::string::npos);
    EXPECT_NE(err(json::object()).find("must be an array"), std::string::npos);
    EXPECT_NE(err(json::array({{{"content", "x"}}})).find("messages[0] is missing 'role'"), std::string::npos);
    EXPECT_NE(err(json::array({{{"role", "wizard"}, {"content", "x"}}})).find("unknown role 'wizard'"),
              std::string::npos);
    EXPECT_NE(err(json::array({{{"role", "user"}, {"content", 42}}})).find("messages[0].content must be a string"),
              std::string::npos);
    EXPECT_NE(err(json::array({{{"role", "user"}}})).find("missing 'content'"), std::string::npos);
    EXPECT_NE(err(json::array({{{"role", "user"},
                                {"content", json::array({{{"type", "image_url"}, {"image_url", "x"}}})}}}))
                  .find("'image_url' are not supported"),
              std::string::npos);
    EXPECT_NE(err(json::array({{{"role", "user"}, {"content", "x"}}}), json::object()).find("'tools' must be an array"),
              std::string::npos);
    EXPECT_NE(err(json::array({{{"role", "assistant"}, {"tool_calls", json::array({{{"type", "function"}}})}}}))
                  .find("has no 'function' object"),
              std::string::npos);
    // Template failures are errors too (Mistral insists on alternating roles).
    ChatPromptOptions o;
    o.template_override = "{{ raise_exception('roles must alternate') }}";
    auto p = build_chat_prompt(md, tok, json::array({{{"role", "user"}, {"content", "x"}}}), nullptr, o);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("roles must alternate"), std::string::npos) << p.error().message;
}

TEST(ChatPrompt, DetectsToolCallFormats) {
    using hearth::chat::detect_tool_call_format;
    EXPECT_EQ(detect_tool_call_format("x <tool_call> y", ""), ToolCallFormat::Hermes);
    EXPECT_EQ(detect_tool_call_format("{{ '[TOOL_CALLS]' }}", ""), ToolCallFormat::Mistral);
    EXPECT_EQ(detect_tool_call_format("<|python_tag|>", ""), ToolCallFormat::Llama3);
    EXPECT_EQ(detect_tool_call_format("<|start_header_id|> \"parameters\": ", ""), ToolCallFormat::Llama3);
    EXPECT_EQ(detect_tool_call_format("<|im_start|>{{ content }}", "qwen2"), ToolCallFormat::None);
    EXPECT_STREQ(hearth::chat::tool_call_format_name(ToolCallFormat::Mistral), "mistral");
    HEARTH_REQUIRE_SHARED("data/templates");
    EXPECT_EQ(detect_tool_call_format(read_template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja"), "llama"),
              ToolCallFormat::Hermes);
    EXPECT_EQ(detect_tool_call_format(read_template("meta-llama-Llama-3.2-3B-Instruct.jinja"), "llama"),
              ToolCallFormat::Llama3);
    EXPECT_EQ(detect_tool_call_format(read_template("unsloth-mistral-Devstral-Small-2507.jinja"), "llama"),
              ToolCallFormat::Mistral);
    EXPECT_EQ(detect_tool_call_format(read_template("google-gemma-2-2b-it.jinja"), "gemma2"), ToolCallFormat::None);
}

}  // namespace
