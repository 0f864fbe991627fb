// hearth/chat — conversations on top of the engine: OpenAI-style messages and tools
// rendered into a prompt with the model's own chat template, the model's native
// tool-call output parsed back into OpenAI tool_calls (incrementally, for streaming),
// and constrained decoding (JSON schema -> grammar -> token masks). It depends on
// hearth_template, hearth_tokenizer and hearth_llm and knows nothing of HTTP.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "gguf/metadata.h"
#include "llm/token_constraint.h"
#include "tokenizer/tokenizer.h"

namespace hearth::chat {

// How a model writes tool calls in its output.
enum class ToolCallFormat {
    None,     // no tool calling known for this template
    Hermes,   // Qwen 2.5/3, Hermes: <tool_call>{"name":..,"arguments":{..}}</tool_call>
    Llama3,   // Llama 3.x: [<|python_tag|>]{"name":..,"parameters":{..}} (one per line or ';')
    Mistral,  // [TOOL_CALLS][{"name":..,"arguments":{..}}, ...]
};
const char* tool_call_format_name(ToolCallFormat f);
// From the chat template text (and architecture as a hint).
ToolCallFormat detect_tool_call_format(std::string_view chat_template, std::string_view architecture);

struct ChatPromptOptions {
    bool add_generation_prompt = true;
    std::string template_override;  // use this template text instead of the model's
};

struct ChatPrompt {
    std::string text;                 // the rendered prompt (encode with parse_special = true)
    ToolCallFormat tool_format = ToolCallFormat::None;
    std::vector<std::string> stops;   // extra stop strings the template implies (may be empty)
};

// Renders OpenAI `messages` (roles system/developer/user/assistant/tool; content as a
// string or an array of {type:"text"} parts; assistant tool_calls with JSON-string
// arguments) and `tools` (null or an array of OpenAI tool objects) with the model's
// `tokenizer.chat_template` (a ChatML template when the model has none). Errors
// (malformed messages, template failures) are values with a message fit for a 400.
Result<ChatPrompt> build_chat_prompt(const gguf::Metadata& metadata, const tokenizer::Tokenizer& tokenizer,
                                     const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                     const ChatPromptOptions& options = {});

// What a chat completion's output must be.
struct ChatOutput {
    enum class Kind {
        Text,            // free text (tool calls, if any, parsed from it)
        ForcedToolCall,  // {"name","arguments"} per `schema`; keywords the grammar cannot
                         // enforce (pattern, minimum) are ignored: the client wrote the schema
        Json,            // response_format: `schema` (null: any object), refused when unenforceable
    } kind = Kind::Text;
    nlohmann::ordered_json schema;
};

// Everything the engine needs for one chat completion.
struct PreparedChat {
    std::vector<int32_t> prompt;  // the rendered template encoded, BOS as the model wants
    std::shared_ptr<llm::TokenConstraint> constraint;  // null for Text
    std::vector<std::string> stops;                    // the template's extra stop strings
    ToolCallFormat tool_format = ToolCallFormat::None;
    bool starts_in_reasoning = false;  // the prompt opened a <think> block for the reply
};

// Why a chat completion cannot be prepared, and which request field is at fault
// ("messages", "tools", "response_format"): a 400 for the caller.
struct PrepareError {
    std::string message;
    std::string field;
};

// Renders `messages` and `tools` (null: none offered) with the model's template (see
// build_chat_prompt), encodes the prompt and builds the output's constraint.
std::variant<PreparedChat, PrepareError> prepare_chat(const gguf::Metadata& metadata,
                                                      const tokenizer::Tokenizer& tokenizer,
                                                      const nlohmann::ordered_json& messages,
                                                      const nlohmann::ordered_json& tools, const ChatOutput& output,
                                                      const ChatPromptOptions& options = {});

// One piece of an OpenAI streamed tool call: the first delta of a call carries id and
// name (arguments may be empty), later ones only argument text to append.
struct ToolCallDelta {
    int index = 0;
    std::string id;         // "call_<...>", first delta only
    std::string name;       // first delta only
    std::string arguments;  // JSON text fragment
};

struct ParsedDelta {
    std::string content;                    // plain assistant text to emit now
    std::vector<ToolCallDelta> tool_calls;
};

// Feeds generated text incrementally; separates ordinary content from tool calls.
// Text that may be the beginning of a tool-call marker is held back until decided.
// With ToolCallFormat::None everything is content (use it when the request has no tools).
// Markers that are control tokens ([TOOL_CALLS], <|python_tag|>) reach the parser only
// when the output is detokenized with special tokens rendered. Each call is emitted in
// one delta once its JSON is complete; a call that never becomes valid JSON comes back as
// content, raw. Whitespace next to tool calls is dropped; output without tool calls comes
// back byte for byte.
class ToolCallParser {
public:
    explicit ToolCallParser(ToolCallFormat format);
    ~ToolCallParser();
    ParsedDelta push(std::string_view text);
    ParsedDelta finish();          // end of generation: flush what was held back
    bool saw_tool_calls() const;   // finish_reason should be "tool_calls"

    struct State;

private:
    std::unique_ptr<State> state_;
};

// Token mask for output that must be JSON: `schema` null -> any JSON object
// (response_format json_object); otherwise a JSON Schema (response_format json_schema):
// type, properties, required, additionalProperties, items, enum, const, anyOf/oneOf,
// $ref/$defs, minItems/maxItems, string/number/integer/boolean/null. Unsupported
// schema keywords that change what is valid are an error naming them.
// Declared properties come in schema order; without additionalProperties only they are
// allowed (see json_schema_grammar.h). No whitespace before or after the value, so
// complete() turns true right after the closing bracket of an object or array.
Result<std::shared_ptr<llm::TokenConstraint>> make_json_constraint(const tokenizer::Tokenizer& tokenizer,
                                                                   const nlohmann::ordered_json* schema);
// Same, but keywords the grammar cannot enforce (pattern, minimum, format-like checks)
// are ignored instead of refused: for schemas the caller does not control, such as a
// forced tool call's parameters, where a best-effort constraint beats an error.
Result<std::shared_ptr<llm::TokenConstraint>> make_json_constraint_lenient(const tokenizer::Tokenizer& tokenizer,
                                                                           const nlohmann::ordered_json& schema);

}  // namespace hearth::chat
