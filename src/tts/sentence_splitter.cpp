#include "tts/sentence_splitter.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "base/utf8.h"

namespace hearth::tts {

namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";

bool is_terminal(char32_t c) {
    switch (c) {
        case U'.': case U'!': case U'?': case 0x3002: case 0xFF01: case 0xFF1F: case 0xFF0E:
        case 0x0964: case 0x0965: case 0x061F: case 0x06D4: case 0x2026: case 0x037E:
            return true;
        default:
            return false;
    }
}

bool is_closing(char32_t c, bool markdown) {
    if (markdown && (c == U'*' || c == U'_' || c == U'`' || c == U'~')) return true;  // "**Done.** Next"
    return c == U'"' || c == U'\'' || c == U')' || c == U']' || c == U'}' || c == 0x201D || c == 0x2019 ||
           c == 0x00BB || c == 0x300D || c == 0x300F || c == 0xFF09;
}

// Ideographic and Devanagari terminators need no space after them.
bool needs_no_space(char32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF0E || c == 0x0964 || c == 0x0965; }

bool is_space(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == 0xA0 || c == 0x3000; }

// Where a long clause may end: ASCII marks need a space after them, CJK ones do not.
bool is_clause_mark(char32_t c) { return c == U',' || c == U';' || c == U':'; }
bool is_cjk_clause_mark(char32_t c) { return c == 0xFF0C || c == 0x3001 || c == 0xFF1B || c == 0xFF1A; }

bool is_ascii_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The period at `dot` ends an abbreviation or an initial, not a sentence: "Dr.", "e.g.",
// "U.S.", "J." (a single capital).
bool ends_abbreviation(std::string_view s, size_t dot) {
    size_t b = dot;
    while (b > 0 && (std::isalpha(static_cast<unsigned char>(s[b - 1])) || s[b - 1] == '.')) --b;
    std::string word(s.substr(b, dot - b));
    if (word.empty()) return false;
    if (word.size() == 1) return std::isupper(static_cast<unsigned char>(word[0])) != 0;
    if (word.find('.') != std::string::npos) {
        // Dotted letters: "e.g", "i.e", "U.S", "a.m".
        for (size_t i = 0; i < word.size(); ++i) {
            if ((i % 2 == 0) != (std::isalpha(static_cast<unsigned char>(word[i])) != 0)) return false;
        }
        return true;
    }
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static constexpr std::array<std::string_view, 17> kAbbreviations = {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "cf", "approx", "fig", "eq", "vol", "no", "inc", "ltd"};
    return std::find(kAbbreviations.begin(), kAbbreviations.end(), word) != kAbbreviations.end();
}

// Whitespace runs become one space; leading and trailing ones go.
std::string collapse_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool space = false;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = pos;
        const uint32_t cp = utf8_decode(text, pos);
        if (is_space(cp)) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out.append(text.substr(start, pos - start));
    }
    return out;
}

// Something a voice can say: a letter or digit of any script.
bool has_words(std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
        const uint32_t cp = utf8_decode(text, pos);
        if (cp < 0x80 ? std::isalnum(static_cast<int>(cp)) != 0
                      : !is_terminal(cp) && !is_space(cp) && !is_closing(cp, false) && cp != 0xFFFD) {
            return true;
        }
    }
    return false;
}

// Inside inline code or a link's text or target, where a period is not a sentence end
// ("[see e.g. this](http://x.org/a. b)").
bool inside_inline_span(std::string_view s) {
    // Spans are short: an opening mark further back than this is a stray one, and must not
    // hold the rest of the line back as one sentence.
    constexpr size_t kMaxSpan = 200;
    const size_t from = s.size() > kMaxSpan ? s.size() - kMaxSpan : 0;
    const size_t tick = s.rfind('`');
    if (tick != std::string_view::npos && tick >= from && std::count(s.begin(), s.end(), '`') % 2 == 1) return true;
    const size_t open = s.rfind('['), close = s.rfind(']');
    if (open != std::string_view::npos && open >= from && (close == std::string_view::npos || close < open)) return true;
    const size_t target = s.rfind("](");
    return target != std::string_view::npos && target >= from && s.find(')', target) == std::string_view::npos;
}

