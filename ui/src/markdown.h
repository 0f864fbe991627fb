// Model replies as safe HTML for the web UI. This owns the Markdown the UI shows (CommonMark
// blocks and inlines as chat models write them, plus GitHub's tables, strikethrough, task
// items and bare URLs) and its safety: raw HTML in a reply is always shown as text, and links
// only keep http, https, mailto and relative targets. The UI calls render_markdown again on
// the growing text while a reply streams, so any prefix renders to balanced HTML (an open
// code fence shows as a code block, an unclosed "**" as text).
#pragma once

#include <string>
#include <string_view>

namespace hearth::ui {

// & < > " ' as entities: safe as text and inside quoted attribute values.
std::string escape_html(std::string_view text);

// An HTML fragment with no newlines between tags (code blocks keep their text verbatim).
// Linear in the input's size: containers nest at most 16 deep, deeper markers are text.
std::string render_markdown(std::string_view text);

}  // namespace hearth::ui
