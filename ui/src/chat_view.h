// The chat page's HTML: messages (Markdown replies, folded reasoning, tool calls, timings)
// and the conversation list. Plain C++ (no browser calls), so it is tested natively.
#pragma once

#include <string>
#include <vector>

#include "conversations.h"

namespace hearth::ui {

// A reply that opens with <think>…</think> (reasoning models that write their reasoning
// into the text): the reasoning, the answer after it, and whether the reasoning is still
// being written.
struct ThinkSplit {
    std::string reasoning;
    std::string answer;
    bool thinking = false;
};
ThinkSplit split_think(const std::string& content);

struct MessageView {
    size_t index = 0;
    bool streaming = false;  // the reply being written now
    bool last = false;       // the conversation's last message (it can be regenerated)
    bool editing = false;    // a user message being edited
    bool reasoning_open = false;  // the user unfolded its reasoning
};
// The inside of one message's element (its role, body and the line under it).
std::string render_message(const ChatMessage& m, const MessageView& view);
// "1.2 s to first token · 41.3 tokens/s · 128 tokens", empty before the reply started.
std::string format_stats(const ChatMessage& m);

// A title from the first user message: its first line, at most 48 characters (not cut
// inside a UTF-8 character).
std::string title_from(const std::string& text);

// The sidebar's list; `renaming_id` shows a title field, `confirming_delete_id` a delete
// button that asks to be pressed again.
struct ListView {
    std::string current_id;
    std::string renaming_id;
    std::string confirming_delete_id;
};
std::string render_conversation_list(const std::vector<const Conversation*>& items, const ListView& view);

}  // namespace hearth::ui
