// The real GGUF files in ../shared load and report what they are.
#include <gtest/gtest.h>

#include <filesystem>

#include "gguf/gguf_file.h"
#include "support/shared_data.h"

namespace hearth::gguf {
namespace {

TEST(SharedGguf, Stories260K) {
    HEARTH_REQUIRE_SHARED("data/llm/derived/stories260K-converted.gguf");
    auto f = GgufFile::open(test::shared_path("data/llm/derived/stories260K-converted.gguf"));
    ASSERT_TRUE(f.ok()) << f.error().message;
    const Metadata& md = f->metadata();
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->architecture(), "llama");
    EXPECT_EQ(md.get_int("llama.embedding_length"), 64);
    EXPECT_EQ(md.get_int("llama.block_count"), 5);
    EXPECT_EQ(md.get_int("llama.attention.head_count"), 8);
    EXPECT_EQ(md.get_int("llama.attention.head_count_kv"), 4);
    EXPECT_EQ(md.get_strings("tokenizer.ggml.tokens")->size(), 512u);
    ASSERT_EQ(f->tensors().size(), 48u);  // embedding, 5 x 9 block tensors, norm, output
    const TensorInfo* embd = f->find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(embd->shape, (std::vector<int64_t>{64, 512}));
    EXPECT_EQ(embd->type, GgmlType::F32);
    const TensorInfo* k = f->find_tensor("blk.4.attn_k.weight");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->shape, (std::vector<int64_t>{64, 32}));  // 4 kv heads x head dim 8
    EXPECT_EQ(f->find_tensor("blk.0.ffn_gate.weight")->shape, (std::vector<int64_t>{64, 172}));
    uint64_t params = 0;
    for (const auto& t : f->tensors()) params += static_cast<uint64_t>(t.n_elements);
    EXPECT_GT(params, 250000u);
    EXPECT_LT(params, 300000u);
}

TEST(SharedGguf, LlamaTinyRandomF16) {
    HEARTH_REQUIRE_SHARED("data/llm/llama-2-tiny-random.gguf");
    auto f = GgufFile::open(test::shared_path("data/llm/llama-2-tiny-random.gguf"));
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->architecture(), "llama");
    EXPECT_EQ(f->metadata().get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(f->metadata().get_strings("tokenizer.ggml.tokens")->size(), 32000u);
    int f16 = 0;
    for (const auto& t : f->tensors()) f16 += t.type == GgmlType::F16;
    EXPECT_GT(f16, 0);
    const TensorInfo* embd = f->find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(embd->shape[1], 32000);
}

TEST(SharedGguf, EveryVocabularyFileLoads) {
    HEARTH_REQUIRE_SHARED("data/vocab");
    int loaded = 0;
    for (const auto& entry : std::filesystem::directory_iterator(test::shared_path("data/vocab"))) {
        if (entry.path().extension() != ".gguf") continue;
        auto f = GgufFile::open(entry.path().string());
        ASSERT_TRUE(f.ok()) << f.error().message;
        const Metadata& md = f->metadata();
        EXPECT_FALSE(f->architecture().empty()) << entry.path();
        auto model = md.get_string("tokenizer.ggml.model");
        ASSERT_TRUE(model.has_value()) << entry.path();
        const auto tokens = md.get_strings("tokenizer.ggml.tokens");
        ASSERT_TRUE(tokens.has_value()) << entry.path();
        EXPECT_GT(tokens->size(), 1000u) << entry.path();
        if (const ArrayValue* types = md.get_array("tokenizer.ggml.token_type")) {
            EXPECT_EQ(types->items.size(), tokens->size()) << entry.path();
        }
        if (*model == "gpt2") {
            EXPECT_TRUE(md.get_strings("tokenizer.ggml.merges").has_value()) << entry.path();
        }
        ++loaded;
    }
    std::printf("loaded %d vocabulary GGUF files\n", loaded);
    EXPECT_GE(loaded, 12);
}

TEST(SharedGguf, GptNeoxVocabularyCounts) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-gpt-neox.gguf");
    auto f = GgufFile::open(test::shared_path("data/vocab/ggml-vocab-gpt-neox.gguf"));
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->metadata().get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(f->tensors().size(), 0u);
    EXPECT_EQ(f->metadata().get_strings("tokenizer.ggml.tokens")->size(), 50432u);
    EXPECT_EQ(f->metadata().get_strings("tokenizer.ggml.merges")->size(), 50009u);
}

}  // namespace
}  // namespace hearth::gguf
