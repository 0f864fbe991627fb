// How text is cut into spoken sentences: plain text (the speech route, the built-in
// voice) and chat replies (Markdown, code, reasoning), whole or streamed in any pieces.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tts/sentence_splitter.h"

namespace hearth::tts {
namespace {

using Sentences = std::vector<std::string>;

const SentenceSplitOptions kChat{.markdown = true};

// The same text pushed in pieces of `step` bytes (cutting UTF-8 characters and markup).
Sentences streamed(const std::string& text, size_t step, SentenceSplitOptions options) {
    SentenceSplitter splitter(options);
    Sentences out;
    for (size_t at = 0; at < text.size(); at += step) {
        for (auto& s : splitter.push(std::string_view(text).substr(at, step))) out.push_back(s);
    }
    for (auto& s : splitter.finish()) out.push_back(s);
    return out;
}

TEST(SentenceSplitter, PlainTextSplitsAtSentenceEnds) {
    EXPECT_EQ(split_sentences("Hello there. It costs 3.50 dollars! Really?  Yes"),
              (Sentences{"Hello there.", "It costs 3.50 dollars!", "Really?", "Yes"}));
    EXPECT_EQ(split_sentences("He said \"stop.\" Then left.\n\nNew paragraph"),
              (Sentences{"He said \"stop.\"", "Then left.", "New paragraph"}));
    // A single newline is a wrapped line in plain text, not a sentence end.
    EXPECT_EQ(split_sentences("one line\nwrapped here. Next"), (Sentences{"one line wrapped here.", "Next"}));
}

TEST(SentenceSplitter, AbbreviationsInitialsAndDecimalsDoNotEndSentences) {
    EXPECT_EQ(split_sentences("Ask Dr. Smith, e.g. on Monday. Then vs. Tuesday at 3.14 p.m. today."),
              (Sentences{"Ask Dr. Smith, e.g. on Monday.", "Then vs. Tuesday at 3.14 p.m. today."}));
    EXPECT_EQ(split_sentences("J. R. R. Tolkien wrote it. It is long."),
              (Sentences{"J. R. R. Tolkien wrote it.", "It is long."}));
    EXPECT_EQ(split_sentences("Wait... what?! Fine."), (Sentences{"Wait...", "what?!", "Fine."}));
}

TEST(SentenceSplitter, CjkAndOtherScripts) {
    EXPECT_EQ(split_sentences("彩虹。又稱天弓！真的嗎？"), (Sentences{"彩虹。", "又稱天弓！", "真的嗎？"}));
    EXPECT_EQ(split_sentences("यह पहला है। यह दूसरा है।"), (Sentences{"यह पहला है।", "यह दूसरा है।"}));
}

TEST(SentenceSplitter, LongTextIsCutAtSpacesUnderTheLimit) {
    EXPECT_TRUE(split_sentences("  \n ").empty());
    const auto pieces = split_sentences(std::string(3000, 'a') + " b", {.max_bytes = 1000});
    ASSERT_GE(pieces.size(), 3u);
    for (const auto& p : pieces) EXPECT_LE(p.size(), 1000u);
    std::string words;
    for (int i = 0; i < 100; ++i) words += "word ";
    for (const auto& p : split_sentences(words, {.max_bytes = 64})) {
        EXPECT_LE(p.size(), 64u);
        EXPECT_EQ(p.find("wor "), std::string::npos) << "cut inside a word: " << p;
    }
}

TEST(SentenceSplitter, LongClausesEndAtCommasPastTheLength) {
    const std::string text = "This sentence goes on for quite a while, and then a little more, and more, until it ends.";
    EXPECT_EQ(split_sentences(text).size(), 1u);
    EXPECT_EQ(split_sentences(text, {.clause_bytes = 30}),
              (Sentences{"This sentence goes on for quite a while,", "and then a little more, and more,",
                         "until it ends."}));
    // "1,000" has no space after its comma.
    EXPECT_EQ(split_sentences("We counted more than 1,000,000 grains of sand on the beach.", {.clause_bytes = 10}).size(), 1u);
}

TEST(SentenceSplitter, ChatRepliesDropMarkdownMarkup) {
    const std::string reply =
        "# Getting started\n"
        "Use **bold** and _emphasis_ or `inline_code` here. See [the docs](https://example.com/a. b) now!\n"
        "- first item\n"
        "* second item\n"
        "1. numbered\n"
        "> quoted text\n"
        "---\n"
        "![a diagram](x.png)\n"
        "snake_case stays, ~~struck~~ goes. <br>Done.";
    EXPECT_EQ(split_sentences(reply, kChat),
              (Sentences{"Getting started", "Use bold and emphasis or inline_code here.", "See the docs now!",
                         "first item", "second item", "numbered", "quoted text", "a diagram",
                         "snake_case stays, struck goes.", "Done."}));
}

TEST(SentenceSplitter, ChatRepliesSkipCodeBlocksAndReasoning) {
    const std::string reply =
        "<think>The user wants code. Let me write it.</think>Here is the code:\n"
        "```python\n"
        "print('hello. world')\n"
        "x = 1\n"
        "```\n"
        "It prints a greeting.\n"
        "~~~\nmore code\n~~~\n"
        "| Name | Age |\n"
        "|------|----:|\n"
        "| Ann  | 31  |\n"
        "Bye.";
    EXPECT_EQ(split_sentences(reply, kChat),
              (Sentences{"Here is the code:", "It prints a greeting.", "Name, Age", "Ann, 31", "Bye."}));
    // A prompt that opened the reasoning block: the reply starts inside it.
    EXPECT_EQ(split_sentences("Thinking hard.\n</think>\n\nThe answer is 4.", {.markdown = true, .starts_in_think = true}),
              (Sentences{"The answer is 4."}));
}

TEST(SentenceSplitter, NoMarkupSwallowsTheRestOfAReply) {
    // A fence inside a block quote closes inside it.
    EXPECT_EQ(split_sentences("> ```\n> code\n> ```\nAfter the quote.\n", kChat), (Sentences{"After the quote."}));
    // Backticks on both sides of a word are inline code, not a fence.
    EXPECT_EQ(split_sentences("```js``` is inline. More.\nAnd this.\n", kChat),
              (Sentences{"js is inline.", "More.", "And this."}));
    // "<think>" is reasoning only where the reply opens with it.
    EXPECT_EQ(split_sentences("The model writes `<think>` first.\nThen answers.", kChat),
              (Sentences{"The model writes <think> first.", "Then answers."}));
    EXPECT_EQ(split_sentences("\n <think>plan</think>\nAnswer.", kChat), (Sentences{"Answer."}));
    EXPECT_EQ(split_sentences("<thi", kChat), (Sentences{"<thi"}));
    // An unclosed bracket or backtick holds a sentence back only for a short span.
    std::string stray = "Intro [";
    for (int i = 0; i < 20; ++i) stray += "Sentence " + std::to_string(i) + " is here. ";
    const auto pieces = split_sentences(stray, kChat);
    ASSERT_GE(pieces.size(), 10u);
    for (const auto& p : pieces) EXPECT_LT(p.size(), 300u) << p;
}

TEST(SentenceSplitter, DegenerateRunsAreCutAtTheLimit) {
    const std::string dots = "Well" + std::string(5000, '.');
    for (const auto& p : streamed(dots, 16, {.markdown = true, .max_bytes = 1000})) EXPECT_LE(p.size(), 1000u);
}

TEST(SentenceSplitter, LongClausesAreNotCutInsideLinksOrCode) {
    const std::string text = "Here is a sentence long enough to pass the clause limit set below, with "
                             "[docs, guides, and references](https://example.com/path?a=1,b=2) that you need.";
    for (const auto& p : split_sentences(text, {.markdown = true, .clause_bytes = 40})) {
        EXPECT_EQ(p.find("https"), std::string::npos) << p;
        EXPECT_EQ(p.find('['), std::string::npos) << p;
    }
}

TEST(SentenceSplitter, StreamedPiecesGiveTheSameSentences) {
    const std::string reply =
        "<think>hidden</think>**Hello** there, Dr. Who. Café au lait costs 3.50€! 彩虹。又稱天弓！\n"
        "```\ncode. here\n```\n"
        "- a [link](http://x.y/z) item.\n"
        "| a | b |\n"
        "Last one";
    const Sentences whole = split_sentences(reply, kChat);
    EXPECT_EQ(whole, (Sentences{"Hello there, Dr. Who.", "Café au lait costs 3.50€!", "彩虹。", "又稱天弓！",
                                "a link item.", "a, b", "Last one"}));
    for (size_t step : {1, 2, 3, 5, 7, 13}) EXPECT_EQ(streamed(reply, step, kChat), whole) << "step " << step;
    const std::string plain = "One. Two? Three!\n\nFour 3.5 five. Six";
    for (size_t step : {1, 2, 4}) EXPECT_EQ(streamed(plain, step, {}), split_sentences(plain)) << "step " << step;
}

TEST(SentenceSplitter, SentencesComeOutAsSoonAsTheyEnd) {
    SentenceSplitter splitter(kChat);
    EXPECT_TRUE(splitter.push("Hello there.").empty()) << "the next character decides";
    EXPECT_EQ(splitter.push(" How"), (Sentences{"Hello there."}));
    EXPECT_TRUE(splitter.push(" are you").empty());
    EXPECT_EQ(splitter.push("?\nFine"), (Sentences{"How are you?"}));
    EXPECT_EQ(splitter.finish(), (Sentences{"Fine"}));
}

TEST(SentenceSplitter, InlineMarkdown) {
    EXPECT_EQ(strip_inline_markdown("a **b** *c* __d__ `e` [f](g) ![h](i) <sup>j</sup> \\*k\\*"), "a b c d e f h j *k*");
    EXPECT_EQ(strip_inline_markdown("  spaced \t out  "), "spaced out");
    EXPECT_EQ(strip_inline_markdown("[unclosed link"), "[unclosed link");
    EXPECT_EQ(strip_inline_markdown("If a<b and b>c then 2 * 3 <!-- hidden --> is <br/>six."), "If a<b and b>c then 2 * 3 is six.");
}

}  // namespace
}  // namespace hearth::tts
