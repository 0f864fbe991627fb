// Blocks, then inlines. A container (block quote, list item) strips its markers from its
// lines and renders them again one level deeper; each paragraph, heading and table cell is
// parsed inline (markdown_inline.cpp). Markup comes only from string literals in these
// files; everything taken from the input is escaped.
#include "markdown.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "markdown_inline.h"

namespace hearth::ui {
namespace {

using namespace markdown;  // the shared helpers and the inline parser

// Block quotes and list items nested deeper than this are text: bounds recursion, time and output.
constexpr int kMaxDepth = 16;
constexpr size_t kMaxLanguage = 32;

enum Align : uint8_t { kNone, kLeft, kCenter, kRight };

size_t indent_columns(std::string_view line) {
    size_t column = 0;
    for (size_t p = 0; p < line.size() && is_blank_char(line[p]); ++p) column += line[p] == ' ' ? 1 : 4 - column % 4;
    return column;
}

// The line without `columns` columns of indentation; a tab that straddles the cut leaves its
// remaining columns as spaces.
std::string strip_columns(std::string_view line, size_t columns) {
    size_t p = 0;
    for (size_t column = 0; p < line.size() && column < columns && is_blank_char(line[p]); ++p) {
        column += line[p] == ' ' ? 1 : 4 - column % 4;
        if (column > columns) return std::string(column - columns, ' ') + std::string(line.substr(p + 1));
    }
    return std::string(line.substr(p));
}

struct Fence {
    char ch = 0;
    size_t length = 0;
    size_t indent = 0;
};

// ``` or ~~~ (three or more) at any indentation: with no indented code blocks, an indented
// fence still means a fence.
bool parse_fence_open(std::string_view line, Fence& fence, std::string_view* info = nullptr) {
    const size_t p = std::min(line.find_first_not_of(' '), line.size());
    if (p == line.size() || (line[p] != '`' && line[p] != '~')) return false;
    const size_t end = std::min(line.find_first_not_of(line[p], p), line.size());
    const std::string_view rest = trim(line.substr(end));
    if (end - p < 3 || (line[p] == '`' && rest.find('`') != npos)) return false;  // ```a``` is inline code
    fence = {line[p], end - p, p};
    if (info != nullptr) *info = rest;
    return true;
}

bool is_fence_close(std::string_view line, const Fence& fence) {
    line = trim(line);
    return line.size() >= fence.length && line.find_first_not_of(fence.ch) == npos;
}

// Whether the lines fed so far leave a code fence open (lazy lines cannot continue code).
struct FenceTracker {
    Fence fence;
    bool open = false;
    void feed(std::string_view line) { open = open ? !is_fence_close(line, fence) : parse_fence_open(line, fence); }
};

std::string code_language(std::string_view info) {
    std::string lang;
    for (size_t p = 0; p < info.size() && !is_blank_char(info[p]) && lang.size() < kMaxLanguage; ++p) {
        if (is_alnum(info[p]) || is_one_of(info[p], "_+.#-")) lang += info[p];
    }
    return lang;
}

int heading_level(std::string_view line) {
    if (indent_columns(line) > 3) return 0;
    line = trim(line);
    const size_t level = std::min(line.find_first_not_of('#'), line.size());
    if (level == 0 || level > 6 || (level < line.size() && !is_blank_char(line[level]))) return 0;
    return static_cast<int>(level);
}

bool is_rule(std::string_view line) {
    if (indent_columns(line) > 3) return false;
    line = trim(line);
    if (line.empty() || !is_one_of(line[0], "-*_")) return false;
    return std::count(line.begin(), line.end(), line[0]) >= 3 &&
           line.find_first_not_of(std::string{line[0], ' ', '\t'}) == npos;
}

bool is_quote_start(std::string_view line) { return indent_columns(line) <= 3 && starts_with(trim(line), ">"); }

std::string strip_quote_marker(std::string_view line) {
    size_t p = line.find('>') + 1;
    if (p < line.size() && is_blank_char(line[p])) ++p;
    return std::string(line.substr(p));
}

struct ListMarker {
    bool ordered = false;
    char ch = 0;  // the bullet, or the ordered delimiter ('.' or ')')
    uint64_t number = 1;
    size_t indent = 0;  // columns before the marker
    size_t content_column = 0;
    size_t content_pos = 0;  // byte offset of the content in the line
    bool empty = false;      // nothing after the marker
};

bool parse_list_marker(std::string_view line, ListMarker& marker) {
    size_t p = std::min(line.find_first_not_of(" \t"), line.size());
    marker.indent = indent_columns(line);
    if (marker.indent > 3 || p == line.size()) return false;
    const size_t marker_start = p;
    marker.number = 0;
    for (; p < line.size() && is_digit(line[p]) && p - marker_start < 9; ++p) {
        marker.number = marker.number * 10 + static_cast<uint64_t>(line[p] - '0');
    }
    marker.ordered = p > marker_start;
    if (marker.ordered ? p == line.size() || !is_one_of(line[p], ".)") : !is_one_of(line[p], "-*+")) return false;
    marker.ch = line[p++];
    if (p < line.size() && !is_blank_char(line[p])) return false;
    const size_t spaces = indent_columns(line.substr(p));
    const size_t content = std::min(line.find_first_not_of(" \t", p), line.size());
    marker.empty = content == line.size();
    // With five or more spaces after the marker, the content starts one column after it.
    const bool one_space = marker.empty || spaces > 4;
    marker.content_column = marker.indent + (p - marker_start) + (one_space ? 1 : spaces);
    marker.content_pos = one_space ? std::min(p + 1, line.size()) : content;
    return true;
}

// "[ ] " or "[x] " at the start of a list item's text: removed, and its state returned.
int take_task_marker(std::string& text) {
    if (text.size() < 3 || text[0] != '[' || text[2] != ']' || !is_one_of(text[1], " xX")) return -1;
    if (text.size() > 3 && !is_blank_char(text[3])) return -1;
    const int done = text[1] != ' ';
    text.erase(0, std::min<size_t>(text.size(), 4));
    return done;
}

// A GFM delimiter row ("| :-- | :-: | --: |"): the columns' alignments.
bool parse_delimiter_row(std::string_view line, std::vector<Align>& aligns) {
    if (indent_columns(line) > 3 || line.find('|') == npos) return false;
    line = trim(line);
    if (line.front() == '|') line.remove_prefix(1);
    if (!line.empty() && line.back() == '|') line.remove_suffix(1);
    aligns.clear();
    for (;;) {
        const size_t bar = line.find('|');
        const std::string_view cell = trim(line.substr(0, bar));
        const bool left = !cell.empty() && cell.front() == ':', right = cell.size() > 1 && cell.back() == ':';
        const std::string_view dashes = cell.substr(left, cell.size() - left - right);
        if (dashes.empty() || dashes.find_first_not_of('-') != npos) return false;
        aligns.push_back(left && right ? kCenter : left ? kLeft : right ? kRight : kNone);
        if (bar == npos) return true;
        line.remove_prefix(bar + 1);
    }
}

// A table row's cells; "\|" is a pipe inside a cell (also inside code spans, as in GFM).
std::vector<std::string> split_cells(std::string_view line) {
    line = trim(line);
    if (!line.empty() && line.front() == '|') line.remove_prefix(1);
    std::vector<std::string> cells(1);
    bool ends_with_bar = false;
    for (size_t p = 0; p < line.size(); ++p) {
        ends_with_bar = line[p] == '|';
        if (ends_with_bar) cells.emplace_back();
        else if (line[p] != '\\' || p + 1 == line.size()) cells.back() += line[p];
        else if (line[++p] == '|') cells.back() += '|';
        else cells.back() += {'\\', line[p]};
    }
    if (ends_with_bar && cells.size() > 1) cells.pop_back();
    for (std::string& cell : cells) cell = std::string(trim(cell));
    return cells;
}

void render_row(const std::vector<std::string>& cells, const std::vector<Align>& aligns, const std::string& tag,
                std::string& out) {
    static constexpr std::string_view kAlignStyles[] = {
        "", " style=\"text-align:left\"", " style=\"text-align:center\"", " style=\"text-align:right\""};
    out += "<tr>";
    const size_t shown = std::min(cells.size(), aligns.size());
    for (size_t i = 0; i < shown; ++i) {
        out += "<" + tag;
        out += kAlignStyles[aligns[i]];
        out += '>';
        render_inline(cells[i], out);
        out += "</" + tag + ">";
    }
    // Missing cells as one empty cell across them, so a row costs what its text costs.
    const size_t missing = aligns.size() - shown;
    if (missing > 0) out += missing == 1 ? "<td></td>" : "<td colspan=\"" + std::to_string(missing) + "\"></td>";
    out += "</tr>";
}

// Writes the blocks of `lines`, the content of a container `depth` containers deep. A
// container strips its markers from its lines and hands them to a renderer one level deeper.
class BlockRenderer {
  public:
    BlockRenderer(std::vector<std::string> lines, int depth, std::string& out)
        : lines_(std::move(lines)), depth_(depth), out_(out) {}

