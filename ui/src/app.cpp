// The UI's entry point: shows the page the URL's fragment names (#chat, #speech, #status),
// starts the pages, and asks for an API key when the server wants one.
#include "pages.h"

#include "markdown.h"

namespace hearth::ui {
namespace {

const char* const kPages[] = {"chat", "speech", "status"};

void show_page_of_location() {
    std::string page = val::global("location")["hash"].as<std::string>();
    if (!page.empty() && page.front() == '#') page.erase(0, 1);
    bool known = false;
    for (const char* p : kPages) known = known || page == p;
    if (!known) page = "chat";
    for (const char* p : kPages) {
        set_hidden(std::string("page-") + p, page != p);
        val tab = by_id(std::string("tab-") + p);
        if (page == p) {
            tab.call<void>("setAttribute", std::string("aria-current"), std::string("page"));
        } else {
            tab.call<void>("removeAttribute", std::string("aria-current"));
        }
    }
    show_status_page(page == "status");
}

}  // namespace

void ask_for_api_key(const RequestError& error) {
    set_text("auth-message", error.message.empty() ? "This server needs an API key." : error.message);
    if (!by_id("auth")["hidden"].as<bool>()) return;  // asking already: keep what is being typed
    set_hidden("auth", false);
    val input = by_id("api-key");
    input.set("value", api_key());
    input.call<void>("focus");
}

std::vector<std::string> ids_of(const Json& list, bool chat_only) {
    std::vector<std::string> ids;
    if (auto data = list.find("data"); data != list.end() && data->is_array())
        for (const auto& item : *data) {
            const std::string type = text_field(item, "type");
            if (chat_only && (type == "speech" || type == "embedding")) continue;
            if (!text_field(item, "id").empty()) ids.push_back(text_field(item, "id"));
        }
    return ids;
}

std::string options_html(const std::vector<std::string>& ids, const std::string& selected) {
    std::string html;
    for (const auto& id : ids) {
        html += "<option value=\"" + escape_html(id) + "\"" + (id == selected ? " selected" : "") + ">" + escape_html(id) +
                "</option>";
    }
    return html;
}

}  // namespace hearth::ui

int main() {
    using namespace hearth::ui;
    listen_for_events();
    on_action("save-key", [](val, val) {
        std::string key = value_of("api-key");
        key.erase(0, key.find_first_not_of(" \t\r\n"));  // a pasted key often brings spaces
        key.erase(key.find_last_not_of(" \t\r\n") + 1);
        set_api_key(key);
        set_hidden("auth", true);
        reload_chat_page();
        reload_speech_page();
        reload_status_page();
    });
    on_key([](val e, val target) {
        if (e["key"].as<std::string>() == "Enter" && target["id"].isString() && target["id"].as<std::string>() == "api-key") {
            e.call<void>("preventDefault");
            by_id("save-key").call<void>("click");
        }
    });
    val::global("window").call<void>("addEventListener", std::string("hashchange"),
                                      js_function([](val) { show_page_of_location(); }));
    start_chat_page();
    start_speech_page();
    show_page_of_location();
    set_hidden("loading", true);
    // When the page became usable, for whoever measures it (the browser tests).
    document()["body"].call<void>("setAttribute", std::string("data-ready"), std::to_string(now_ms()));
    return 0;
}