// The longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view s, std::string_view tag) {
    for (size_t len = std::min(s.size(), tag.size() - 1); len > 0; --len) {
        if (s.substr(s.size() - len) == tag.substr(0, len)) return len;
    }
    return 0;
}

enum class LineKind { Undecided, Text, Fence, Table, Rule };

struct LineStart {
    LineKind kind;
    size_t text_at = 0;  // Text: where the line's words start (markers skipped)
};

// What a Markdown line is, from its start; Undecided while more of it is needed.
LineStart classify_line(std::string_view line, bool complete) {
    const LineStart undecided{complete ? LineKind::Text : LineKind::Undecided, line.size()};
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    for (;;) {
        if (i == line.size()) return undecided;
        const char c = line[i];
        if (c == '>') {  // block quote
            ++i;
            while (i < line.size() && line[i] == ' ') ++i;
            continue;
        }
        if (c == '`' || c == '~') {
            size_t run = 0;
            while (i + run < line.size() && line[i + run] == c) ++run;
            // A backtick fence's info string holds no backtick ("```x``` is inline code").
            const bool fence = run >= 3 && (c == '~' || line.find('`', i + run) == std::string_view::npos);
            if (fence) return {complete ? LineKind::Fence : LineKind::Undecided, i};
            if (run >= 3 && complete) return {LineKind::Text, i};
            if (i + run == line.size()) return undecided;
            return {LineKind::Text, i};
        }
        if (c == '|') return {complete ? LineKind::Table : LineKind::Undecided, i};
        if (c == '#') {
            size_t run = 0;
            while (i + run < line.size() && line[i + run] == '#') ++run;
            if (i + run == line.size()) return undecided;
            if (run <= 6 && line[i + run] == ' ') {
                i += run;
                while (i < line.size() && line[i] == ' ') ++i;
                return {LineKind::Text, i};
            }
            return {LineKind::Text, i};
        }
        if (c == '-' || c == '*' || c == '+' || c == '_') {
            // A thematic break ("---", "* * *") is only markers and spaces.
            size_t markers = 0;
            bool only_markers = true;
            for (size_t k = i; k < line.size() && only_markers; ++k) {
                if (line[k] == c) ++markers;
                else if (line[k] != ' ' && line[k] != '\t' && line[k] != '\r') only_markers = false;
            }
            if (only_markers && !complete) return {LineKind::Undecided, i};
            if (only_markers && markers >= 3) return {LineKind::Rule, i};
            if (c != '_' && i + 1 < line.size() && line[i + 1] == ' ') {  // bullet
                i += 2;
                while (i < line.size() && line[i] == ' ') ++i;
                for (std::string_view box : {"[ ] ", "[x] ", "[X] "}) {
                    if (line.substr(i, box.size()) == box) i += box.size();
                }
                continue;
            }
            return {LineKind::Text, i};
        }
        if (c >= '0' && c <= '9') {
            size_t j = i;
            while (j < line.size() && j - i < 9 && line[j] >= '0' && line[j] <= '9') ++j;
            if (j == line.size() || ((line[j] == '.' || line[j] == ')') && j + 1 == line.size())) return undecided;
            if ((line[j] == '.' || line[j] == ')') && line[j + 1] == ' ') {  // "1. " ordered list
                i = j + 2;
                while (i < line.size() && line[i] == ' ') ++i;
                continue;
            }
            return {LineKind::Text, i};
        }
        return {LineKind::Text, i};
    }
}

