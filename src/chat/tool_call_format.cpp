// Which tool-call convention a chat template teaches its model, from the template text.
#include "chat/chat.h"

namespace hearth::chat {

const char* tool_call_format_name(ToolCallFormat f) {
    switch (f) {
        case ToolCallFormat::None: return "none";
        case ToolCallFormat::Hermes: return "hermes";
        case ToolCallFormat::Llama3: return "llama3";
        case ToolCallFormat::Mistral: return "mistral";
    }
    return "unknown";
}

ToolCallFormat detect_tool_call_format(std::string_view tmpl, std::string_view architecture) {
    auto has = [&](std::string_view s) { return tmpl.find(s) != std::string_view::npos; };
    // Order matters: Hermes templates for Llama 3 models also mention Llama's header tokens.
    if (has("<tool_call>")) return ToolCallFormat::Hermes;
    if (has("[TOOL_CALLS]")) return ToolCallFormat::Mistral;
    if (has("<|python_tag|>")) return ToolCallFormat::Llama3;
    // Llama 3.2's template has no python tag but teaches {"name": ..., "parameters": ...}.
    if (has("<|start_header_id|>") && has("\"parameters\"")) return ToolCallFormat::Llama3;
    // A Llama-architecture template that lists tools between Llama 3 headers without
    // saying how to call them still gets the model's own convention.
    if (architecture == "llama" && has("<|start_header_id|>") && has("tools")) return ToolCallFormat::Llama3;
    return ToolCallFormat::None;
}

}  // namespace hearth::chat
