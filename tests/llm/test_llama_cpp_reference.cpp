// Differential test against llama.cpp (node-llama-cpp's build, see tests/reference): the
// same synthetic GGUF, the same token ids, greedy decoding and raw logits compared.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "llm/context.h"
#include "llm/model.h"
#include "llm/synthetic_model.h"
#include "support/llama_reference.h"
#include "support/shared_data.h"
#include "tensor/quant.h"

namespace hearth::llm {
namespace {

using gguf::GgmlType;

struct Case {
    std::string arch;
    GgmlType type;
    bool llama3_rope = false;  // Llama 3.1 RoPE scaling through rope_freqs.weight
};

std::string case_name(const Case& c) {
    return c.arch + (c.llama3_rope ? "3_rope_freqs" : "") + "_" + std::string(gguf::type_name(c.type));
}

void PrintTo(const Case& c, std::ostream* os) { *os << case_name(c); }

int32_t argmax(std::span<const float> v) {
    return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Gap between the best and second-best logit.
float top2_gap(const std::vector<float>& v) {
    float a = -INFINITY, b = -INFINITY;
    for (float x : v) {
        if (x > a) {
            b = a;
            a = x;
        } else if (x > b) {
            b = x;
        }
    }
    return a - b;
}

class LlamaCppReference : public ::testing::TestWithParam<Case> {};

TEST_P(LlamaCppReference, GreedyTokensAndLogitsAgree) {
    const Case& c = GetParam();
    const bool spm = c.arch == "llama" || c.arch == "mistral";
    const std::string vocab = spm ? "data/vocab/ggml-vocab-llama-spm.gguf" : "data/vocab/ggml-vocab-gpt-2.gguf";
    HEARTH_REQUIRE_SHARED(vocab);
    SyntheticModelOptions o;
    o.arch = c.arch;
    o.n_embd = 256;
    o.n_ff = 512;
    o.n_layer = 2;
    o.n_head = 4;
    o.n_head_kv = 2;
    o.weight_type = c.type;
    o.vocab_gguf = test::shared_path(vocab);
    o.seed = 17;
    if (c.llama3_rope) {
        o.rope_theta = 500000;
        o.llama3_rope_original_context = 32;  // scaled frequencies matter within the 40 positions
    }
    const auto path = (test::scratch_dir("llama_ref_" + case_name(c)) / "model.gguf").string();
    ASSERT_TRUE(write_synthetic_model(o, path).ok());

    const std::vector<int32_t> prompt = {1, 450, 4996, 17354, 1701, 432, 29871, 100};
    constexpr int kSteps = 32;
    std::string why;
    test::LlamaReferenceOptions ro;
    ro.logits_steps = kSteps;
    auto ref = test::run_llama_reference(path, prompt, kSteps, 2, &why, false, ro);
    if (!ref && test::llama_reference_failed(why)) FAIL() << why;
    if (!ref) GTEST_SKIP() << why;
    ASSERT_EQ(ref->tokens.size(), static_cast<size_t>(kSteps));
    ASSERT_EQ(ref->logits.size(), static_cast<size_t>(kSteps));

    auto model = Model::load(path);
    ASSERT_TRUE(model.ok()) << model.error().message;
    ASSERT_EQ(ref->n_vocab, (*model)->hparams().n_vocab);
    ContextOptions co;
    co.n_ctx = 128;
    co.kv_type = kernels::KvType::F32;
    auto ctx = InferenceContext::create(*model, co);
    ASSERT_TRUE(ctx.ok());

    // Teacher forcing on llama.cpp's tokens: logits at every step must agree. Up to the first
    // step where the argmax differs, this is also free-running greedy decoding, so greedy
    // tokens must match too; a different pick is accepted only where llama.cpp's own top two
    // logits are closer than the two engines' measured disagreement at that step (a tie
    // within rounding, after which the sequences legitimately part).
    Batch b;
    for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
    ASSERT_TRUE((*ctx)->decode(b).ok());
    // f32/f16/bf16 weights: llama.cpp rounds activations to the weight type, we keep f32;
    // quantized weights: both quantize activations to 8 bits, with rounding differences.
    const double tolerance = 2e-2;
    double worst = 0;
    int matched = 0;
    bool diverged = false;
    for (int k = 0; k < kSteps; ++k) {
        const auto ours = (*ctx)->logits(0);
        const auto& theirs = ref->logits[static_cast<size_t>(k)];
        const double err = test::relative_l2(ours, theirs);
        worst = std::max(worst, err);
        EXPECT_LT(err, tolerance) << case_name(c) << " step " << k;
        const int32_t pick = argmax(ours), ref_pick = ref->tokens[static_cast<size_t>(k)];
        if (!diverged && pick != ref_pick) {
            double max_abs = 0;
            for (size_t i = 0; i < theirs.size(); ++i) max_abs = std::max(max_abs, std::fabs(static_cast<double>(ours[i]) - theirs[i]));
            const float gap = top2_gap(theirs);
            EXPECT_LT(gap, 2 * max_abs) << case_name(c) << ": step " << k << " picked " << pick << ", llama.cpp "
                                        << ref_pick << " (top-2 gap " << gap << ", max |logit diff| " << max_abs << ")";
            diverged = true;
        }
        if (!diverged) ++matched;
        b.clear();
        b.add(ref_pick, static_cast<int32_t>(prompt.size()) + k, 0, true);
        ASSERT_TRUE((*ctx)->decode(b).ok());
    }
    std::printf("%-14s greedy tokens matched %d/%d, worst logits rel. error %.2e\n", case_name(c).c_str(), matched,
                kSteps, worst);
}

std::vector<Case> all_cases() {
    std::vector<Case> cases;
    for (const char* arch : {"llama", "mistral", "qwen2", "qwen3"}) {
        for (GgmlType t : tensor::compute_types()) cases.push_back({arch, t});
    }
    cases.push_back({"llama", GgmlType::F32, true});  // f32: any RoPE difference would show
    return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryArchAndType, LlamaCppReference, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return case_name(info.param); });

}  // namespace
}  // namespace hearth::llm
