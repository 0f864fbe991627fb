// The chats a user keeps in this browser (localStorage, one key per conversation, so two
// tabs only ever overwrite a conversation both changed): messages with the reasoning, tool
// calls and timings of each reply, and the system prompt of each conversation.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::ui {

struct ChatMessage {
    std::string role;       // "user" or "assistant"
    std::string content;
    std::string reasoning;  // reasoning_content the server sent apart from the text
    nlohmann::json tool_calls = nlohmann::json::array();
    std::string error;      // why the reply ended early ("Stopped", an API error)
    double ttft_ms = -1;    // time to the first token
    double tokens_per_second = -1;
    int tokens = 0;
    double audio_seconds = 0;  // spoken while it streamed
};

struct Conversation {
    std::string id;
    std::string title;
    std::string system_prompt;
    double updated = 0;  // ms since the epoch
    std::vector<ChatMessage> messages;
};

class Conversations {
public:
    // From localStorage (again when another tab changed it). A reply that was still being
    // written when its page closed is marked as interrupted.
    void load();
    void save(const Conversation& c) const;
    // Whether a localStorage key is one of ours (for the storage events of other tabs).
    static bool owns_key(const std::string& key);

    // Most recently updated first.
    std::vector<const Conversation*> by_recency() const;
    Conversation* find(const std::string& id);
    Conversation& create();
    void remove(const std::string& id);
    // Marks a conversation changed (its place in the list) and saves it.
    void touch(Conversation& c);

    std::string current_id;

    static std::string export_json(const Conversation& c);

private:
    std::vector<Conversation> items_;
};

}  // namespace hearth::ui
