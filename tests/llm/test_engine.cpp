// Engine invariants on synthetic models of every architecture and weight type:
// batched prefill equals token-by-token evaluation, sequences in one batch are
// independent, and malformed models are clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "gguf/gguf_writer.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_kernels.h"
#include "llm/context.h"
#include "llm/model.h"
#include "llm/synthetic_model.h"
#include "support/shared_data.h"
#include "synthetic_models.h"
#include "tensor/quant.h"

namespace hearth::llm {
namespace {

using gguf::GgmlType;

TEST(Engine, BatchedPrefillEqualsSequentialForEveryArchAndType) {
    int checked = 0;
    for (const char* arch : {"llama", "mistral", "qwen2", "qwen3"}) {
        for (GgmlType type : tensor::compute_types()) {
            auto model = synthetic(arch, type);
            ASSERT_TRUE(model);
            ContextOptions o;
            o.n_ctx = 64;
            o.kv_type = kernels::KvType::F32;
            auto batched = InferenceContext::create(model, o);
            auto single = InferenceContext::create(model, o);
            ASSERT_TRUE(batched.ok() && single.ok());
            const std::vector<int32_t> prompt = {1, 77, 200, 13, 5, 250, 99, 42, 3};
            Batch b;
            for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, true);
            ASSERT_TRUE((*batched)->decode(b).ok());
            for (size_t i = 0; i < prompt.size(); ++i) {
                Batch one;
                one.add(prompt[i], static_cast<int32_t>(i), 0, true);
                ASSERT_TRUE((*single)->decode(one).ok());
                const double d = rel_diff((*batched)->logits(i), (*single)->logits(0));
                // Batched matmuls take other kernel paths (AVX-512 row panels vs the decode
                // kernel) that sum in another order; for the integer formats the 8-bit
                // activation quantization can turn those 1e-7 differences into rounding
                // steps, which this tiny random model amplifies to about 1e-2. Mixing up
                // positions or sequences gives differences of order 1.
                EXPECT_LT(d, batch_tolerance(type)) << arch << " " << gguf::type_name(type) << " position " << i;
            }
            // Logits are informative: not constant, finite.
            auto l = (*batched)->logits(prompt.size() - 1);
            const auto [mn, mx] = std::minmax_element(l.begin(), l.end());
            EXPECT_GT(*mx - *mn, 0.1f) << arch << " " << gguf::type_name(type);
            EXPECT_TRUE(std::isfinite(*mx) && std::isfinite(*mn));
            ++checked;
        }
    }
    std::printf("checked batched vs sequential logits for %d models\n", checked);
}

// Multiplied matrices are copied out of the file mapping at load (Model::pack_weights);
// LoadOptions::mmap (hearth --mmap) reads them in place. Same bytes, same kernels: the same logits
// bit for bit, and the token embedding tied to the output keeps reading the output's copy.
TEST(Engine, CopiedWeightsGiveTheSameLogitsAsTheMapping) {
    auto copied = synthetic("llama", GgmlType::Q8_0);
    auto mapped = synthetic("llama", GgmlType::Q8_0, 256, {.mmap = true});
    ASSERT_TRUE(copied && mapped);
    const auto in_file = [](const Model& m, const std::string& name) -> const uint8_t* {
        const gguf::TensorInfo* t = m.file().find_tensor(name);
        return t != nullptr ? m.file().tensor_data(*t).data() : nullptr;
    };
    const auto cpu = [](const kernels::Weights* w) -> const kernels::WeightMatrix& { return kernels::cpu_weights(*w).matrix; };
    const kernels::WeightMatrix& copied_up = cpu(copied->layers()[0].ffn_up);
    EXPECT_EQ(cpu(mapped->layers()[0].ffn_up).data, in_file(*mapped, "blk.0.ffn_up.weight"));
    EXPECT_NE(copied_up.data, in_file(*copied, "blk.0.ffn_up.weight"));
    EXPECT_EQ(std::memcmp(copied_up.data, in_file(*copied, "blk.0.ffn_up.weight"), copied_up.rows * copied_up.row_bytes), 0);
    const char* output_name = copied->file().find_tensor("output.weight") ? "output.weight" : "token_embd.weight";
    EXPECT_NE(cpu(&copied->output()).data, in_file(*copied, output_name));
    EXPECT_EQ(cpu(&mapped->output()).data, in_file(*mapped, output_name));
    ContextOptions o;
    o.n_ctx = 64;
    auto a = InferenceContext::create(copied, o);
    auto b = InferenceContext::create(mapped, o);
    ASSERT_TRUE(a.ok() && b.ok());
    Batch batch;
    const std::vector<int32_t> prompt = {1, 77, 200, 13, 5};
    for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], static_cast<int32_t>(i), 0, true);
    ASSERT_TRUE((*a)->decode(batch).ok());
    ASSERT_TRUE((*b)->decode(batch).ok());
    for (size_t i = 0; i < prompt.size(); ++i) {
        const auto la = (*a)->logits(i), lb = (*b)->logits(i);
        ASSERT_EQ(la.size(), lb.size());
        EXPECT_EQ(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)), 0) << "position " << i;
    }
}

