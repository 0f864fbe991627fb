#include <gtest/gtest.h>

#include <cmath>

#include "gguf/gguf_file.h"
#include "llm/model_spec.h"
#include "llm/synthetic_model.h"
#include "support/shared_data.h"
#include "tensor/quant.h"

namespace hearth::llm {
namespace {

using gguf::GgmlType;

Result<gguf::GgufFile> write_and_open(const SyntheticModelOptions& o, const std::string& name) {
    const auto path = (test::scratch_dir("synthetic_" + name) / (name + ".gguf")).string();
    if (auto ok = write_synthetic_model(o, path); !ok) return ok.error();
    return gguf::GgufFile::open(path);
}

TEST(SyntheticModel, EveryArchitectureAndWeightType) {
    int made = 0;
    for (const char* arch : {"llama", "mistral", "qwen2", "qwen3"}) {
        for (GgmlType type : tensor::compute_types()) {
            SyntheticModelOptions o;
            o.arch = arch;
            o.n_embd = 256;
            o.n_ff = 512;
            o.n_layer = 2;
            o.n_head = 4;
            o.n_head_kv = 2;
            o.weight_type = type;
            const std::string name = std::string(arch) + "_" + std::string(gguf::type_name(type));
            auto f = write_and_open(o, name);
            ASSERT_TRUE(f.ok()) << name << ": " << f.error().message;
            auto hp = read_hyper_params(*f);
            ASSERT_TRUE(hp.ok()) << hp.error().message;
            EXPECT_TRUE(hp->supported);
            EXPECT_EQ(hp->architecture, std::string(arch) == "mistral" ? "llama" : arch);
            EXPECT_EQ(hp->n_embd, 256);
            EXPECT_EQ(hp->n_layer, 2);
            EXPECT_EQ(hp->n_head, 4);
            EXPECT_EQ(hp->n_head_kv, 2);
            EXPECT_EQ(hp->head_dim, 64);
            EXPECT_EQ(hp->n_vocab, 259);
            EXPECT_FALSE(hp->tied_embeddings);
            EXPECT_EQ(f->find_tensor("blk.1.attn_q.weight")->type, type) << name;
            EXPECT_EQ(f->find_tensor("blk.1.ffn_down.weight")->shape, (std::vector<int64_t>{512, 256}));
            EXPECT_EQ(f->find_tensor("blk.0.attn_k.weight")->shape, (std::vector<int64_t>{256, 128}));
            EXPECT_EQ(f->find_tensor("blk.0.attn_norm.weight")->type, GgmlType::F32);
            EXPECT_EQ(f->find_tensor("blk.0.attn_q.bias") != nullptr, std::string(arch) == "qwen2");
            EXPECT_EQ(f->find_tensor("blk.0.attn_q_norm.weight") != nullptr, std::string(arch) == "qwen3");
            // 9 tensors per block (+3 biases for qwen2, +2 norms for qwen3), embedding, norm, output.
            const size_t per_block = 9 + (std::string(arch) == "qwen2" ? 3 : 0) + (std::string(arch) == "qwen3" ? 2 : 0);
            EXPECT_EQ(f->tensors().size(), 2 * per_block + 3);
            // Weights decode to the intended distribution: mean ~0, std ~1/sqrt(fan_in).
            const auto* q = f->find_tensor("blk.0.attn_q.weight");
            auto w = tensor::dequantize(q->type, f->tensor_data(*q), q->n_elements);
            ASSERT_TRUE(w.ok());
            double sum2 = 0;
            for (float x : *w) sum2 += x * static_cast<double>(x);
            EXPECT_NEAR(std::sqrt(sum2 / static_cast<double>(w->size())), 1.0 / 16.0, 0.01) << name;
            ++made;
        }
    }
    EXPECT_EQ(made, 32);
}

TEST(SyntheticModel, DeterministicBySeed) {
    SyntheticModelOptions o;
    auto a = build_synthetic_model(o), b = build_synthetic_model(o);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->to_bytes().value(), b->to_bytes().value());
    o.seed = 2;
    auto c = build_synthetic_model(o);
    EXPECT_NE(a->to_bytes().value(), c->to_bytes().value());
}

TEST(SyntheticModel, SmallRowsFallBackFromKQuants) {
    SyntheticModelOptions o;  // n_embd 64 cannot hold 256-wide k-quant blocks
    o.weight_type = GgmlType::Q4_K;
    auto f = write_and_open(o, "fallback");
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->type, GgmlType::Q8_0);
}

