// The Markdown renderer turns model replies into HTML that the web UI inserts as it is, and
// a reply is text anyone can steer. For any bytes, the output must hold: every tag is one
// the renderer means to write, in its exact form (raw HTML or attributes from the input
// never get through); tags balance and nest as a browser keeps them (no <a> in <a>, no
// block inside <p>, lists and tables only hold their own rows and items); links only go to
// http, https, mailto or relative targets; valid UTF-8 stays valid; the output grows
// linearly with the input. A prefix is checked too, as the UI renders a streaming reply.
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "markdown.h"

namespace {

bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
        const unsigned lead = byte(i);
        size_t length = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 0;
        if (length == 0 || i + length > s.size()) return false;
        uint32_t cp = length == 1 ? lead : lead & (0x7F >> length);
        for (size_t k = 1; k < length; ++k) {
            if ((byte(i + k) & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (byte(i + k) & 0x3F);
        }
        static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool all_of(std::string_view s, std::string_view allowed) { return s.find_first_not_of(allowed) == std::string_view::npos; }

constexpr std::string_view kDigits = "0123456789";

// The text of an attribute value as the browser reads it (the renderer writes only these entities).
std::string unescape(std::string_view value) {
    static constexpr std::string_view kEntities[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    std::string out;
    for (size_t i = 0; i < value.size();) {
        bool replaced = false;
        for (const auto& entity : kEntities) {
            if (starts_with(value.substr(i), entity[0])) {
                out += entity[1];
                i += entity[0].size();
                replaced = true;
                break;
            }
        }
        if (!replaced) out += value[i++];
    }
    return out;
}

// The scheme a browser would use for this href: it drops tabs and newlines anywhere and
// controls and spaces in front. Anything but http, https, mailto or none fails.
void check_href(std::string_view escaped) {
    if (escaped.find_first_of("<>\"") != std::string_view::npos) std::abort();
    std::string url;
    for (const char c : unescape(escaped)) {
        if (c != '\t' && c != '\n' && c != '\r' && (!url.empty() || static_cast<unsigned char>(c) > 0x20)) url += c;
    }
    std::string lower;
    for (const char c : url) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    for (const std::string_view bad : {"javascript:", "data:", "vbscript:", "file:"}) {
        if (starts_with(lower, bad)) std::abort();
    }
    const size_t end = lower.find_first_of(":/?#");
    if (end != std::string::npos && lower[end] == ':') {
        const std::string scheme = lower.substr(0, end);
        if (scheme != "http" && scheme != "https" && scheme != "mailto") std::abort();
    }
}

// <a href="…" [title="…"] target="_blank" rel="noopener noreferrer">
bool is_anchor(std::string_view tag) {
    if (!starts_with(tag, "<a href=\"")) return false;
    tag.remove_prefix(9);
    const size_t href_end = tag.find('"');
    if (href_end == std::string_view::npos) return false;
    check_href(tag.substr(0, href_end));
    tag.remove_prefix(href_end + 1);
    if (starts_with(tag, " title=\"")) {
        const size_t title_end = tag.find('"', 8);
        if (title_end == std::string_view::npos) return false;
        tag.remove_prefix(title_end + 1);
    }
    return tag == " target=\"_blank\" rel=\"noopener noreferrer\">";
}

// The element name of a tag the renderer writes (and, through `closing`, whether it ends
// one), or empty when the renderer never writes this tag.
std::string_view known_tag(std::string_view tag, bool& closing) {
    static constexpr std::string_view kExact[] = {
        "<p>", "<br>", "<hr>", "<h1>", "<h2>", "<h3>", "<h4>", "<h5>", "<h6>", "<em>", "<strong>", "<del>",
        "<code>", "<pre>", "<div class=\"code\">", "<div class=\"code-bar\">", "<span class=\"code-lang\">",
        "<button type=\"button\" class=\"copy\" data-action=\"copy-code\">", "<blockquote>", "<ul>", "<ol>", "<li>",
        "<li class=\"task\">", "<input type=\"checkbox\" disabled>", "<input type=\"checkbox\" checked disabled>",
        "<div class=\"table\">", "<table>", "<thead>", "<tbody>", "<tr>", "<th>", "<td>"};
    static constexpr std::string_view kClosing[] = {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "code", "pre", "div", "span", "button",
        "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a"};
    const auto name_of = [](std::string_view t) { return t.substr(1, t.find_first_of(" >") - 1); };
    closing = starts_with(tag, "</");
    if (closing) {
        for (const std::string_view name : kClosing) {
            if (tag.substr(2) == std::string(name) + ">") return name;
        }
        return {};
    }
    for (const std::string_view exact : kExact) {
        if (tag == exact) return name_of(exact);
    }
    const auto between = [&](std::string_view prefix, std::string_view allowed) {
        return starts_with(tag, prefix) && tag.size() > prefix.size() + 2 && tag.substr(tag.size() - 2) == "\">" &&
               all_of(tag.substr(prefix.size(), tag.size() - prefix.size() - 2), allowed);
    };
    if (between("<code class=\"language-", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.#-")) {
        return "code";
    }
    if (between("<ol start=\"", kDigits)) return "ol";
    if (between("<td colspan=\"", kDigits)) return "td";
    for (const std::string_view cell : {"<th style=\"text-align:", "<td style=\"text-align:"}) {
        for (const std::string_view align : {"left\">", "center\">", "right\">"}) {
            if (tag == std::string(cell) + std::string(align)) return cell.substr(1, 2);
        }
    }
    if (is_anchor(tag)) return "a";
    return {};
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
    for (const std::string_view n : names) {
        if (n == name) return true;
    }
    return false;
}

// Whether the browser keeps an element named `name` where it is opened (no implicit closes,
// no foster parenting, no nested links).
bool allowed_in(std::string_view name, const std::vector<std::string_view>& open) {
    const std::string_view parent = open.empty() ? std::string_view() : open.back();
    const bool is_inline = is_one_of(name, {"em", "strong", "del", "code", "a", "br", "input"});
    for (const std::string_view ancestor : open) {
        if (!is_inline && is_one_of(ancestor, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "code", "a",
                                                 "span", "button", "th", "td"})) {
            return false;
        }
        if (name == "a" && ancestor == "a") return false;
    }
    if (is_one_of(parent, {"ul", "ol"}) != (name == "li")) return false;
    if (is_one_of(parent, {"thead", "tbody"}) != (name == "tr")) return false;
    if ((parent == "tr") != is_one_of(name, {"th", "td"})) return false;
    if ((parent == "table") != is_one_of(name, {"thead", "tbody"})) return false;
    if (name == "table" && parent != "div") return false;
    if (name == "input" && !is_one_of(parent, {"li", "p"})) return false;
    return true;
}

void check_html(std::string_view html) {
    std::vector<std::string_view> open;
    for (size_t i = 0; i < html.size(); ++i) {
        if (html[i] == '>') std::abort();  // only ever the end of a tag
        if (html[i] != '<') {
            // Text inside lists and tables would be moved out of them by the browser.
            if (!open.empty() && is_one_of(open.back(), {"ul", "ol", "table", "thead", "tbody", "tr"})) std::abort();
            continue;
        }
        const size_t end = html.find('>', i);
        if (end == std::string_view::npos) std::abort();
        bool closing = false;
        const std::string_view name = known_tag(html.substr(i, end + 1 - i), closing);
        if (name.empty()) std::abort();
        if (closing) {
            if (open.empty() || open.back() != name) std::abort();
            open.pop_back();
        } else {
            if (!allowed_in(name, open)) std::abort();
            if (!is_one_of(name, {"br", "hr", "input"})) open.push_back(name);
        }
        i = end;
    }
    if (!open.empty()) std::abort();
}

void check(std::string_view markdown) {
    const std::string html = hearth::ui::render_markdown(markdown);
    check_html(html);
    if (valid_utf8(markdown) && !valid_utf8(html)) std::abort();
    if (html.size() > 40 * markdown.size() + 4096) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check(text);
    if (size > 0) check(text.substr(0, size * data[0] / 256));
    const std::string escaped = hearth::ui::escape_html(text);
    if (escaped.find_first_of("<>\"'") != std::string::npos || unescape(escaped) != text) std::abort();
    return 0;
}
