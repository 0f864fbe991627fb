#include "chat_view.h"

#include <cstdio>

#include "markdown.h"

namespace hearth::ui {
namespace {

std::string fixed(double v, int decimals) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string attr(const std::string& name, const std::string& value) { return " " + name + "=\"" + escape_html(value) + "\""; }

std::string button(const std::string& action, const std::string& label, size_t index, const std::string& title = "") {
    return "<button type=\"button\" class=\"link\" data-action=\"" + action + "\" data-index=\"" + std::to_string(index) +
           "\"" + (title.empty() ? "" : attr("title", title)) + ">" + label + "</button>";
}

std::string render_tool_calls(const nlohmann::json& calls) {
    std::string out;
    for (const auto& call : calls) {
        if (!call.is_object()) continue;
        const auto fn = call.find("function");
        std::string name, arguments;
        if (fn != call.end() && fn->is_object()) {
            if (auto n = fn->find("name"); n != fn->end() && n->is_string()) name = n->get<std::string>();
            if (auto a = fn->find("arguments"); a != fn->end() && a->is_string()) arguments = a->get<std::string>();
        }
        // Pretty-print arguments that are (already complete) JSON.
        const auto parsed = nlohmann::json::parse(arguments, nullptr, false);
        if (!parsed.is_discarded()) arguments = parsed.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        out += "<div class=\"tool-call\"><div class=\"tool-name\">Tool call <code>" + escape_html(name) +
               "</code></div><pre><code>" + escape_html(arguments) + "</code></pre></div>";
    }
    return out;
}

std::string render_reasoning(const std::string& reasoning, bool thinking, const MessageView& view) {
    if (reasoning.empty() && !thinking) return {};
    return std::string("<details class=\"think\"") + (view.reasoning_open ? " open" : "") +
           "><summary data-action=\"fold\" data-index=\"" + std::to_string(view.index) + "\">" +
           (thinking ? "Thinking…" : "Reasoning") + "</summary><div class=\"md\">" + render_markdown(reasoning) +
           "</div></details>";
}

std::string render_user(const ChatMessage& m, const MessageView& view) {
    std::string out = "<div class=\"role\">You</div>";
    if (view.editing) {
        const std::string id = "edit-" + std::to_string(view.index);
        out += "<div class=\"body\"><textarea class=\"edit\" id=\"" + id + "\" rows=\"4\">" + escape_html(m.content) +
               "</textarea><div class=\"edit-actions\">" + button("edit-send", "Save &amp; send", view.index) +
               button("edit-cancel", "Cancel", view.index) + "</div></div>";
        return out;
    }
    out += "<div class=\"body plain\">" + escape_html(m.content) + "</div><div class=\"meta\">";
    if (!view.streaming) out += button("edit", "Edit", view.index, "Edit and send again");
    return out + "</div>";
}

}  // namespace

ThinkSplit split_think(const std::string& content) {
    ThinkSplit out;
    const size_t start = content.find_first_not_of(" \t\r\n");
    static constexpr std::string_view kOpen = "<think>", kClose = "</think>";
    if (start == std::string::npos || content.compare(start, kOpen.size(), kOpen) != 0) {
        out.answer = content;
        return out;
    }
    const size_t body = start + kOpen.size();
    const size_t close = content.find(kClose, body);
    if (close == std::string::npos) {
        out.reasoning = content.substr(body);
        out.thinking = true;
        return out;
    }
    out.reasoning = content.substr(body, close - body);
    const size_t after = content.find_first_not_of(" \t\r\n", close + kClose.size());
    out.answer = after == std::string::npos ? std::string() : content.substr(after);
    return out;
}

std::string format_stats(const ChatMessage& m) {
    std::string out;
    auto add = [&](const std::string& part) { out += (out.empty() ? "" : " · ") + part; };
    if (m.ttft_ms >= 0) add(m.ttft_ms < 1000 ? fixed(m.ttft_ms, 0) + " ms to first token" : fixed(m.ttft_ms / 1000, 2) + " s to first token");
    if (m.tokens_per_second >= 0) add(fixed(m.tokens_per_second, 1) + " tokens/s");
    if (m.tokens > 0) add(std::to_string(m.tokens) + " tokens");
    if (m.audio_seconds > 0) add(fixed(m.audio_seconds, 1) + " s spoken");
    return out;
}

std::string render_message(const ChatMessage& m, const MessageView& view) {
    if (m.role == "user") return render_user(m, view);
    const ThinkSplit think = split_think(m.content);
    std::string reasoning = m.reasoning;
    if (!think.reasoning.empty()) reasoning += (reasoning.empty() ? "" : "\n\n") + think.reasoning;
    std::string out = "<div class=\"role\">Assistant</div><div class=\"body\">";
    out += render_reasoning(reasoning, view.streaming && (think.thinking || (think.answer.empty() && !m.reasoning.empty())),
                            view);
    out += render_tool_calls(m.tool_calls);
    out += "<div class=\"md\">" + render_markdown(think.answer) + "</div>";
    if (view.streaming && think.answer.empty() && reasoning.empty() && m.tool_calls.empty())
        out += "<span class=\"cursor\">…</span>";
    if (!m.error.empty()) out += "<div class=\"error\">" + escape_html(m.error) + "</div>";
    out += "</div><div class=\"meta\"><span class=\"stats\">" + escape_html(format_stats(m)) + "</span>";
    if (!view.streaming) {
        out += button("copy-message", "Copy", view.index, "Copy the reply's text");
        if (view.last) out += button("regenerate", "Regenerate", view.index, "Write this reply again");
    }
    return out + "</div>";
}

std::string render_conversation_list(const std::vector<const Conversation*>& items, const ListView& view) {
    std::string out;
    for (const Conversation* c : items) {
        const std::string cls = c->id == view.current_id ? "conv current" : "conv";
        if (c->id == view.renaming_id) {
            out += "<li class=\"" + cls + "\"><input class=\"rename\" id=\"rename-input\" data-change=\"rename-commit\"" +
                   attr("data-id", c->id) + attr("value", c->title) + " aria-label=\"Conversation title\"></li>";
            continue;
        }
        const bool confirming = c->id == view.confirming_delete_id;
        out += "<li class=\"" + cls + "\" data-action=\"open-chat\"" + attr("data-id", c->id) + "><span class=\"title\">" +
               escape_html(c->title) + "</span><button type=\"button\" class=\"icon\" data-action=\"rename-chat\"" +
               attr("data-id", c->id) + " title=\"Rename\" aria-label=\"Rename\">✎</button>" +
               "<button type=\"button\" class=\"" + (confirming ? "icon armed" : "icon") + "\" data-action=\"delete-chat\"" +
               attr("data-id", c->id) + " title=\"Delete\" aria-label=\"Delete\">" + (confirming ? "Delete?" : "✕") +
               "</button></li>";
    }
    return out;
}

std::string title_from(const std::string& text) {
    const size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return "New chat";
    std::string line = text.substr(start, text.find('\n', start) - start);
    if (line.size() <= 48) return line;
    size_t cut = 48;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    return line.substr(0, cut) + "…";
}

}  // namespace hearth::ui
