// Text cut into the pieces a voice speaks one at a time: sentences, as a person reading
// the text aloud would pause. Works on streamed text (a chat reply as it is generated),
// so that speech can start after the first sentence.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hearth::tts {

struct SentenceSplitOptions {
    // Chat replies: Markdown markup is not read out (headings, emphasis, list markers,
    // link targets, table rules), fenced code blocks and <think>…</think> reasoning are
    // skipped entirely, table rows are read cell by cell, and every newline ends a
    // sentence. Off (plain text): only blank lines end a paragraph.
    bool markdown = false;
    // The reply starts inside a reasoning block (the prompt ended with "<think>").
    bool starts_in_think = false;
    // A sentence longer than this (bytes) also ends at its next comma, semicolon or
    // colon, so long clauses do not delay the audio; 0: never.
    size_t clause_bytes = 0;
    // No piece longer than this: cut at the last space before it (or hard).
    size_t max_bytes = 1000;
};

// A sentence ends after . ! ? … (and their CJK / Devanagari / Arabic forms, possibly
// followed by closing quotes or brackets) when whitespace or the end follows; not after
// common abbreviations ("e.g.", "Dr.", "vs.") or single-letter initials, and not inside
// numbers ("3.50"). Sentences come out trimmed with inner whitespace collapsed; empty
// ones are dropped.
class SentenceSplitter {
public:
    explicit SentenceSplitter(SentenceSplitOptions options = {});

    // Adds text (any split of UTF-8, even mid-character); returns the sentences it
    // completed, in order.
    std::vector<std::string> push(std::string_view text);
    // The end of the text: whatever sentence is left.
    std::vector<std::string> finish();

private:
    void feed_markdown(std::vector<std::string>& out, bool at_end);
    void feed_line_text(std::string_view text, std::vector<std::string>& out);
    void end_line(std::vector<std::string>& out);
    // Whatever is collected is a sentence now (the text or its line ended).
    void end_sentence(std::vector<std::string>& out);
    void scan(std::vector<std::string>& out, bool at_end);
    void emit(std::string_view raw, std::vector<std::string>& out);

    SentenceSplitOptions options_;
    std::string incomplete_;  // a UTF-8 sequence cut by the last push
    // Markdown: text not yet past the <think> filter, the current line not yet
    // classified (its start decides fence / table / heading / list), and the state.
    std::string unfiltered_;
    std::string line_;
    bool line_open_ = false;  // line_ start classified: its text goes straight to current_
    bool in_think_ = false;
    bool replied_ = false;    // the reply's own text began: "<think>" is no longer a tag
    bool in_fence_ = false;
    std::string fence_;       // the opening fence ("```", "~~~~"): closes on the same kind
    // The sentence being collected (raw, markup still in) and how far it was scanned.
    std::string current_;
    size_t scanned_ = 0;
};

// All sentences of a complete text (plain mode unless `options` say otherwise).
std::vector<std::string> split_sentences(std::string_view text, SentenceSplitOptions options = {});

// Inline Markdown removed from one line of text: emphasis markers, backticks, link and
// image targets ([text](url) -> text), HTML tags; whitespace collapsed and trimmed.
std::string strip_inline_markdown(std::string_view text);

}  // namespace hearth::tts
