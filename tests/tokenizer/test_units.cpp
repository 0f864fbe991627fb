// Unit tests that need no shared data: UTF-8 helpers, the byte-level alphabet,
// pre-tokenizer regex splits, BPE merging order and special-token splitting on small
// vocabularies built in code.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace tk = hearth::tokenizer;
using tk::TokenId;
using tk::TokenType;

namespace {

std::vector<std::string> split(const char* pre, const std::string& text) {
    auto p = tk::PreTokenizer::for_pre(pre);
    EXPECT_TRUE(p.ok());
    std::vector<std::string> out;
    for (auto piece : p->split(text)) out.emplace_back(piece);
    return out;
}

using Pieces = std::vector<std::string>;

TEST(ByteLevel, AlphabetRoundTripsEveryByte) {
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    std::string encoded;
    tk::byte_level_encode(all, encoded);
    EXPECT_EQ(tk::byte_level_decode(encoded), all);
    EXPECT_EQ(tk::byte_to_unicode_utf8(' '), "\xc4\xa0");   // Ġ
    EXPECT_EQ(tk::byte_to_unicode_utf8('\n'), "\xc4\x8a");  // Ċ
    EXPECT_EQ(tk::byte_to_unicode_utf8('A'), "A");
}

TEST(PreTokenizer, Gpt2Regex) {
    EXPECT_EQ(split("gpt-2", "Hello world's  test 123!!"),
              (Pieces{"Hello", " world", "'s", " ", " test", " 123", "!!"}));
    EXPECT_EQ(split("gpt-2", "   Hello"), (Pieces{"  ", " Hello"}));
}

TEST(PreTokenizer, Llama3RegexSplitsDigitsInThrees) {
    EXPECT_EQ(split("llama-bpe", "abc 1234567 x\n\n y"),
              (Pieces{"abc", " ", "123", "456", "7", " x", "\n\n", " y"}));
    EXPECT_EQ(split("llama-bpe", "I'M here"), (Pieces{"I", "'M", " here"}));
}

TEST(PreTokenizer, Qwen2RegexSplitsSingleDigits) {
    EXPECT_EQ(split("qwen2", "x 123"), (Pieces{"x", " ", "1", "2", "3"}));
}

TEST(PreTokenizer, UnicodeCategoriesAreReal) {
    // \p{L} covers Cyrillic and CJK; \p{N} covers non-ASCII digits (Arabic-Indic).
    EXPECT_EQ(split("gpt-2", "\xd0\xbf\xd1\x80\xd0\xb8 \xd9\xa3\xd9\xa4"),
              (Pieces{"\xd0\xbf\xd1\x80\xd0\xb8", " \xd9\xa3\xd9\xa4"}));
}

TEST(PreTokenizer, InvalidUtf8IsKept) {
    const std::string text = "ab\xff\xfe cd";
    std::string joined;
    for (const auto& p : split("llama-bpe", text)) joined += p;
    EXPECT_EQ(joined, text);
}

TEST(PreTokenizer, EveryKnownTypeCompilesAndKeepsAllText) {
    const std::string text = "Hello, y'all! 123456 \xe6\x88\x91\xe6\x83\xb3 \xd0\xbf\xd1\x80\xd0\xb8\n\n\t x\xff  ";
    const auto names = tk::PreTokenizer::known_names();
    EXPECT_GE(names.size(), 40u);
    for (const auto& name : names) {
        auto p = tk::PreTokenizer::for_pre(name);
        ASSERT_TRUE(p.ok()) << name << ": " << p.error().message;
        std::string joined;
        for (auto piece : p->split(text)) {
            EXPECT_FALSE(piece.empty()) << name;
            joined += piece;
        }
        EXPECT_EQ(joined, text) << name;
    }
}

TEST(PreTokenizer, HfSplitSequencesMapToNames) {
    // deepseek-coder's Split list as tokenizer.json writes it (literal CR/LF in the first).
    EXPECT_EQ(tk::pre_name_for_hf_regexes({"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+", R"(\p{N})"}),
              "deepseek-coder");
    EXPECT_EQ(tk::pre_name_for_hf_regexes(
                  {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}),
              "llama-bpe");
    EXPECT_EQ(tk::pre_name_for_hf_regexes({"a", "b"}), "");
}

TEST(PreTokenizer, UnknownNameIsAnError) {
    auto p = tk::PreTokenizer::for_pre("nope");
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("nope"), std::string::npos);
    EXPECT_EQ(tk::pre_name_for_hf_regex("x+"), "");
}