    // `tight`: paragraphs without <p>, for the items of a tight list. `lead`: a task item's
    // checkbox, written into its first paragraph so it sits on the text's line.
    void render(bool tight = false, std::string lead = {}) {
        tight_ = tight;
        while (at_ < lines_.size()) {
            if (is_blank_line(lines_[at_])) { ++at_; continue; }
            Fence fence;
            std::string_view info;
            ListMarker marker;
            const Kind kind = classify(fence, info, marker);
            if (kind == kParagraph) render_paragraph(lead.empty() ? lead : lead + " ");
            else out_ += lead;
            lead.clear();
            switch (kind) {
                case kParagraph: break;
                case kHeading: render_heading(); break;
                case kRule: out_ += "<hr>"; ++at_; break;
                case kCode: render_code(fence, info); break;
                case kQuote: render_quote(); break;
                case kList: render_list(marker); break;
                case kTable: render_table(); break;
            }
        }
        out_ += lead;
    }

  private:
    enum Kind : uint8_t { kParagraph, kHeading, kRule, kCode, kQuote, kList, kTable };

    bool can_nest() const { return depth_ < kMaxDepth; }

    Kind classify(Fence& fence, std::string_view& info, ListMarker& marker) const {
        const std::string_view line = lines_[at_];
        if (parse_fence_open(line, fence, &info)) return kCode;
        if (heading_level(line) > 0) return kHeading;
        if (is_rule(line)) return kRule;
        if (can_nest() && is_quote_start(line)) return kQuote;
        if (can_nest() && parse_list_marker(line, marker)) return kList;
        return table_starts_at(at_) ? kTable : kParagraph;
    }

