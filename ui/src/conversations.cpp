#include "conversations.h"

#include <algorithm>

#include "http.h"

namespace hearth::ui {
namespace {

constexpr std::string_view kKeyPrefix = "hearth.chat.";

Json message_json(const ChatMessage& m) {
    Json j = {{"role", m.role}, {"content", m.content}};
    if (!m.reasoning.empty()) j["reasoning"] = m.reasoning;
    if (!m.tool_calls.empty()) j["tool_calls"] = m.tool_calls;
    if (!m.error.empty()) j["error"] = m.error;
    if (m.ttft_ms >= 0) j["ttft_ms"] = m.ttft_ms;
    if (m.tokens_per_second >= 0) j["tokens_per_second"] = m.tokens_per_second;
    if (m.tokens > 0) j["tokens"] = m.tokens;
    if (m.audio_seconds > 0) j["audio_seconds"] = m.audio_seconds;
    return j;
}

ChatMessage message_from(const Json& j) {
    ChatMessage m;
    m.role = text_field(j, "role") == "user" ? "user" : "assistant";  // it becomes a class name: nothing else
    m.content = text_field(j, "content");
    m.reasoning = text_field(j, "reasoning");
    if (auto it = j.find("tool_calls"); it != j.end() && it->is_array()) m.tool_calls = *it;
    m.error = text_field(j, "error");
    m.ttft_ms = number_field(j, "ttft_ms", -1);
    m.tokens_per_second = number_field(j, "tokens_per_second", -1);
    m.tokens = int(number_field(j, "tokens", 0));
    m.audio_seconds = number_field(j, "audio_seconds", 0);
    return m;
}

Json conversation_json(const Conversation& c) {
    Json messages = Json::array();
    for (const auto& m : c.messages) messages.push_back(message_json(m));
    return {{"id", c.id}, {"title", c.title}, {"system_prompt", c.system_prompt}, {"updated", c.updated},
            {"messages", std::move(messages)}};
}

double epoch_ms() { return val::global("Date").call<double>("now"); }

}  // namespace

void Conversations::load() {
    items_.clear();
    val storage = val::global("localStorage");
    const int n = storage["length"].as<int>();
    for (int i = 0; i < n; ++i) {
        const std::string key = storage.call<std::string>("key", i);
        if (!owns_key(key)) continue;
        const Json j = Json::parse(stored(key), nullptr, false);
        if (!j.is_object() || text_field(j, "id").empty() || key != std::string(kKeyPrefix) + text_field(j, "id")) continue;
        Conversation c;
        c.id = text_field(j, "id");
        c.title = text_field(j, "title");
        c.system_prompt = text_field(j, "system_prompt");
        c.updated = number_field(j, "updated", 0);
        if (auto it = j.find("messages"); it != j.end() && it->is_array())
            for (const auto& m : *it)
                if (m.is_object()) c.messages.push_back(message_from(m));
        if (!c.messages.empty()) {
            ChatMessage& last = c.messages.back();
            if (last.role == "assistant" && last.content.empty() && last.error.empty() && last.tool_calls.empty())
                last.error = "Interrupted";
        }
        items_.push_back(std::move(c));
    }
}

void Conversations::save(const Conversation& c) const {
    store(std::string(kKeyPrefix) + c.id, conversation_json(c).dump(-1, ' ', false, Json::error_handler_t::replace));
}

bool Conversations::owns_key(const std::string& key) { return key.rfind(kKeyPrefix, 0) == 0; }

std::vector<const Conversation*> Conversations::by_recency() const {
    std::vector<const Conversation*> out;
    for (const auto& c : items_) out.push_back(&c);
    std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->updated > b->updated; });
    return out;
}

Conversation* Conversations::find(const std::string& id) {
    for (auto& c : items_)
        if (c.id == id) return &c;
    return nullptr;
}

Conversation& Conversations::create() {
    Conversation c;
    const double now = epoch_ms();
    // Unique across tabs too: the time and a random part.
    const auto random = static_cast<long long>(val::global("Math").call<double>("random") * 1e9);
    c.id = "c" + std::to_string(static_cast<long long>(now)) + "-" + std::to_string(random);
    c.title = "New chat";
    c.updated = now;
    items_.push_back(std::move(c));
    current_id = items_.back().id;
    return items_.back();
}

void Conversations::remove(const std::string& id) {
    items_.erase(std::remove_if(items_.begin(), items_.end(), [&](const Conversation& c) { return c.id == id; }),
                 items_.end());
    if (current_id == id) current_id.clear();
    val::global("localStorage").call<void>("removeItem", std::string(kKeyPrefix) + id);
}

void Conversations::touch(Conversation& c) {
    c.updated = epoch_ms();
    save(c);
}

std::string Conversations::export_json(const Conversation& c) {
    return conversation_json(c).dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace hearth::ui