// "| a | b |" -> "a, b"; separator rows ("|---|:-:|") -> "".
std::string table_row_text(std::string_view line) {
    std::vector<std::string_view> cells;
    size_t at = 0;
    while (at <= line.size()) {
        const size_t bar = line.find('|', at);
        cells.push_back(line.substr(at, bar == std::string_view::npos ? std::string_view::npos : bar - at));
        if (bar == std::string_view::npos) break;
        at = bar + 1;
    }
    std::string out;
    bool separator_row = true;
    for (auto cell : cells) {
        const std::string text = collapse_spaces(cell);
        if (text.empty()) continue;
        if (text.find_first_not_of(":- ") != std::string::npos) separator_row = false;
        if (!out.empty()) out += ", ";
        out += text;
    }
    return separator_row ? std::string() : out;
}

// Length of a bare HTML tag at the start of `s` ("<br>", "</sup>", "<br />"), else 0.
size_t html_tag_length(std::string_view s) {
    size_t i = 1;
    if (i < s.size() && s[i] == '/') ++i;
    const size_t name = i;
    while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
    if (i == name || !std::isalpha(static_cast<unsigned char>(s[name]))) return 0;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size() && s[i] == '/') ++i;
    return i < s.size() && s[i] == '>' ? i + 1 : 0;
}

}  // namespace

std::string strip_inline_markdown(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool in_code = false;  // inside `inline code`: its characters are words, not markup
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '`') {
            in_code = !in_code;
            ++i;
            continue;
        }
        if (in_code) {
            out += c;
            ++i;
            continue;
        }
        if (c == '\\' && i + 1 < text.size() && std::ispunct(static_cast<unsigned char>(text[i + 1]))) {
            out += text[i + 1];  // an escaped character stands for itself
            i += 2;
            continue;
        }
        if (c == '[' || (c == '!' && i + 1 < text.size() && text[i + 1] == '[')) {
            // [text](target) and ![alt](target): the text is read, the target is not.
            const size_t open = c == '[' ? i : i + 1;
            const size_t close = text.find(']', open + 1);
            if (close != std::string_view::npos && close + 1 < text.size() && text[close + 1] == '(') {
                const size_t end = text.find(')', close + 2);
                if (end != std::string_view::npos) {
                    out += strip_inline_markdown(text.substr(open + 1, close - open - 1));
                    i = end + 1;
                    continue;
                }
            }
        }
        if (c == '*' && i > 0 && i + 1 < text.size() && text[i - 1] == ' ' && text[i + 1] == ' ') {
            out += c;  // "2 * 3": a times sign, not emphasis
            ++i;
            continue;
        }
        if (c == '*') {
            ++i;
            continue;
        }
        if (c == '~' && i + 1 < text.size() && text[i + 1] == '~') {
            i += 2;
            continue;
        }
        if (c == '_') {
            // Emphasis underscores touch a non-word character; snake_case keeps its own.
            size_t run = 0;
            while (i + run < text.size() && text[i + run] == '_') ++run;
            const bool word_before = i > 0 && is_ascii_alnum(text[i - 1]);
            const bool word_after = i + run < text.size() && is_ascii_alnum(text[i + run]);
            if (!(word_before && word_after)) {
                i += run;
                continue;
            }
            out.append(run, '_');
            i += run;
            continue;
        }
        if (c == '<') {
            // HTML comments and bare tags (<br>, </sup>, <br/>) are markup, not words;
            // "a<b and b>c" is words.
            if (text.substr(i, 4) == "<!--") {
                const size_t end = text.find("-->", i + 4);
                i = end == std::string_view::npos ? text.size() : end + 3;
                out += ' ';
                continue;
            }
            if (const size_t len = html_tag_length(text.substr(i)); len > 0) {
                out += ' ';
                i += len;
                continue;
            }
        }
        out += c;
        ++i;
    }
    return collapse_spaces(out);
}

SentenceSplitter::SentenceSplitter(SentenceSplitOptions options) : options_(options) {
    options_.max_bytes = std::max<size_t>(options_.max_bytes, 8);
    in_think_ = options_.markdown && options_.starts_in_think;
}

