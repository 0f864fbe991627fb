// The bridge between the browser and the UI's C++: JavaScript functions that call C++
// closures, promise continuations, page-wide event delegation, and the few DOM helpers the
// pages share. The only JavaScript in the UI is emscripten's loader; everything reaches the
// browser through emscripten::val.
#pragma once

#include <emscripten/val.h>

#include <functional>
#include <string>

namespace hearth::ui {

using emscripten::val;
using Handler = std::function<void(val)>;

// A JavaScript function that calls `fn` with its first argument, for as long as the page
// lives (event listeners and timers the UI keeps).
val js_function(Handler fn);

// Calls `ok` with the promise's value or `fail` with its reason, once; both are released then.
void then(val promise, Handler ok, Handler fail);

// Calls `fn` once after `ms` milliseconds.
void after(double ms, std::function<void()> fn);

// Event delegation: a click on an element with data-action="NAME" (or on something inside
// it), or a change/input event on an element with data-change="NAME", calls the handler
// registered for NAME with the event and that element. Handlers are registered once at
// start-up; elements can come and go as the pages re-render.
using ActionHandler = std::function<void(val event, val element)>;
void on_action(const std::string& name, ActionHandler fn);
void on_change(const std::string& name, ActionHandler fn);
// Keys pressed anywhere on the page (Enter to send, Escape to stop).
void on_key(ActionHandler fn);
void listen_for_events();

val document();
val by_id(const std::string& id);
std::string value_of(const std::string& id);        // an input's value
void set_value(const std::string& id, const std::string& text);
void set_html(const std::string& id, const std::string& html);
void set_text(const std::string& id, const std::string& text);
void set_hidden(const std::string& id, bool hidden);
double now_ms();  // performance.now()

// localStorage, with "" for a missing key.
std::string stored(const std::string& key);
void store(const std::string& key, const std::string& value);

// The browser's message for an exception or rejection reason.
std::string describe(val reason);

}  // namespace hearth::ui
