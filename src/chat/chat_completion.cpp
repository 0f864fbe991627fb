// A chat request turned into what the engine runs: prompt tokens, the output's
// constraint and the template's stop strings.
#include "chat/chat.h"

namespace hearth::chat {

namespace {

// The template ended the prompt inside a reasoning block (DeepSeek-R1 style): the
// reply's first words are reasoning, before any "</think>".
bool ends_in_reasoning(const std::string& prompt) {
    constexpr std::string_view kOpen = "<think>";
    const size_t end = prompt.find_last_not_of(" \t\r\n");
    if (end == std::string::npos || end + 1 < kOpen.size()) return false;
    return std::string_view(prompt).substr(end + 1 - kOpen.size(), kOpen.size()) == kOpen;
}

}  // namespace

std::variant<PreparedChat, PrepareError> prepare_chat(const gguf::Metadata& metadata,
                                                      const tokenizer::Tokenizer& tokenizer,
                                                      const nlohmann::ordered_json& messages,
                                                      const nlohmann::ordered_json& tools, const ChatOutput& output,
                                                      const ChatPromptOptions& options) {
    auto rendered = build_chat_prompt(metadata, tokenizer, messages, tools, options);
    if (!rendered) return PrepareError{rendered.error().message, "messages"};
    PreparedChat out;
    out.prompt = tokenizer.encode(rendered->text, false, true);
    if (tokenizer.add_bos() && (out.prompt.empty() || out.prompt.front() != tokenizer.bos())) {
        out.prompt.insert(out.prompt.begin(), tokenizer.bos());
    }
    if (out.prompt.empty()) return PrepareError{"The prompt is empty", "messages"};
    out.stops = std::move(rendered->stops);
    out.tool_format = rendered->tool_format;
    out.starts_in_reasoning = ends_in_reasoning(rendered->text);
    if (output.kind == ChatOutput::Kind::ForcedToolCall) {
        auto c = make_json_constraint_lenient(tokenizer, output.schema);
        if (!c) return PrepareError{"tool parameters: " + c.error().message, "tools"};
        out.constraint = std::move(*c);
    } else if (output.kind == ChatOutput::Kind::Json) {
        auto c = make_json_constraint(tokenizer, output.schema.is_null() ? nullptr : &output.schema);
        if (!c) return PrepareError{c.error().message, "response_format"};
        out.constraint = std::move(*c);
    }
    return out;
}

}  // namespace hearth::chat
