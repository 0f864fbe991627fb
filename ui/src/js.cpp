#include "js.h"

#include <emscripten/bind.h>

#include <cstdio>
#include <exception>
#include <unordered_map>

namespace hearth::ui {
namespace {

struct Entry {
    Handler fn;
    int partner = 0;  // of a promise continuation: the other one, released with it
    bool once = false;
};

std::unordered_map<int, Entry>& registry() {
    static std::unordered_map<int, Entry> entries;
    return entries;
}

int next_id() {
    static int id = 0;
    return ++id;
}

// Runs a handler so that an exception (a malformed reply, say) ends that handler only.
void run_guarded(const Handler& fn, val arg) {
    try {
        fn(arg);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hearth-ui: %s\n", e.what());
    }
}

// The one entry point of every JavaScript function made by js_function and then().
void call_entry(int id, val arg) {
    auto& entries = registry();
    auto it = entries.find(id);
    if (it == entries.end()) return;
    if (!it->second.once) {
        const Handler fn = it->second.fn;  // a copy: the handler may register others
        run_guarded(fn, arg);
        return;
    }
    Handler fn = std::move(it->second.fn);
    const int partner = it->second.partner;
    entries.erase(it);
    if (partner) entries.erase(partner);
    run_guarded(fn, arg);
}

val bound_entry(int id) { return val::module_property("hearth_call").call<val>("bind", val::null(), id); }

std::unordered_map<std::string, ActionHandler>& actions() {
    static std::unordered_map<std::string, ActionHandler> handlers;
    return handlers;
}
std::unordered_map<std::string, ActionHandler>& changes() {
    static std::unordered_map<std::string, ActionHandler> handlers;
    return handlers;
}
std::vector<ActionHandler>& key_handlers() {
    static std::vector<ActionHandler> handlers;
    return handlers;
}

void dispatch(val event, const char* selector, const char* attribute,
              std::unordered_map<std::string, ActionHandler>& handlers) {
    val target = event["target"];
    if (!target.instanceof(val::global("Element"))) return;
    val element = target.call<val>("closest", std::string(selector));
    if (element.isNull()) return;
    const std::string name = element.call<std::string>("getAttribute", std::string(attribute));
    auto it = handlers.find(name);
    if (it == handlers.end()) return;
    const ActionHandler fn = it->second;
    fn(event, element);
}

}  // namespace

EMSCRIPTEN_BINDINGS(hearth_ui_bridge) { emscripten::function("hearth_call", &call_entry); }

val js_function(Handler fn) {
    const int id = next_id();
    registry()[id] = Entry{std::move(fn), 0, false};
    return bound_entry(id);
}

void then(val promise, Handler ok, Handler fail) {
    const int ok_id = next_id(), fail_id = next_id();
    registry()[ok_id] = Entry{std::move(ok), fail_id, true};
    registry()[fail_id] = Entry{std::move(fail), ok_id, true};
    promise.call<void>("then", bound_entry(ok_id), bound_entry(fail_id));
}

void after(double ms, std::function<void()> fn) {
    const int id = next_id();
    registry()[id] = Entry{[fn = std::move(fn)](val) { fn(); }, 0, true};
    // setTimeout passes no argument, and an embind function wants exactly its two.
    val callback = val::module_property("hearth_call").call<val>("bind", val::null(), id, val::undefined());
    val::global("setTimeout")(callback, ms);
}

void on_action(const std::string& name, ActionHandler fn) { actions()[name] = std::move(fn); }
void on_change(const std::string& name, ActionHandler fn) { changes()[name] = std::move(fn); }
void on_key(ActionHandler fn) { key_handlers().push_back(std::move(fn)); }

void listen_for_events() {
    val doc = document();
    doc.call<void>("addEventListener", std::string("click"),
                   js_function([](val e) { dispatch(e, "[data-action]", "data-action", actions()); }));
    val on_changed = js_function([](val e) { dispatch(e, "[data-change]", "data-change", changes()); });
    doc.call<void>("addEventListener", std::string("change"), on_changed);
    doc.call<void>("addEventListener", std::string("input"), on_changed);
    doc.call<void>("addEventListener", std::string("keydown"), js_function([](val e) {
                       for (const auto& fn : key_handlers()) fn(e, e["target"]);
                   }));
}

val document() { return val::global("document"); }
val by_id(const std::string& id) { return document().call<val>("getElementById", id); }
std::string value_of(const std::string& id) { return by_id(id)["value"].as<std::string>(); }
void set_value(const std::string& id, const std::string& text) { by_id(id).set("value", text); }
void set_html(const std::string& id, const std::string& html) { by_id(id).set("innerHTML", html); }
void set_text(const std::string& id, const std::string& text) { by_id(id).set("textContent", text); }
void set_hidden(const std::string& id, bool hidden) { by_id(id).set("hidden", hidden); }
double now_ms() { return val::global("performance").call<double>("now"); }

std::string stored(const std::string& key) {
    val v = val::global("localStorage").call<val>("getItem", key);
    return v.isNull() ? std::string() : v.as<std::string>();
}

void store(const std::string& key, const std::string& value) {
    val::global("localStorage").call<void>("setItem", key, value);
}

std::string describe(val reason) {
    if (reason.isUndefined() || reason.isNull()) return "unknown error";
    if (reason.hasOwnProperty("message") || !reason["message"].isUndefined()) return reason["message"].as<std::string>();
    return val::global("String")(reason).as<std::string>();
}

}  // namespace hearth::ui
