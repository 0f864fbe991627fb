// The chat page: conversations in the sidebar, the selected one's messages, and the reply
// being streamed (and spoken) from /v1/chat/completions.
#include <algorithm>
#include <memory>
#include <set>

#include "audio_player.h"
#include "base/base64.h"
#include "chat_view.h"
#include "conversations.h"
#include "pages.h"

namespace hearth::ui {
namespace {

constexpr int kSpeechRate = 24000;  // the spoken-chat stream's pcm16
constexpr const char* kSettingsKey = "hearth.chatSettings";

// The reply being written: which conversation it belongs to and its timings.
struct Reply {
    std::shared_ptr<EventStream> stream;
    std::string conversation_id;
    double sent_at = 0;
    double first_token_at = -1;
    double last_token_at = -1;
    double first_audio_at = -1;
    int deltas = 0;
    bool speaking = false;
};

struct ChatState {
    Conversations conversations;
    Reply reply;
    AudioPlayer player{kSpeechRate};
    std::string renaming_id;
    std::string confirming_delete_id;
    int editing_index = -1;
    std::set<std::string> open_reasoning;  // "conversation/index" of the folds the user opened
    bool reload_after_reply = false;       // another tab changed the conversations meanwhile
};

ChatState& state() {
    static ChatState s;
    return s;
}

bool streaming() { return state().reply.stream != nullptr; }
void reload_conversations();

Conversation* current() { return state().conversations.find(state().conversations.current_id); }

std::string trimmed(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// ---- settings kept in the browser --------------------------------------------------

Json saved_settings() {
    Json j = Json::parse(stored(kSettingsKey), nullptr, false);
    return j.is_object() ? j : Json::object();
}

void save_settings() {
    const Json before = saved_settings();
    // A list not loaded yet (or refused) keeps the choice made before.
    const std::string model = value_of("model"), voice = value_of("voice");
    Json j = {{"model", model.empty() ? text_field(before, "model") : model},
              {"temperature", value_of("temperature")},
              {"top_p", value_of("top-p")},
              {"max_tokens", value_of("max-tokens")},
              {"speak", by_id("speak")["checked"].as<bool>()},
              {"voice", voice.empty() ? text_field(before, "voice") : voice}};
    store(kSettingsKey, j.dump());
}

void restore_settings() {
    const Json j = saved_settings();
    for (const auto& [key, id] : {std::pair{"temperature", "temperature"}, {"top_p", "top-p"}, {"max_tokens", "max-tokens"}})
        if (!text_field(j, key).empty()) set_value(id, text_field(j, key));
    if (auto it = j.find("speak"); it != j.end() && it->is_boolean()) by_id("speak").set("checked", it->get<bool>());
}

// ---- rendering -----------------------------------------------------------------------

void render_list() {
    auto& s = state();
    const ListView view{s.conversations.current_id, s.renaming_id, s.confirming_delete_id};
    set_html("conversations", render_conversation_list(s.conversations.by_recency(), view));
}

MessageView view_of(const Conversation& c, size_t i) {
    const auto& s = state();
    MessageView v;
    v.index = i;
    v.last = i + 1 == c.messages.size();
    v.streaming = v.last && streaming() && s.reply.conversation_id == c.id;
    v.editing = int(i) == s.editing_index && s.conversations.current_id == c.id;
    v.reasoning_open = s.open_reasoning.count(c.id + "/" + std::to_string(i)) > 0;
    return v;
}

void render_messages() {
    const Conversation* c = current();
    set_text("chat-title", c ? c->title : "New chat");
    if (!c || c->messages.empty()) {
        set_html("messages", "<div class=\"empty\">Ask anything. Enter sends, Shift+Enter starts a new line, Esc stops.</div>");
        set_value("system", c ? c->system_prompt : "");
        return;
    }
    std::string html;
    for (size_t i = 0; i < c->messages.size(); ++i) {
        const auto& m = c->messages[i];
        html += "<div class=\"msg " + m.role + "\" id=\"m" + std::to_string(i) + "\">" + render_message(m, view_of(*c, i)) + "</div>";
    }
    set_html("messages", html);
    set_value("system", c->system_prompt);
    val box = by_id("messages");
    box.set("scrollTop", box["scrollHeight"]);
}

// Only the reply being written changes while it streams.
void render_reply() {
    const auto& r = state().reply;
    Conversation* c = state().conversations.find(r.conversation_id);
    if (!c || c->id != state().conversations.current_id || c->messages.empty()) return;
    const size_t i = c->messages.size() - 1;
    val el = by_id("m" + std::to_string(i));
    if (el.isNull()) return;
    val box = by_id("messages");
    const bool at_bottom = box["scrollHeight"].as<double>() - box["scrollTop"].as<double>() - box["clientHeight"].as<double>() < 40;
    el.set("innerHTML", render_message(c->messages[i], view_of(*c, i)));
    if (at_bottom) box.set("scrollTop", box["scrollHeight"]);
}

void render_controls() {
    set_hidden("send", streaming());
    set_hidden("stop", !streaming());
}

void render_all() {
    render_list();
    render_messages();
    render_controls();
}

// ---- the request ---------------------------------------------------------------------

Json request_body(const Conversation& c, bool speak) {
    Json messages = Json::array();
    if (!trimmed(c.system_prompt).empty()) messages.push_back({{"role", "system"}, {"content", c.system_prompt}});
    for (size_t i = 0; i + 1 < c.messages.size(); ++i) {  // all but the reply being asked for
        const auto& m = c.messages[i];
        Json msg = {{"role", m.role}, {"content", m.role == "assistant" ? split_think(m.content).answer : m.content}};
        if (m.role == "assistant" && !m.tool_calls.empty()) msg["tool_calls"] = m.tool_calls;
        messages.push_back(std::move(msg));
    }
    Json body = {{"messages", std::move(messages)}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
    if (const std::string model = value_of("model"); !model.empty()) body["model"] = model;
    const auto number = [](const std::string& id) { return val::global("Number")(value_of(id)).as<double>(); };
    if (!value_of("temperature").empty()) body["temperature"] = number("temperature");
    if (!value_of("top-p").empty()) body["top_p"] = number("top-p");
    if (const double n = number("max-tokens"); !value_of("max-tokens").empty() && n >= 1) body["max_tokens"] = int(n);
    if (speak) {
        body["modalities"] = {"text", "audio"};
        body["audio"] = {{"voice", value_of("voice")}, {"format", "pcm16"}};
    }
    return body;
}

ChatMessage* reply_message() {
    Conversation* c = state().conversations.find(state().reply.conversation_id);
    return c && !c->messages.empty() ? &c->messages.back() : nullptr;
}

void merge_tool_calls(ChatMessage& m, const Json& deltas) {
    for (const auto& d : deltas) {
        const size_t index = size_t(std::max(0.0, number_field(d, "index", double(m.tool_calls.size()))));
        if (index > 64) continue;
        while (m.tool_calls.size() <= index)
            m.tool_calls.push_back({{"id", ""}, {"type", "function"}, {"function", {{"name", ""}, {"arguments", ""}}}});
        Json& call = m.tool_calls[index];
        if (!text_field(d, "id").empty()) call["id"] = text_field(d, "id");
        if (auto fn = d.find("function"); fn != d.end() && fn->is_object()) {
            call["function"]["name"] = call["function"]["name"].get<std::string>() + text_field(*fn, "name");
            call["function"]["arguments"] = call["function"]["arguments"].get<std::string>() + text_field(*fn, "arguments");
        }
    }
}

void on_reply_event(const std::string& data) {
    auto& r = state().reply;
    ChatMessage* m = reply_message();
    const Json j = Json::parse(data, nullptr, false);
    if (!m || !j.is_object()) return;
    if (auto e = j.find("error"); e != j.end()) {
        m->error = e->is_object() ? text_field(*e, "message") : "The server reported an error";
        render_reply();
        return;
    }
    if (auto usage = j.find("usage"); usage != j.end() && usage->is_object())
        m->tokens = int(number_field(*usage, "completion_tokens", m->tokens));
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) return;
    const Json& delta = (*choices)[0].contains("delta") ? (*choices)[0]["delta"] : Json::object();
    bool wrote = false;
    if (const std::string t = text_field(delta, "content"); !t.empty()) m->content += t, wrote = true;
    if (const std::string t = text_field(delta, "reasoning_content"); !t.empty()) m->reasoning += t, wrote = true;
    if (auto calls = delta.find("tool_calls"); calls != delta.end() && calls->is_array()) merge_tool_calls(*m, *calls), wrote = true;
    if (auto audio = delta.find("audio"); audio != delta.end() && audio->is_object() && r.speaking) {
        if (auto pcm = base64_decode(text_field(*audio, "data")); pcm && !pcm->empty()) {
            if (r.first_audio_at < 0) r.first_audio_at = now_ms();
            state().player.push(*pcm);
            m->audio_seconds = state().player.seconds_queued();
        }
    }
    if (wrote) {
        ++r.deltas;
        r.last_token_at = now_ms();
        if (r.first_token_at < 0) {
            r.first_token_at = now_ms();
            m->ttft_ms = r.first_token_at - r.sent_at;
        }
        render_reply();
    }
}

void on_reply_end(const RequestError* error) {
    auto& s = state();
    Reply r = s.reply;
    s.reply = Reply{};
    render_controls();  // also when the conversation was deleted meanwhile
    Conversation* c = s.conversations.find(r.conversation_id);
    if (c && !c->messages.empty()) {
        ChatMessage& m = c->messages.back();
        if (error) m.error = error->aborted ? "Stopped" : error->message;
        if (m.tokens == 0) m.tokens = r.deltas;  // stopped replies get no usage
        // Tokens per second while they came: with speech the stream goes on after the last one.
        if (r.first_token_at >= 0 && m.tokens > 1 && r.last_token_at > r.first_token_at)
            m.tokens_per_second = (m.tokens - 1) / ((r.last_token_at - r.first_token_at) / 1000.0);
        render_all();
        // When the text ended and the audio began, for whoever measures the page (the browser tests).
        if (c->id == s.conversations.current_id) {
            val el = by_id("m" + std::to_string(c->messages.size() - 1));
            el.call<void>("setAttribute", std::string("data-done-ms"), std::to_string(now_ms() - r.sent_at));
            if (r.last_token_at >= 0)
                el.call<void>("setAttribute", std::string("data-last-token-ms"), std::to_string(r.last_token_at - r.sent_at));
            if (r.first_audio_at >= 0)
                el.call<void>("setAttribute", std::string("data-first-audio-ms"), std::to_string(r.first_audio_at - r.sent_at));
        }
        s.conversations.touch(*c);  // last: a full storage must not lose what is on screen
    }
    if (s.reload_after_reply) reload_conversations();
    if (error && error->status == 401) ask_for_api_key(*error);
}

// Asks for the reply to the conversation's messages (its last one is the user's).
void start_reply(Conversation& c) {
    auto& s = state();
    ChatMessage reply;
    reply.role = "assistant";
    c.messages.push_back(reply);
    const bool speak = by_id("speak")["checked"].as<bool>() && !by_id("speak-controls")["hidden"].as<bool>();
    if (speak) {
        s.player.stop();
        s.player.prepare();  // inside the click or key press that sent the message
    }
    s.reply = Reply{};
    s.reply.conversation_id = c.id;
    s.reply.sent_at = now_ms();
    s.reply.speaking = speak;
    const Json body = request_body(c, speak);
    s.reply.stream = EventStream::post("v1/chat/completions", body, on_reply_event, on_reply_end);
    render_all();
    s.conversations.touch(c);  // after the request is on its way: a full storage must not stop it
}

void send_prompt() {
    auto& s = state();
    const std::string text = trimmed(value_of("prompt"));
    if (streaming() || text.empty()) return;
    Conversation* c = current();
    if (!c) c = &s.conversations.create();
    if (c->messages.empty()) c->title = title_from(text);
    c->system_prompt = value_of("system");
    ChatMessage m;
    m.role = "user";
    m.content = text;
    c->messages.push_back(m);
    set_value("prompt", "");
    start_reply(*c);
}

void stop_reply() {
    auto& s = state();
    s.player.stop();
    if (const auto stream = s.reply.stream) stream->abort();  // a copy: the end of the reply resets s.reply
}

// ---- lists from the server -----------------------------------------------------------

void load_models() {
    fetch_json("v1/models", nullptr, [](const Json* reply, const RequestError* error) {
        if (error) {
            if (error->status == 401) ask_for_api_key(*error);
            set_html("model", "");
            return;
        }
        set_html("model", options_html(ids_of(*reply, true), text_field(saved_settings(), "model")));
    });
}

void load_voices() {
    fetch_json("v1/audio/voices", nullptr, [](const Json* reply, const RequestError* error) {
        const auto ids = error ? std::vector<std::string>() : ids_of(*reply);
        set_hidden("speak-controls", ids.empty());  // a server without speech
        set_html("voice", options_html(ids, text_field(saved_settings(), "voice")));
    });
}

// ---- handlers --------------------------------------------------------------------------

size_t index_of(val element) { return size_t(val::global("Number")(element["dataset"]["index"]).as<double>()); }

// The clipboard API exists only in secure contexts (https, localhost); a server reached
// over plain http on the LAN gets the older selection copy.
void copy_text(const std::string& text, val button) {
    val clipboard = val::global("navigator")["clipboard"];
    if (!clipboard.isUndefined()) {
        then(
            clipboard.call<val>("writeText", text), [button](val) mutable { button.set("textContent", std::string("Copied")); },
            [button](val) mutable { button.set("textContent", std::string("Copy failed")); });
        return;
    }
    val area = document().call<val>("createElement", std::string("textarea"));
    area.set("value", text);
    area.call<void>("setAttribute", std::string("readonly"), std::string(""));
    area["style"].set("position", std::string("fixed"));
    area["style"].set("opacity", std::string("0"));
    document()["body"].call<void>("appendChild", area);
    area.call<void>("select");
    const bool copied = document().call<bool>("execCommand", std::string("copy"));
    area.call<void>("remove");
    button.set("textContent", std::string(copied ? "Copied" : "Copy failed"));
}

void download(const std::string& name, const std::string& text) {
    val parts = val::array();
    parts.call<void>("push", text);
    val options = val::object();
    options.set("type", std::string("application/json"));
    val url = val::global("URL").call<val>("createObjectURL", val::global("Blob").new_(parts, options));
    val a = document().call<val>("createElement", std::string("a"));
    a.set("href", url);
    a.set("download", name);
    document()["body"].call<void>("appendChild", a);
    a.call<void>("click");
    a.call<void>("remove");
    after(1000, [url] { val::global("URL").call<void>("revokeObjectURL", url); });
}

void register_message_actions() {
    on_action("send", [](val, val) { send_prompt(); });
    on_action("stop", [](val, val) { stop_reply(); });
    on_action("regenerate", [](val, val el) {
        Conversation* c = current();
        const size_t i = index_of(el);
        if (!c || streaming() || i >= c->messages.size() || c->messages[i].role != "assistant") return;
        c->messages.resize(i);
        start_reply(*c);
    });
    on_action("edit", [](val, val el) {
        if (streaming()) return;
        state().editing_index = int(index_of(el));
        render_messages();
        by_id("edit-" + std::to_string(state().editing_index)).call<void>("focus");
    });
    on_action("edit-cancel", [](val, val) {
        state().editing_index = -1;
        render_messages();
    });
    on_action("edit-send", [](val, val el) {
        Conversation* c = current();
        const size_t i = index_of(el);
        const std::string text = trimmed(value_of("edit-" + std::to_string(i)));
        if (!c || streaming() || i >= c->messages.size() || text.empty()) return;
        state().editing_index = -1;
        c->messages.resize(i + 1);
        c->messages[i].content = text;
        start_reply(*c);
    });
    on_action("copy-message", [](val, val el) {
        Conversation* c = current();
        const size_t i = index_of(el);
        if (c && i < c->messages.size()) copy_text(split_think(c->messages[i].content).answer, el);
    });
    // The fold's state outlives the re-rendering of a streaming reply. (The click is seen
    // before the browser toggles the fold.)
    on_action("fold", [](val, val el) {
        const Conversation* c = current();
        if (!c) return;
        const std::string key = c->id + "/" + std::to_string(index_of(el));
        const bool opening = !el.call<val>("closest", std::string("details"))["open"].as<bool>();
        if (opening) {
            state().open_reasoning.insert(key);
        } else {
            state().open_reasoning.erase(key);
        }
    });
    on_action("copy-code", [](val, val el) {
        val code = el.call<val>("closest", std::string(".code")).call<val>("querySelector", std::string("code"));
        if (!code.isNull()) copy_text(code["textContent"].as<std::string>(), el);
    });
}

void register_list_actions() {
    auto& s = state();
    on_action("new-chat", [&s](val, val) {
        if (Conversation* c = current(); !c || !c->messages.empty()) s.conversations.create();
        s.conversations.save(*current());
        s.editing_index = -1;
        render_all();
        by_id("prompt").call<void>("focus");
    });
    on_action("open-chat", [&s](val, val el) {
        s.conversations.current_id = el["dataset"]["id"].as<std::string>();
        s.editing_index = -1;
        s.confirming_delete_id.clear();
        render_all();
    });
    on_action("rename-chat", [&s](val e, val el) {
        e.call<void>("stopPropagation");
        s.renaming_id = el["dataset"]["id"].as<std::string>();
        render_list();
        val input = by_id("rename-input");
        input.call<void>("focus");
        input.call<void>("select");
    });
    on_change("rename-commit", [&s](val e, val el) {
        if (e["type"].as<std::string>() != "change") return;
        if (Conversation* c = s.conversations.find(el["dataset"]["id"].as<std::string>())) {
            const std::string title = trimmed(el["value"].as<std::string>());
            if (!title.empty()) c->title = title;
            s.conversations.save(*c);
        }
        s.renaming_id.clear();
        render_all();
    });
    on_action("delete-chat", [&s](val e, val el) {
        e.call<void>("stopPropagation");
        const std::string id = el["dataset"]["id"].as<std::string>();
        if (s.confirming_delete_id != id) {
            s.confirming_delete_id = id;
            render_list();
            return;
        }
        if (streaming() && s.reply.conversation_id == id) stop_reply();
        s.confirming_delete_id.clear();
        s.conversations.remove(id);
        render_all();
    });
    on_action("export-chat", [](val, val) {
        if (const Conversation* c = current()) download(c->title + ".json", Conversations::export_json(*c));
    });
    on_change("system", [&s](val, val el) {
        if (Conversation* c = current()) {
            c->system_prompt = el["value"].as<std::string>();
            s.conversations.save(*c);
        }
    });
    on_change("chat-setting", [](val, val) { save_settings(); });
}

void register_keys() {
    on_key([](val e, val target) {
        const std::string key = e["key"].as<std::string>();
        const std::string id = target["id"].isString() ? target["id"].as<std::string>() : std::string();
        // (keyCode 229: the Enter that ends an input method's composition, in some browsers.)
        const bool composing = e["isComposing"].as<bool>() || e["keyCode"].as<int>() == 229;
        if (key == "Enter" && !e["shiftKey"].as<bool>() && !composing) {
            if (id == "prompt") {
                e.call<void>("preventDefault");
                send_prompt();
            } else if (id.rfind("edit-", 0) == 0) {
                e.call<void>("preventDefault");
                by_id("messages").call<val>("querySelector", std::string("[data-action=edit-send]")).call<void>("click");
            }
        } else if (key == "Escape") {
            if (state().editing_index >= 0) {
                state().editing_index = -1;
                render_messages();
            } else if (!state().renaming_id.empty()) {
                state().renaming_id.clear();
                render_list();
            } else if (streaming()) {
                stop_reply();
            }
        }
    });
}

// Another tab saved or deleted a conversation: read them again (after the reply being
// written, which only this tab holds).
void reload_conversations() {
    auto& s = state();
    if (streaming()) {
        s.reload_after_reply = true;
        return;
    }
    s.reload_after_reply = false;
    s.conversations.load();
    if (!current()) {
        const auto recent = s.conversations.by_recency();
        s.conversations.current_id = recent.empty() ? std::string() : recent.front()->id;
    }
    render_all();
}

}  // namespace

void start_chat_page() {
    auto& s = state();
    val::global("window").call<void>("addEventListener", std::string("storage"), js_function([](val e) {
        if (e["key"].isNull() || Conversations::owns_key(e["key"].as<std::string>())) reload_conversations();
    }));
    // Coming back to the page reads the models and voices again: a gateway's nodes come and go.
    val::global("window").call<void>("addEventListener", std::string("focus"), js_function([](val) {
        if (!streaming()) reload_chat_page();
    }));
    s.conversations.load();
    const auto recent = s.conversations.by_recency();
    if (!recent.empty()) s.conversations.current_id = recent.front()->id;
    restore_settings();
    register_message_actions();
    register_list_actions();
    register_keys();
    render_all();
    reload_chat_page();
}

void reload_chat_page() {
    load_models();
    load_voices();
}

}  // namespace hearth::ui