// Q4_K matrices are re-laid out in panels at load where the CPU kernels take them
// (kernels::pack_for_matmul); HEARTH_WEIGHT_PANELS=0 keeps the file's layout. Both
// must give the same logits up to the order of float sums.
TEST(Engine, PackedQ4KWeightsGiveTheSameLogits) {
    for (const char* arch : {"llama", "qwen3"}) {
        auto packed = synthetic(arch, GgmlType::Q4_K);
        setenv("HEARTH_WEIGHT_PANELS", "0", 1);
        auto plain = synthetic(arch, GgmlType::Q4_K);
        unsetenv("HEARTH_WEIGHT_PANELS");
        ASSERT_TRUE(packed && plain);
        const auto panels = [](const kernels::Weights* w) { return kernels::cpu_weights(*w).matrix.panels; };
        EXPECT_EQ(panels(plain->layers()[0].ffn_up), nullptr);
        if (kernels::cpu_kernels().gemm_q4_k_panels == nullptr) {
            EXPECT_EQ(panels(packed->layers()[0].ffn_up), nullptr);
            GTEST_SKIP() << "the preferred CPU kernels take Q4_K as stored";
        }
        EXPECT_NE(panels(packed->layers()[0].ffn_up), nullptr) << arch;
        EXPECT_NE(panels(packed->layers()[1].attn_k), nullptr) << arch;
        ContextOptions o;
        o.n_ctx = 64;
        o.kv_type = kernels::KvType::F32;
        auto a = InferenceContext::create(packed, o);
        auto b = InferenceContext::create(plain, o);
        ASSERT_TRUE(a.ok() && b.ok());
        const std::vector<int32_t> prompt = {1, 77, 200, 13, 5, 250, 99, 42, 3, 8, 17, 60, 61, 62, 63, 64, 65, 66, 67};
        Batch batch;
        for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], static_cast<int32_t>(i), 0, true);
        ASSERT_TRUE((*a)->decode(batch).ok());
        ASSERT_TRUE((*b)->decode(batch).ok());
        for (size_t i = 0; i < prompt.size(); ++i) {
            EXPECT_LT(rel_diff((*a)->logits(i), (*b)->logits(i)), batch_tolerance(GgmlType::Q4_K)) << arch << " position " << i;
        }
        // One token (the decode kernel) after the prompt.
        Batch next;
        next.add(7, static_cast<int32_t>(prompt.size()), 0, true);
        ASSERT_TRUE((*a)->decode(next).ok());
        ASSERT_TRUE((*b)->decode(next).ok());
        EXPECT_LT(rel_diff((*a)->logits(0), (*b)->logits(0)), batch_tolerance(GgmlType::Q4_K)) << arch;
    }
}

TEST(Engine, SequencesInOneBatchAreIndependent) {
    auto model = synthetic("qwen3", GgmlType::Q8_0);
    ContextOptions o;
    o.n_ctx = 32;
    o.n_seq = 3;
    auto ctx = InferenceContext::create(model, o);
    ASSERT_TRUE(ctx.ok());
    const std::vector<std::vector<int32_t>> prompts = {{5, 6, 7, 8}, {100, 3}, {9, 9, 9, 9, 9, 9}};
    Batch b;
    for (int s = 0; s < 3; ++s) {
        for (size_t i = 0; i < prompts[static_cast<size_t>(s)].size(); ++i)
            b.add(prompts[static_cast<size_t>(s)][i], static_cast<int32_t>(i), s, i + 1 == prompts[static_cast<size_t>(s)].size());
    }
    ASSERT_TRUE((*ctx)->decode(b).ok());
    for (int s = 0; s < 3; ++s) {
        ContextOptions single_o;
        single_o.n_ctx = 32;
        auto single = InferenceContext::create(model, single_o);
        Batch one;
        const auto& p = prompts[static_cast<size_t>(s)];
        for (size_t i = 0; i < p.size(); ++i) one.add(p[i], static_cast<int32_t>(i), 0, i + 1 == p.size());
        ASSERT_TRUE((*single)->decode(one).ok());
        EXPECT_LT(rel_diff((*ctx)->logits(static_cast<size_t>(s)), (*single)->logits(0)), batch_tolerance(GgmlType::Q8_0))
            << "sequence " << s;
    }
}

