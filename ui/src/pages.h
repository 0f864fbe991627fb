// The UI's pages (chat, speech, status) and what they share: the API key prompt. Each page
// registers its event handlers once at start-up and fills its part of index.html.
#pragma once

#include <string>
#include <vector>

#include "http.h"

namespace hearth::ui {

void start_chat_page();
void start_speech_page();

// Fetch again what depends on the API key (after the user entered one).
void reload_chat_page();
void reload_speech_page();
// The status page refreshes itself while it is shown (and stops at a 401 until reloaded).
void show_status_page(bool shown);
void reload_status_page();

// A request was refused for want of a (right) API key: the page asks for one.
void ask_for_api_key(const RequestError& error);

// The ids of an OpenAI list (`data[].id`); with `chat_only`, not the speech (or
// embedding) models /v1/models also lists.
std::vector<std::string> ids_of(const Json& list, bool chat_only = false);

// <option> elements for a <select>, keeping `selected` when it is among `ids`.
std::string options_html(const std::vector<std::string>& ids, const std::string& selected);

}  // namespace hearth::ui
