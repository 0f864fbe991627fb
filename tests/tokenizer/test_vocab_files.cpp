// Conformance: every ggml-vocab-*.gguf with .inp/.out files encodes each test string to
// exactly the expected ids (encoded without BOS/EOS, special-token parsing off, as the
// reference ids were produced) and, where the tokenizer is lossless, decodes back.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "support/shared_data.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_test_data.h"

using hearth::tokenizer::Tokenizer;
using hearth::tokenizer::TokenId;
using hearth::tokenizer::VocabType;

namespace {

std::string show(const std::vector<TokenId>& ids) {
    std::string s;
    for (TokenId id : ids) {
        s += ' ';
        s += std::to_string(id);
    }
    return s;
}

// Checks every case; returns the number checked.
size_t check_cases(const Tokenizer& tok, const std::vector<hearth::test::VocabCase>& cases, const std::string& name,
                   bool check_decode) {
    size_t checked = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        const auto ids = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
        EXPECT_EQ(ids, c.ids) << name << " case " << i << " text [" << c.text << "]\n got:     " << show(ids)
                              << "\n expected:" << show(c.ids);
        if (check_decode) {
            EXPECT_EQ(tok.decode(ids), c.text) << name << " case " << i << " does not decode back";
        }
        ++checked;
    }
    return checked;
}

size_t g_total = 0;

const std::string kVocabs[] = {"bert-bge", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2",
                               "llama-spm", "mpt", "phi-3", "refact", "starcoder"};

class VocabFiles : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabFiles, EncodesExpectedIds) {
    const std::string name = GetParam();
    const std::string base = "data/vocab/ggml-vocab-" + name + ".gguf";
    HEARTH_REQUIRE_SHARED(base);
    HEARTH_REQUIRE_SHARED(base + ".inp");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path(base));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    std::vector<hearth::test::VocabCase> cases;
    ASSERT_TRUE(hearth::test::read_vocab_cases(hearth::test::shared_path(base + ".inp"),
                                               hearth::test::shared_path(base + ".out"), cases));
    ASSERT_FALSE(cases.empty());
    // WordPiece lowercases and strips accents, so it cannot round-trip.
    const bool lossless = tok->type() != VocabType::Wpm;
    const size_t n = check_cases(*tok, cases, name, lossless);
    g_total += n;
    std::cout << "[vocab] " << name << ": " << n << " cases checked (total so far " << g_total << ")\n";
}

INSTANTIATE_TEST_SUITE_P(Ggml, VocabFiles,
                         ::testing::ValuesIn(kVocabs),
                         [](const auto& info) {
                             std::string s = info.param;
                             for (char& c : s)
                                 if (c == '-') c = '_';
                             return s;
                         });

// All vocabularies in one test, printing the grand total (each ctest case runs alone).
TEST(VocabFilesSummary, AllCasesOfAllVocabs) {
    HEARTH_REQUIRE_SHARED("data/vocab");
    size_t total = 0, vocabs = 0;
    for (const std::string& name : kVocabs) {
        const std::string base = hearth::test::shared_path(std::string("data/vocab/ggml-vocab-") + name + ".gguf");
        if (!std::filesystem::exists(base)) continue;
        auto tok = Tokenizer::from_gguf_file(base);
        ASSERT_TRUE(tok.ok()) << tok.error().message;
        std::vector<hearth::test::VocabCase> cases;
        ASSERT_TRUE(hearth::test::read_vocab_cases(base + ".inp", base + ".out", cases));
        const size_t n = check_cases(*tok, cases, name, tok->type() != VocabType::Wpm);
        std::cout << "[vocab] " << name << ": " << n << " cases\n";
        total += n;
        ++vocabs;
    }
    std::cout << "[vocab] total: " << total << " cases over " << vocabs << " GGUF vocabularies\n";
    EXPECT_EQ(vocabs, std::size(kVocabs));
}

}  // namespace