// A tiny byte-level BPE vocabulary: all 256 byte symbols, a few merges, two added tokens.
tk::Tokenizer tiny_bpe() {
    tk::Vocab v;
    v.type = tk::VocabType::Bpe;
    v.model = "gpt2";
    v.pre = "gpt-2";
    for (int b = 0; b < 256; ++b) {
        v.tokens.push_back(tk::byte_to_unicode_utf8(static_cast<uint8_t>(b)));
        v.types.push_back(TokenType::Normal);
    }
    for (const char* m : {"l o", "lo w", "e r", "low er", "\xc4\xa0 low"}) {
        v.merges.push_back(m);
        std::string s = m;
        s.erase(s.find(' '), 1);
        v.tokens.push_back(s);
        v.types.push_back(TokenType::Normal);
    }
    v.tokens.push_back("<|im_end|>");
    v.types.push_back(TokenType::Control);
    v.tokens.push_back("<tool>");
    v.types.push_back(TokenType::UserDefined);
    v.eos = 256 + 5;
    auto t = tk::Tokenizer::from_vocab(std::move(v));
    EXPECT_TRUE(t.ok());
    return std::move(*t);
}

TEST(Bpe, MergesByRank) {
    auto tok = tiny_bpe();
    const TokenId low = 257, lower = 259, space_low = 260;
    EXPECT_EQ(tok.encode("lower", false, false), (std::vector<TokenId>{lower}));
    EXPECT_EQ(tok.encode("low low", false, false), (std::vector<TokenId>{low, space_low}));
    EXPECT_EQ(tok.decode(tok.encode("lower low!", false, false)), "lower low!");
}

TEST(Bpe, SpecialAndAddedTokens) {
    auto tok = tiny_bpe();
    const TokenId im_end = 261, tool = 262;
    const auto parsed = tok.encode("a<|im_end|>", false, true);
    EXPECT_EQ(parsed, (std::vector<TokenId>{'a', im_end}));
    const auto plain = tok.encode("a<|im_end|>", false, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), im_end), 0);
    EXPECT_EQ(tok.decode(plain), "a<|im_end|>");
    // User-defined tokens are matched either way.
    EXPECT_EQ(tok.encode("<tool>", false, false), (std::vector<TokenId>{tool}));
    EXPECT_TRUE(tok.is_eog(im_end));
    EXPECT_TRUE(tok.is_control(im_end));
    EXPECT_EQ(tok.token_to_piece(im_end), "");
    EXPECT_EQ(tok.token_to_piece(im_end, true), "<|im_end|>");
    EXPECT_EQ(tok.token_to_piece(-5), "");
    EXPECT_EQ(tok.token_to_piece(1 << 30), "");
}

TEST(Bpe, ArbitraryBytesRoundTrip) {
    auto tok = tiny_bpe();
    std::string bytes;
    for (int i = 0; i < 512; ++i) bytes += static_cast<char>((i * 37) & 0xFF);
    EXPECT_EQ(tok.decode(tok.encode(bytes, false, false)), bytes);
}

TEST(Vocab, WriteAndReadMetadata) {
    auto tok = tiny_bpe();
    hearth::gguf::GgufWriter w;
    tok.write_gguf_metadata(w);
    auto again = tk::Tokenizer::from_gguf(w.metadata());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->n_vocab(), tok.n_vocab());
    EXPECT_EQ(again->vocab().merges, tok.vocab().merges);
    EXPECT_EQ(again->eos(), tok.eos());
    EXPECT_EQ(again->encode("lower<tool><|im_end|>", true, true), tok.encode("lower<tool><|im_end|>", true, true));
}

TEST(Vocab, MismatchedArraysAreErrors) {
    hearth::gguf::Metadata md;
    md.set("tokenizer.ggml.model", hearth::gguf::Value::str("llama"));
    md.set("tokenizer.ggml.tokens", hearth::gguf::Value::strings({"a", "b"}));
    md.set("tokenizer.ggml.scores", hearth::gguf::Value::floats({0.0f}));
    auto t = tk::Tokenizer::from_gguf(md);
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().message.find("scores"), std::string::npos);

    hearth::gguf::Metadata no_merges;
    no_merges.set("tokenizer.ggml.model", hearth::gguf::Value::str("gpt2"));
    no_merges.set("tokenizer.ggml.tokens", hearth::gguf::Value::strings({"a"}));
    EXPECT_FALSE(tk::Tokenizer::from_gguf(no_merges).ok());
}

}  // namespace