TEST(Engine, LongPromptsAreSplitIntoBatches) {
    auto model = synthetic("llama", GgmlType::F16);
    ContextOptions small, big;
    small.n_ctx = big.n_ctx = 64;
    small.n_batch = 7;
    small.kv_type = big.kv_type = kernels::KvType::F32;
    auto a = InferenceContext::create(model, small), c = InferenceContext::create(model, big);
    Batch b;
    for (int i = 0; i < 40; ++i) b.add((i * 37) % 259, i, 0, i % 10 == 9);
    ASSERT_TRUE((*a)->decode(b).ok());
    ASSERT_TRUE((*c)->decode(b).ok());
    ASSERT_EQ((*a)->n_outputs(), 4u);
    for (size_t i = 0; i < 4; ++i) EXPECT_LT(rel_diff((*a)->logits(i), (*c)->logits(i)), 1e-4);
}

// A KV cache beyond the machine's memory is an error from create(), not an abort or
// the OOM killer later (1<<24 positions x 64 sequences is hundreds of GiB here).
TEST(Engine, ContextsBeyondMemoryAreClearErrors) {
    auto model = synthetic("llama", GgmlType::F16);
    ContextOptions o;
    o.n_ctx = 1 << 24;
    o.n_seq = 64;
    auto c = InferenceContext::create(model, o);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("the KV cache for 16777216 positions x 64 sequences needs"), std::string::npos)
        << c.error().message;
}

TEST(Engine, RopeFreqFactorsChangeTheResult) {
    SyntheticModelOptions o;
    o.n_embd = 256;
    o.n_ff = 512;
    o.rope_theta = 500000;
    auto plain = build_synthetic_model(o);
    o.llama3_rope_original_context = 32;
    auto scaled = build_synthetic_model(o);
    ASSERT_TRUE(plain.ok() && scaled.ok());
    std::vector<std::vector<float>> last;
    for (auto* w : {&*plain, &*scaled}) {
        auto bytes = w->to_bytes().value();
        auto model = Model::from_file(std::move(gguf::GgufFile::parse(bytes)).value());
        ASSERT_TRUE(model.ok()) << model.error().message;
        EXPECT_EQ((*model)->rope_freqs() != nullptr, w == &*scaled);
        ContextOptions co;
        co.n_ctx = 64;
        auto ctx = InferenceContext::create(*model, co);
        Batch b;
        for (int i = 0; i < 40; ++i) b.add((i * 13) % 259, i, 0, i == 39);
        ASSERT_TRUE((*ctx)->decode(b).ok());
        auto l = (*ctx)->logits(0);
        last.emplace_back(l.begin(), l.end());
    }
    EXPECT_GT(rel_diff(last[1], last[0]), 0.05);  // the divisors are applied
    const auto f = llama3_rope_freq_factors(64, 500000, 8, 1, 4, 8192);
    ASSERT_EQ(f.size(), 32u);
    EXPECT_EQ(f.front(), 1.0f);  // highest frequency untouched
    EXPECT_EQ(f.back(), 8.0f);   // lowest frequency stretched by the factor
}

TEST(Engine, UnsupportedModelsAreClearErrors) {
    SyntheticModelOptions o;
    auto w = build_synthetic_model(o);
    ASSERT_TRUE(w.ok());
    w->set("general.architecture", gguf::Value::str("gpt-neox"));
    auto bytes = w->to_bytes().value();
    auto file = gguf::GgufFile::parse(bytes);
    ASSERT_TRUE(file.ok());
    auto m = Model::from_file(std::move(file).value());
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().message.find("'gpt-neox' is not supported"), std::string::npos) << m.error().message;

    gguf::GgufWriter missing;  // llama metadata, no tensors
    auto full = build_synthetic_model(o);
    for (const auto& [k, v] : full->metadata().entries()) missing.set(k, v);
    auto bytes2 = missing.to_bytes().value();
    auto m2 = Model::from_file(std::move(gguf::GgufFile::parse(bytes2)).value());
    ASSERT_FALSE(m2.ok());
    EXPECT_NE(m2.error().message.find("tensor 'token_embd.weight' is missing"), std::string::npos) << m2.error().message;
}

}  // namespace
}  // namespace hearth::llm