std::vector<std::string> SentenceSplitter::push(std::string_view text) {
    std::string data = incomplete_;
    data.append(text);
    const size_t complete = utf8_complete_prefix(data);
    incomplete_ = data.substr(complete);
    data.resize(complete);
    std::vector<std::string> out;
    if (options_.markdown) {
        unfiltered_ += data;
        feed_markdown(out, false);
    } else {
        current_ += data;
        scan(out, false);
    }
    return out;
}

std::vector<std::string> SentenceSplitter::finish() {
    std::vector<std::string> out;
    const std::string rest = std::exchange(incomplete_, {});
    if (options_.markdown) {
        unfiltered_ += rest;
        feed_markdown(out, true);
        end_line(out);
    } else {
        current_ += rest;
        end_sentence(out);
    }
    return out;
}

void SentenceSplitter::feed_markdown(std::vector<std::string>& out, bool at_end) {
    // Reasoning is dropped before anything else sees the text. A reply opens it first
    // thing; "<think>" later on is text about the tag, not reasoning.
    std::string passed;
    for (;;) {
        if (in_think_) {
            const size_t at = unfiltered_.find(kThinkClose);
            if (at == std::string::npos) {
                const size_t keep = at_end ? 0 : partial_tag_suffix(unfiltered_, kThinkClose);
                unfiltered_.erase(0, unfiltered_.size() - keep);
                break;
            }
            unfiltered_.erase(0, at + kThinkClose.size());
            in_think_ = false;
            continue;
        }
        const size_t lead = unfiltered_.find_first_not_of(" \t\r\n");
        if (replied_ || lead == std::string::npos) {
            passed += unfiltered_;
            unfiltered_.clear();
            break;
        }
        const std::string_view rest = std::string_view(unfiltered_).substr(lead);
        if (rest.substr(0, kThinkOpen.size()) == kThinkOpen) {
            unfiltered_.erase(0, lead + kThinkOpen.size());
            in_think_ = true;
            continue;
        }
        if (!at_end && kThinkOpen.substr(0, rest.size()) == rest) break;  // "<thi": wait for more
        replied_ = true;
    }
    std::string_view rest = passed;
    while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        const std::string_view piece = rest.substr(0, nl);
        if (line_open_) {
            feed_line_text(piece, out);
        } else {
            line_.append(piece);
            if (!in_fence_) {
                const LineStart start = classify_line(line_, false);
                if (start.kind == LineKind::Text) {
                    line_open_ = true;
                    feed_line_text(std::string_view(line_).substr(start.text_at), out);
                    line_.clear();
                }
            }
        }
        if (nl == std::string_view::npos) break;
        end_line(out);
        rest.remove_prefix(nl + 1);
    }
}

void SentenceSplitter::feed_line_text(std::string_view text, std::vector<std::string>& out) {
    current_.append(text);
    scan(out, false);
}

void SentenceSplitter::end_line(std::vector<std::string>& out) {
    if (in_fence_) {
        // The fence closes on a line of at least as many of its characters (inside the
        // same block quote, if any).
        const size_t b = line_.find_first_not_of(" \t>");
        if (b != std::string::npos && line_.compare(b, fence_.size(), fence_) == 0 &&
            line_.find_first_not_of(std::string(1, fence_[0]) + " \t\r", b) == std::string::npos) {
            in_fence_ = false;
        }
    } else if (!line_open_) {
        const LineStart start = classify_line(line_, true);
        switch (start.kind) {
            case LineKind::Fence: {
                size_t run = 0;
                while (start.text_at + run < line_.size() && line_[start.text_at + run] == line_[start.text_at]) ++run;
                fence_ = line_.substr(start.text_at, run);
                in_fence_ = true;
                break;
            }
            case LineKind::Table: current_ += table_row_text(line_); break;
            case LineKind::Text: current_.append(line_, start.text_at); break;
            case LineKind::Rule:
            case LineKind::Undecided: break;
        }
    }
    line_.clear();
    line_open_ = false;
    end_sentence(out);  // a line end ends the sentence
}