    bool interrupts_paragraph(std::string_view line) const {
        Fence fence;
        ListMarker marker;
        if (is_blank_line(line) || parse_fence_open(line, fence) || heading_level(line) > 0 || is_rule(line)) return true;
        // A list interrupts a paragraph only with an item that says something, a numbered
        // one only from 1: "in\n2020 we…" stays one paragraph.
        return can_nest() && (is_quote_start(line) || (parse_list_marker(line, marker) && !marker.empty &&
                                                       (!marker.ordered || marker.number == 1)));
    }

    // A line without its container's marker still belongs to the container when it
    // continues the paragraph the container ends with.
    bool lazy_continues(std::string_view last_inner, const FenceTracker& fences, std::string_view line) const {
        Fence fence;
        return !fences.open && !is_blank_line(last_inner) && heading_level(last_inner) == 0 && !is_rule(last_inner) &&
               !parse_fence_open(last_inner, fence) && !interrupts_paragraph(line);
    }

    bool table_starts_at(size_t i) const {
        if (i + 1 >= lines_.size() || indent_columns(lines_[i]) > 3 || lines_[i].find('|') == npos) return false;
        std::vector<Align> aligns;
        return parse_delimiter_row(lines_[i + 1], aligns) && split_cells(lines_[i]).size() == aligns.size();
    }

    void render_paragraph(std::string_view lead) {
        out_ += tight_ ? "" : "<p>";
        out_ += lead;
        std::string text(trim(lines_[at_]));
        while (++at_ < lines_.size() && !interrupts_paragraph(lines_[at_]) && !table_starts_at(at_)) {
            text += '\n';
            text += trim(lines_[at_]);
        }
        render_inline(text, out_);
        out_ += tight_ ? "" : "</p>";
    }

    void render_heading() {
        const int level = heading_level(lines_[at_]);
        std::string_view text = trim(trim(lines_[at_++]).substr(static_cast<size_t>(level)));
        // A closing run of #s after a blank is not part of the text.
        const size_t end = text.find_last_not_of('#') + 1;
        if (end == 0) text = {};
        else if (end < text.size() && is_blank_char(text[end - 1])) text = trim(text.substr(0, end));
        out_ += "<h" + std::to_string(level) + ">";
        render_inline(text, out_);
        out_ += "</h" + std::to_string(level) + ">";
    }

    // Up to the closing fence, or to the end of the container: while a reply streams, an
    // open fence holds everything after it.
    void render_code(const Fence& fence, std::string_view info) {
        const std::string lang = code_language(info);
        out_ += "<div class=\"code\"><div class=\"code-bar\"><span class=\"code-lang\">" + lang +
                "</span><button type=\"button\" class=\"copy\" data-action=\"copy-code\">Copy</button></div><pre><code";
        out_ += lang.empty() ? ">" : " class=\"language-" + lang + "\">";
        for (bool first = true; ++at_ < lines_.size() && !is_fence_close(lines_[at_], fence); first = false) {
            const std::string_view line = lines_[at_];
            out_ += first ? "" : "\n";
            append_escaped(out_, line.substr(std::min({line.find_first_not_of(' '), fence.indent, line.size()})));
        }
        at_ += at_ < lines_.size();  // the closing fence
        out_ += "</code></pre></div>";
    }