TEST(SyntheticModel, Q4_K_MMixGivesMoreBitsWhereLlamaCppDoes) {
    SyntheticModelOptions o;
    o.n_embd = 256;
    o.n_ff = 512;
    o.n_layer = 8;
    o.mix = "Q4_K_M";
    auto f = write_and_open(o, "q4_k_m");
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->metadata().get_int("general.file_type"), 15);
    EXPECT_EQ(f->find_tensor("output.weight")->type, GgmlType::Q6_K);
    EXPECT_EQ(f->find_tensor("token_embd.weight")->type, GgmlType::Q4_K);
    // 8 layers: layer 0 and 7 (first/last eighth) and layers 3, 6 ((l - 1) % 3 == 2) get Q6_K.
    for (int l = 0; l < 8; ++l) {
        const bool more = l == 0 || l == 7 || l == 3 || l == 6;
        EXPECT_EQ(f->find_tensor(block_tensor(l, "attn_v.weight"))->type, more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
        EXPECT_EQ(f->find_tensor(block_tensor(l, "ffn_down.weight"))->type, more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
        EXPECT_EQ(f->find_tensor(block_tensor(l, "attn_q.weight"))->type, GgmlType::Q4_K) << l;
    }
    o.mix = "Q3_K_L";
    EXPECT_FALSE(build_synthetic_model(o).ok());
}

TEST(SyntheticModel, TiedEmbeddingsAndCustomHeadDim) {
    SyntheticModelOptions o;
    o.arch = "qwen3";
    o.tied_embeddings = true;
    o.head_dim = 32;  // wider than n_embd / n_head, as Qwen3 does
    auto f = write_and_open(o, "tied");
    ASSERT_TRUE(f.ok()) << f.error().message;
    auto hp = read_hyper_params(*f);
    ASSERT_TRUE(hp.ok());
    EXPECT_TRUE(hp->tied_embeddings);
    EXPECT_EQ(hp->head_dim, 32);
    EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
    EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->shape, (std::vector<int64_t>{64, 128}));
}

TEST(SyntheticModel, RejectsBadOptions) {
    SyntheticModelOptions o;
    o.arch = "gpt5";
    EXPECT_FALSE(build_synthetic_model(o).ok());
    o = {};
    o.n_head_kv = 3;
    EXPECT_FALSE(build_synthetic_model(o).ok());
    o = {};
    o.weight_type = GgmlType::IQ2_XS;
    EXPECT_FALSE(build_synthetic_model(o).ok());
    o = {};
    o.vocab_gguf = "/nonexistent.gguf";
    EXPECT_FALSE(build_synthetic_model(o).ok());
}

TEST(SyntheticModel, CopiesTokenizerFromVocabFile) {
    HEARTH_REQUIRE_SHARED("data/vocab/ggml-vocab-llama-spm.gguf");
    SyntheticModelOptions o;
    o.arch = "mistral";
    o.vocab_gguf = test::shared_path("data/vocab/ggml-vocab-llama-spm.gguf");
    auto f = write_and_open(o, "spm_vocab");
    ASSERT_TRUE(f.ok()) << f.error().message;
    auto vocab = gguf::GgufFile::open(o.vocab_gguf);
    ASSERT_TRUE(vocab.ok());
    EXPECT_EQ(f->metadata().get_strings("tokenizer.ggml.tokens"), vocab->metadata().get_strings("tokenizer.ggml.tokens"));
    EXPECT_EQ(f->metadata().get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(f->find_tensor("token_embd.weight")->shape[1], 32000);
    EXPECT_EQ(read_hyper_params(*f)->n_vocab, 32000);
}

TEST(ModelSpec, Stories260KHyperParams) {
    HEARTH_REQUIRE_SHARED("data/llm/derived/stories260K-converted.gguf");
    auto f = gguf::GgufFile::open(test::shared_path("data/llm/derived/stories260K-converted.gguf"));
    ASSERT_TRUE(f.ok());
    auto hp = read_hyper_params(*f);
    ASSERT_TRUE(hp.ok());
    EXPECT_EQ(hp->n_embd, 64);
    EXPECT_EQ(hp->n_layer, 5);
    EXPECT_EQ(hp->n_head, 8);
    EXPECT_EQ(hp->n_head_kv, 4);
    EXPECT_EQ(hp->n_vocab, 512);
    EXPECT_EQ(hp->head_dim, 8);
    EXPECT_EQ(hp->n_ff, 172);
}

}  // namespace
}  // namespace hearth::llm
