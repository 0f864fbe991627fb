// The generation step both `hearth run` and the server's engine use: stop strings held
// back and cut, end-of-generation tokens, max_tokens, the context's end, UTF-8 pieces.
#include <gtest/gtest.h>

#include "llm/token_stream.h"
#include "support/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace hearth::llm {
namespace {

const char* kModel = "data/llm/derived/stories260K-converted.gguf";

TEST(StopMatcher, HoldsBackPossibleStopPrefixes) {
    StopMatcher m({"</s>", "\nUser:"});
    EXPECT_EQ(m.push("Hello <"), "Hello ");
    EXPECT_EQ(m.push("/"), "");
    EXPECT_EQ(m.push("x"), "</x");
    EXPECT_EQ(m.push(" world\nUs"), " world");
    EXPECT_EQ(m.push("er: hi"), "");
    EXPECT_TRUE(m.stopped());
    EXPECT_EQ(m.flush(), "");
    StopMatcher n({"END"});
    EXPECT_EQ(n.push("abcE"), "abc");
    EXPECT_EQ(n.flush(), "E");
    EXPECT_FALSE(n.stopped());
}

class TokenStreamTest : public ::testing::Test {
protected:
    void SetUp() override {
        HEARTH_REQUIRE_SHARED(kModel);
        auto t = tokenizer::Tokenizer::from_gguf_file(test::shared_path(kModel));
        ASSERT_TRUE(t.ok()) << t.error().message;
        tok_.emplace(std::move(*t));
    }
    // Pushes the tokens of `text` (room for all); the text out and the step that finished.
    std::pair<std::string, std::optional<FinishReason>> run(TokenStream& s, const std::string& text) {
        std::string out;
        for (int32_t id : tok_->encode(text, false, false)) {
            auto step = s.push(id, true);
            out += step.text;
            if (step.finish) return {out, step.finish};
        }
        return {out, std::nullopt};
    }
    std::optional<tokenizer::Tokenizer> tok_;
};

TEST_F(TokenStreamTest, StopStringsAcrossTokensCutTheText) {
    TokenStream s(*tok_, {.max_tokens = -1, .stop = {"pon a"}});
    auto [text, finish] = run(s, "Once upon a time");
    EXPECT_EQ(text, " Once u") << "(SentencePiece's leading space: the stream is mid-text)";
    EXPECT_EQ(finish, FinishReason::Stop);
}

TEST_F(TokenStreamTest, EndOfGenerationReleasesHeldTextAndIsNotOutput) {
    TokenStream s(*tok_, {.max_tokens = -1, .stop = {"times"}});
    auto [text, finish] = run(s, "Once upon a tim");
    EXPECT_FALSE(finish);
    EXPECT_EQ(text, " Once upon a ") << "'tim' may start 'times'";
    const auto step = s.push(tok_->eos(), true);
    EXPECT_FALSE(step.kept);
    EXPECT_EQ(step.text, "tim");
    EXPECT_EQ(step.finish, FinishReason::Stop);
    EXPECT_EQ(s.n_tokens(), static_cast<int>(tok_->encode("Once upon a tim", false, false).size()));
}

TEST_F(TokenStreamTest, MaxTokensTheContextEndAndAGrammarEndIt) {
    TokenStream two(*tok_, {.max_tokens = 2});
    const auto ids = tok_->encode("Once upon a time", false, false);
    ASSERT_GE(ids.size(), 3u);
    EXPECT_FALSE(two.push(ids[0], true).finish);
    EXPECT_EQ(two.push(ids[1], true).finish, FinishReason::Length);
    EXPECT_TRUE(two.exhausted());

    TokenStream full(*tok_, {.max_tokens = -1});
    EXPECT_EQ(full.push(ids[0], false).finish, FinishReason::Length) << "no room to evaluate it";
    TokenStream grammar(*tok_, {.max_tokens = -1});
    EXPECT_EQ(grammar.push(ids[0], true, /*complete=*/true).finish, FinishReason::Stop);

    TokenStream none(*tok_, {.max_tokens = 0});
    EXPECT_TRUE(none.exhausted());
    FinishReason reason = FinishReason::Length;
    EXPECT_EQ(none.finish(reason), "");
    EXPECT_EQ(reason, FinishReason::Length);
}

TEST_F(TokenStreamTest, MultiByteCharactersComeOutWhole) {
    TokenStream s(*tok_, {.max_tokens = -1});
    const auto ids = tok_->encode("café", false, false);
    std::string out;
    for (int32_t id : ids) {
        const auto step = s.push(id, true);
        // Never half a character: every piece is valid UTF-8 on its own.
        for (size_t i = 0; i < step.text.size(); ++i) {
            if ((static_cast<unsigned char>(step.text[i]) & 0xC0) == 0xC0) {
                EXPECT_LT(i + 1, step.text.size()) << "a lead byte ends the piece";
            }
        }
        out += step.text;
    }
    FinishReason reason = FinishReason::Length;
    out += s.finish(reason);
    EXPECT_EQ(out, " café");
}

}  // namespace
}  // namespace hearth::llm
