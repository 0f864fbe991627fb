// Inline Markdown with CommonMark's delimiter-stack algorithm: code spans, emphasis, links
// and autolinks. Links keep only safe schemes, checked on the URL as a browser reads it.
#include "markdown_inline.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace hearth::ui::markdown {
namespace {

constexpr int kMaxLinkParens = 32;  // CommonMark's limit for parentheses inside a link destination


// The URL a browser follows: it drops tabs and newlines anywhere, and controls and spaces at
// both ends ("java\tscript:" is "javascript:"). Links are checked and written in this form.
std::string browser_url(std::string_view url) {
    std::string clean;
    for (const char c : url) {
        if (!is_one_of(c, "\t\n\r")) clean += c;
    }
    size_t begin = 0, end = clean.size();
    while (begin < end && is_control(clean[begin])) ++begin;
    while (end > begin && is_control(clean[end - 1])) --end;
    return clean.substr(begin, end - begin);
}

// http, https, mailto, or no scheme (relative paths, fragments): any other scheme
// (javascript:, data:, vbscript:, file:) could run script or reach local files.
bool is_allowed_url(std::string_view url) {
    const size_t end = url.find_first_of(":/?#");
    if (end == npos || url[end] != ':') return true;
    std::string scheme(url.substr(0, end));
    for (char& c : scheme) c = is_alpha(c) ? static_cast<char>(c | 0x20) : c;
    return scheme == "http" || scheme == "https" || scheme == "mailto";
}

void append_link_open(std::string& out, std::string_view url, std::string_view title) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    out += "<a href=\"";
    for (const char c : url) {
        if (is_control(c)) out += {'%', kHex[static_cast<unsigned char>(c) >> 4], kHex[c & 15]};
        else append_escaped(out, std::string_view(&c, 1));
    }
    if (!title.empty()) {
        out += "\" title=\"";
        append_escaped(out, title);
    }
    out += "\" target=\"_blank\" rel=\"noopener noreferrer\">";
}

// A scheme as in <https://…>: a letter, then 1 to 31 letters, digits, + . or -, then ':'.
bool has_scheme(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == npos || colon < 2 || colon > 32 || !is_alpha(text[0])) return false;
    return std::all_of(text.begin() + 1, text.begin() + colon, [](char c) { return is_alnum(c) || is_one_of(c, "+.-"); });
}

bool is_email(std::string_view text) {
    const size_t at = text.find('@');
    if (at == 0 || at == npos || at + 1 >= text.size() || text.back() == '.' || text[at + 1] == '.') return false;
    const auto local = [](char c) { return is_alnum(c) || is_one_of(c, ".!#$%&'*+/=?^_`{|}~-"); };
    return std::all_of(text.begin(), text.begin() + at, local) &&
           std::all_of(text.begin() + at + 1, text.end(), [](char c) { return is_alnum(c) || c == '-' || c == '.'; });
}

// ---- Inline content ----

enum Tag : uint8_t { kEm, kStrong, kDel };
constexpr std::string_view kOpenTags[] = {"<em>", "<strong>", "<del>"};
constexpr std::string_view kCloseTags[] = {"</em>", "</strong>", "</del>"};

// One piece of inline content, in source order.
struct Inline {
    enum Kind : uint8_t { kText, kHtml, kDelimiter, kBracket };
    explicit Inline(Kind k = kText, std::string t = {}) : kind(k), text(std::move(t)) {}
    Kind kind;
    std::string text;         // literal text (kText, kBracket, a delimiter's unused characters) or markup
    std::vector<Tag> closes;  // emphasis ended just before this node
    std::vector<Tag> opens;   // emphasis started just after it, innermost first
};

// A run of * _ or ~~ that may open or close emphasis.
struct Delimiter {
    size_t node;
    char ch;
    size_t length;  // the run's original length, for the rule of three
    bool can_open, can_close;
    long prev, next;  // live neighbours while emphasis is resolved
};

// A [ or ![ that a later ](…) may turn into a link.
struct Bracket {
    size_t node;
    size_t delimiter_bottom;  // delimiters from here on lie inside the link text
    bool image;
};

class InlineParser {
  public:
    explicit InlineParser(std::string_view text) : s_(text) {
        for (size_t p = s_.find('`'); p != npos; p = s_.find('`', p)) {
            const size_t start = p;
            while (p < s_.size() && s_[p] == '`') ++p;
            backtick_runs_.emplace_back(p - start, start);
        }
        std::sort(backtick_runs_.begin(), backtick_runs_.end());
    }