void SentenceSplitter::end_sentence(std::vector<std::string>& out) {
    scan(out, true);
    emit(current_, out);
    current_.clear();
    scanned_ = 0;
}

void SentenceSplitter::scan(std::vector<std::string>& out, bool at_end) {
    const bool md = options_.markdown;
    auto cut = [&](size_t at, size_t skip) {
        emit(std::string_view(current_).substr(0, at), out);
        current_.erase(0, at + skip);
    };
    size_t pos = scanned_;
    while (pos < current_.size()) {
        const size_t start = pos;
        const char32_t cp = utf8_decode(current_, pos);
        if (pos > options_.max_bytes) {
            // Too long without an end: cut at the last space before this character.
            const size_t space = current_.find_last_of(" \t\n", start);
            const size_t at = space != std::string::npos && space > 0 ? space : start;
            cut(at, 0);
            pos = 0;
            continue;
        }
        if (cp == U'\n') {  // plain text only: a blank line ends a paragraph
            size_t j = pos;
            while (j < current_.size() && (current_[j] == ' ' || current_[j] == '\t' || current_[j] == '\r')) ++j;
            if (j == current_.size() && !at_end) {
                scanned_ = start;
                return;
            }
            if (j < current_.size() && current_[j] == '\n') {
                cut(start, j + 1 - start);
                pos = 0;
            }
            continue;
        }
        if (is_terminal(cp)) {
            // Repeated terminators ("?!", "...") and closing quotes belong to the sentence.
            size_t j = pos;
            char32_t next = 0;
            bool more = false;
            bool too_long = false;  // "......" without end: cut at the limit
            while (j < current_.size()) {
                size_t k = j;
                next = utf8_decode(current_, k);
                if (!is_terminal(next) && !is_closing(next, md)) {
                    more = true;
                    break;
                }
                if (k > options_.max_bytes) {
                    too_long = true;
                    break;
                }
                j = k;
            }
            if (too_long) {
                cut(j, 0);
                pos = 0;
                continue;
            }
            if (!more && !at_end) {
                scanned_ = start;  // whether it ends depends on what comes next
                return;
            }
            const bool ends = !more || is_space(next) || needs_no_space(cp);
            const bool not_an_end = (cp == U'.' && j == pos && ends_abbreviation(current_, start)) ||
                                    (md && more && inside_inline_span(std::string_view(current_).substr(0, start)));
            if (ends && !not_an_end) {
                cut(j, 0);
                pos = 0;
                continue;
            }
            pos = j;
            continue;
        }
        if (options_.clause_bytes > 0 && start >= options_.clause_bytes &&
            !(md && inside_inline_span(std::string_view(current_).substr(0, start)))) {
            if (is_cjk_clause_mark(cp)) {
                cut(pos, 0);
                pos = 0;
                continue;
            }
            if (is_clause_mark(cp)) {
                if (pos == current_.size() && !at_end) {
                    scanned_ = start;
                    return;
                }
                if (pos == current_.size() || current_[pos] == ' ' || current_[pos] == '\n') {
                    cut(pos, 0);
                    pos = 0;
                    continue;
                }
            }
        }
    }
    scanned_ = pos;
}

void SentenceSplitter::emit(std::string_view raw, std::vector<std::string>& out) {
    std::string text = options_.markdown ? strip_inline_markdown(raw) : collapse_spaces(raw);
    if (has_words(text)) out.push_back(std::move(text));
}

std::vector<std::string> split_sentences(std::string_view text, SentenceSplitOptions options) {
    SentenceSplitter splitter(options);
    auto out = splitter.push(text);
    for (auto& s : splitter.finish()) out.push_back(std::move(s));
    return out;
}

}  // namespace hearth::tts