    void render_quote() {
        std::vector<std::string> inner;
        FenceTracker fences;
        for (; at_ < lines_.size(); ++at_) {
            const std::string_view line = lines_[at_];
            if (is_quote_start(line)) inner.push_back(strip_quote_marker(line));
            else if (lazy_continues(inner.back(), fences, line)) inner.emplace_back(line);
            else break;
            fences.feed(inner.back());
        }
        out_ += "<blockquote>";
        BlockRenderer(std::move(inner), depth_ + 1, out_).render();
        out_ += "</blockquote>";
    }

    struct Item {
        std::vector<std::string> lines;
        int task;
    };

    // A list is loose (its paragraphs keep <p>) when blank lines separate its items or lie
    // inside one outside code.
    void render_list(ListMarker marker) {
        const bool ordered = marker.ordered;
        const uint64_t start = marker.number;
        std::vector<Item> items;
        bool loose = false;
        for (ListMarker sibling;; marker = sibling) {
            items.push_back(collect_item(marker, loose));
            size_t next = at_;
            while (next < lines_.size() && is_blank_line(lines_[next])) ++next;
            if (next == lines_.size() || is_rule(lines_[next]) || !parse_list_marker(lines_[next], sibling) ||
                sibling.ordered != ordered || sibling.ch != marker.ch) {
                break;
            }
            loose = loose || next > at_;
            at_ = next;
        }
        out_ += !ordered ? "<ul>" : start == 1 ? "<ol>" : "<ol start=\"" + std::to_string(start) + "\">";
        for (Item& item : items) {
            static constexpr std::string_view kBoxes[] = {"", "<input type=\"checkbox\" disabled>",
                                                          "<input type=\"checkbox\" checked disabled>"};
            out_ += item.task < 0 ? "<li>" : "<li class=\"task\">";
            BlockRenderer(std::move(item.lines), depth_ + 1, out_).render(!loose, std::string(kBoxes[item.task + 1]));
            out_ += "</li>";
        }
        out_ += ordered ? "</ol>" : "</ul>";
    }

    Item collect_item(const ListMarker& marker, bool& loose) {
        std::string first(std::string_view(lines_[at_]).substr(marker.content_pos));
        const int task = take_task_marker(first);
        std::vector<std::string> inner{std::move(first)};
        FenceTracker fences;
        fences.feed(inner.back());
        // Content belongs to the item from its content column or, as models often indent
        // under "1. ", from two columns past the marker.
        const size_t threshold = std::min(marker.content_column, marker.indent + 2);
        size_t blanks = 0, end = ++at_;
        for (ListMarker sibling; at_ < lines_.size(); ++at_) {
            const std::string_view line = lines_[at_];
            if (is_blank_line(line)) { ++blanks; continue; }
            if (indent_columns(line) >= threshold) {
                loose = loose || (blanks > 0 && !fences.open);
                inner.insert(inner.end(), blanks, std::string());
                inner.push_back(strip_columns(line, threshold));
            } else if (blanks == 0 && !(can_nest() && parse_list_marker(line, sibling)) &&
                       lazy_continues(inner.back(), fences, line)) {
                inner.emplace_back(line);
            } else {
                break;
            }
            blanks = 0;
            fences.feed(inner.back());
            end = at_ + 1;
        }
        at_ = end;  // trailing blank lines separate this item from what follows
        return {std::move(inner), task};
    }

    void render_table() {
        std::vector<Align> aligns;
        parse_delimiter_row(lines_[at_ + 1], aligns);
        out_ += "<div class=\"table\"><table><thead>";
        render_row(split_cells(lines_[at_]), aligns, "th", out_);
        out_ += "</thead>";
        const size_t body = at_ += 2;
        for (; at_ < lines_.size() && !interrupts_paragraph(lines_[at_]); ++at_) {
            out_ += at_ == body ? "<tbody>" : "";
            render_row(split_cells(lines_[at_]), aligns, "td", out_);
        }
        out_ += at_ > body ? "</tbody></table></div>" : "</table></div>";
    }

    std::vector<std::string> lines_;
    size_t at_ = 0;
    int depth_;
    std::string& out_;
    bool tight_ = false;
};

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
        const size_t end = std::min(text.find('\n', start), text.size());
        std::string& line = lines.emplace_back();
        for (const char c : text.substr(start, end - start)) {
            if (c == '\0') line += "\xEF\xBF\xBD";  // NUL is no text in HTML; browsers show U+FFFD too
            else line += c;
        }
        if (!line.empty() && line.back() == '\r') line.pop_back();
        start = end + 1;
    }
    return lines;
}

}  // namespace

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_escaped(out, text);
    return out;
}

std::string render_markdown(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 2);
    BlockRenderer(split_lines(text), 0, out).render();
    return out;
}

}  // namespace hearth::ui