    void render(std::string& out) {
        parse();
        for (const Inline& node : nodes_) {
            for (const Tag tag : node.closes) out += kCloseTags[tag];
            if (node.kind == Inline::kHtml) out += node.text;
            else append_escaped(out, node.text);
            for (auto tag = node.opens.rbegin(); tag != node.opens.rend(); ++tag) out += kOpenTags[*tag];
        }
    }

  private:
    void parse() {
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (c == '\\') parse_backslash();
            else if (c == '`') parse_code_span();
            else if (c == '*' || c == '_' || c == '~') parse_delimiter_run();
            else if (c == '[' || (c == '!' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '[')) open_bracket();
            else if (c == ']') close_bracket();
            else if (c == '\n') line_break();
            else if (!parse_autolink(c)) add_plain_run();
        }
        process_emphasis(0);
    }

    void add_text(std::string_view text) {
        if (nodes_.empty() || nodes_.back().kind != Inline::kText) nodes_.emplace_back();
        nodes_.back().text += text;
    }

    // No link inside a link: while a bracket that may still become one is open, URLs are text.
    bool parse_autolink(char c) {
        if (brackets_.size() > first_active_bracket_) return false;
        return (c == '<' && parse_angle_autolink()) || (c == 'h' && parse_bare_url());
    }

    void add_autolink(std::string_view url, std::string_view text) {
        Inline& node = nodes_.emplace_back(Inline::kHtml);
        append_link_open(node.text, url, {});
        append_escaped(node.text, text);
        node.text += "</a>";
    }

    void add_plain_run() {
        size_t end = pos_ + 1;
        while (end < s_.size() && !is_one_of(s_[end], "\\`*_~[!]\n<h")) ++end;
        add_text(s_.substr(pos_, end - pos_));
        pos_ = end;
    }

    void parse_backslash() {
        const char next = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
        if (is_punct(next)) add_text(s_.substr(pos_ + 1, 1));
        else if (next != '\n') add_text("\\");  // before a newline it marks a break, as every newline is one
        pos_ += is_punct(next) ? 2 : 1;
    }

    // Every newline inside a paragraph is a line break: chat replies mean them.
    void line_break() {
        if (!nodes_.empty() && nodes_.back().kind == Inline::kText) {
            std::string& text = nodes_.back().text;
            while (!text.empty() && is_blank_char(text.back())) text.pop_back();
        }
        nodes_.emplace_back(Inline::kHtml, "<br>");
        for (++pos_; pos_ < s_.size() && is_blank_char(s_[pos_]);) ++pos_;
    }

    // A code span ends at the next run of exactly as many backticks; the sorted runs find it
    // in O(log n), so unmatched runs cost no rescans.
    void parse_code_span() {
        const size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] == '`') ++pos_;
        const size_t length = pos_ - start;
        const auto closer = std::lower_bound(backtick_runs_.begin(), backtick_runs_.end(), std::make_pair(length, pos_));
        if (closer == backtick_runs_.end() || closer->first != length) return add_text(s_.substr(start, length));
        std::string code(s_.substr(pos_, closer->second - pos_));
        std::replace(code.begin(), code.end(), '\n', ' ');
        if (code.size() >= 2 && code.front() == ' ' && code.back() == ' ' && code.find_first_not_of(' ') != npos) {
            code = code.substr(1, code.size() - 2);
        }
        Inline& node = nodes_.emplace_back(Inline::kHtml, "<code>");
        append_escaped(node.text, code);
        node.text += "</code>";
        pos_ = closer->second + length;
    }

    void parse_delimiter_run() {
        const size_t start = pos_;
        const char c = s_[pos_];
        while (pos_ < s_.size() && s_[pos_] == c) ++pos_;
        const size_t length = pos_ - start;
        if (c == '~' && length != 2) return add_text(s_.substr(start, length));
        const char before = start > 0 ? s_[start - 1] : '\n';
        const char after = pos_ < s_.size() ? s_[pos_] : '\n';
        const bool left = !is_space(after) && (!is_punct(after) || is_space(before) || is_punct(before));
        const bool right = !is_space(before) && (!is_punct(before) || is_space(after) || is_punct(after));
        // An underscore inside a word (snake_case_name) neither opens nor closes.
        const bool can_open = c == '_' ? left && (!right || is_punct(before)) : left;
        const bool can_close = c == '_' ? right && (!left || is_punct(after)) : right;
        nodes_.emplace_back(Inline::kDelimiter, std::string(s_.substr(start, length)));
        if (can_open || can_close) delimiters_.push_back({nodes_.size() - 1, c, length, can_open, can_close, -1, -1});
    }

    void open_bracket() {
        const bool image = s_[pos_] == '!';
        nodes_.emplace_back(Inline::kBracket, image ? "![" : "[");
        brackets_.push_back({nodes_.size() - 1, delimiters_.size(), image});
        pos_ += image ? 2 : 1;
    }

    // Images become links to the image, with the alt text: the UI loads nothing a reply names.
    void close_bracket() {
        ++pos_;
        if (brackets_.empty()) return add_text("]");
        const Bracket bracket = brackets_.back();
        brackets_.pop_back();
        const bool active = brackets_.size() >= first_active_bracket_;
        first_active_bracket_ = std::min(first_active_bracket_, brackets_.size());
        std::string raw_url, title;
        if (!active || !parse_link_target(raw_url, title)) return add_text("]");
        process_emphasis(bracket.delimiter_bottom);
        first_active_bracket_ = brackets_.size();  // no link inside a link
        const std::string url = browser_url(raw_url);
        nodes_[bracket.node] = Inline(Inline::kHtml);
        if (!is_allowed_url(url)) return;  // the text alone
        append_link_open(nodes_[bracket.node].text, url, title);
        if (bracket.image && bracket.node + 1 == nodes_.size()) add_text(url);
        nodes_.emplace_back(Inline::kHtml, "</a>");
    }

    // (destination "title") on one line. A destination ends at an unescaped ']', so the
    // scans that different "](" start never overlap: linear time on any input.
    bool parse_link_target(std::string& url, std::string& title) {
        size_t p = pos_ + 1;
        const auto skip_blanks = [&] {
            while (p < s_.size() && is_blank_char(s_[p])) ++p;
        };
        if (pos_ >= s_.size() || s_[pos_] != '(') return false;
        skip_blanks();
        if (!parse_destination(p, url)) return false;
        const size_t destination_end = p;
        skip_blanks();
        if (p > destination_end && p < s_.size() && is_one_of(s_[p], "\"'(")) {
            if (!parse_title(p, title)) return false;
            skip_blanks();
        }
        if (p >= s_.size() || s_[p] != ')') return false;
        pos_ = p + 1;
        return true;
    }

    bool escaped_at(size_t p) const { return s_[p] == '\\' && p + 1 < s_.size() && is_punct(s_[p + 1]); }

    bool parse_destination(size_t& p, std::string& url) const {
        if (p < s_.size() && s_[p] == '<') {
            for (++p; p < s_.size() && s_[p] != '>'; ++p) {
                if (is_one_of(s_[p], "<\n]")) return false;
                url += s_[escaped_at(p) ? ++p : p];
            }
            return p++ < s_.size();
        }
        int depth = 0;
        for (; p < s_.size() && !is_control(s_[p]) && s_[p] != ']'; ++p) {
            if (s_[p] == '(' && ++depth > kMaxLinkParens) return false;
            if (s_[p] == ')' && depth-- == 0) break;
            url += s_[escaped_at(p) ? ++p : p];
        }
        return depth <= 0;
    }

    bool parse_title(size_t& p, std::string& title) const {
        const char close = s_[p] == '(' ? ')' : s_[p];
        for (++p; p < s_.size() && s_[p] != close; ++p) {
            if (s_[p] == '\n' || (close == ')' && s_[p] == '(')) return false;
            title += s_[escaped_at(p) ? ++p : p];
        }
        return p++ < s_.size();
    }

    // <https://…> or <name@host>; other schemes, and anything else in angle brackets, are text.
    bool parse_angle_autolink() {
        size_t end = pos_ + 1;
        while (end < s_.size() && s_[end] != '>' && s_[end] != '<' && !is_control(s_[end])) ++end;
        if (end >= s_.size() || s_[end] != '>') return false;
        const std::string_view body = s_.substr(pos_ + 1, end - pos_ - 1);
        const std::string url = has_scheme(body) ? std::string(body) : is_email(body) ? "mailto:" + std::string(body) : "";
        if (url.empty() || !is_allowed_url(url)) return false;
        add_autolink(url, body);
        pos_ = end + 1;
        return true;
    }

    // http:// or https:// after a non-alphanumeric character; not right after "](", where a
    // streaming link's destination is still arriving.
    bool parse_bare_url() {
        if (pos_ > 0 && (is_alnum(s_[pos_ - 1]) || (pos_ > 1 && s_.substr(pos_ - 2, 2) == "]("))) return false;
        const std::string_view rest = s_.substr(pos_);
        const size_t scheme = starts_with(rest, "https://") ? 8 : starts_with(rest, "http://") ? 7 : 0;
        if (scheme == 0 || scheme >= rest.size()) return false;
        if (!is_alnum(rest[scheme]) && static_cast<unsigned char>(rest[scheme]) < 0x80) return false;
        size_t end = scheme, opens = 0, closes = 0;
        for (; end < rest.size() && !is_control(rest[end]) && !is_one_of(rest[end], "<>\"`[]\\{}|^"); ++end) {
            opens += rest[end] == '(';
            closes += rest[end] == ')';
        }
        // Trailing punctuation belongs to the sentence, an unmatched ')' to an enclosing parenthesis.
        for (;; --end) {
            if (rest[end - 1] == ')' && closes > opens) --closes;
            else if (!is_one_of(rest[end - 1], "?!.,:;*_~'\"")) break;
        }
        add_autolink(rest.substr(0, end), rest.substr(0, end));
        pos_ += end;
        return true;
    }

    void unlink(long i) {
        if (delimiters_[i].prev >= 0) delimiters_[delimiters_[i].prev].next = delimiters_[i].next;
        if (delimiters_[i].next >= 0) delimiters_[delimiters_[i].next].prev = delimiters_[i].prev;
    }

    // CommonMark's "process emphasis" over the delimiters from `bottom` on, which it then
    // drops. openers_bottom keeps where a failed search stopped, so no later search for the
    // same kind of closer goes past it: linear overall.
    void process_emphasis(size_t bottom) {
        const long first = static_cast<long>(bottom), count = static_cast<long>(delimiters_.size());
        for (long i = first; i < count; ++i) {
            delimiters_[i].prev = i > first ? i - 1 : -1;
            delimiters_[i].next = i + 1 < count ? i + 1 : -1;
        }
        long openers_bottom[3][2][3];
        std::fill(&openers_bottom[0][0][0], &openers_bottom[0][0][0] + 18, -1L);
        for (long closer = first < count ? first : -1; closer >= 0;) {
            Delimiter& c = delimiters_[closer];
            long& floor = openers_bottom[c.ch == '*' ? 0 : c.ch == '_' ? 1 : 2][c.can_open][c.length % 3];
            long opener = c.prev;
            for (; c.can_close && opener > floor; opener = delimiters_[opener].prev) {
                const Delimiter& o = delimiters_[opener];
                // The rule of three: in "*a**b*" the inner "**" pair with neither side.
                const bool odd = c.ch != '~' && (o.can_close || c.can_open) && (o.length + c.length) % 3 == 0 &&
                                 (o.length % 3 != 0 || c.length % 3 != 0);
                if (o.ch == c.ch && o.can_open && !odd) break;
            }
            if (!c.can_close || opener <= floor) {
                if (c.can_close) floor = c.prev;
                if (c.can_close && !c.can_open) unlink(closer);
                closer = c.next;
                continue;
            }
            Delimiter& o = delimiters_[opener];
            std::string& open_text = nodes_[o.node].text;
            std::string& close_text = nodes_[c.node].text;
            const size_t used = c.ch == '~' || (open_text.size() >= 2 && close_text.size() >= 2) ? 2 : 1;
            const Tag tag = c.ch == '~' ? kDel : used == 2 ? kStrong : kEm;
            open_text.erase(open_text.size() - used);
            close_text.erase(close_text.size() - used);
            nodes_[o.node].opens.push_back(tag);
            nodes_[c.node].closes.push_back(tag);
            // Delimiters between the pair can no longer match: pairs nest, never cross.
            o.next = closer;
            c.prev = opener;
            if (open_text.empty()) unlink(opener);
            if (close_text.empty()) {
                unlink(closer);
                closer = c.next;
            }
        }
        delimiters_.resize(bottom);
    }

    std::string_view s_;
    size_t pos_ = 0;
    std::vector<Inline> nodes_;
    std::vector<Delimiter> delimiters_;
    std::vector<Bracket> brackets_;
    size_t first_active_bracket_ = 0;  // brackets below this index may no longer form links
    std::vector<std::pair<size_t, size_t>> backtick_runs_;  // (length, position), sorted
};

}  // namespace

void render_inline(std::string_view text, std::string& out) { InlineParser(text).render(out); }

}  // namespace hearth::ui::markdown
