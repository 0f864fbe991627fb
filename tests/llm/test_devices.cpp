// Whole models on every GPU device against the CPU: the same logits within a tolerance
// at every position, the same greedy tokens, and sequences batched together equal to
// each run alone. Skipped with the reason where no GPU device exists (CI has Mesa's
// lavapipe, so it runs them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "llm/context.h"
#include "support/compute_devices.h"
#include "synthetic_models.h"
#include "tensor/quant.h"

namespace hearth::llm {
namespace {

std::vector<std::shared_ptr<kernels::Device>> gpu_devices() {
    std::vector<std::shared_ptr<kernels::Device>> gpus;
    for (const std::string& spec : test::compute_devices()) {
        if (spec == "cpu") continue;
        auto d = kernels::open_device(spec);
        EXPECT_TRUE(d.ok()) << spec << ": " << d.error().message;
        if (d.ok()) gpus.push_back(*d);
    }
    return gpus;
}

int32_t argmax(std::span<const float> l) { return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin()); }

// The GPU multiplies float activations where the CPU quantizes them to 8 bits for the
// integer formats: ~1% of a logit on these tiny random models, as between the CPU's own
// batch paths.
double device_tolerance(GgmlType type) { return 2 * batch_tolerance(type); }

TEST(DeviceEngine, LogitsAndGreedyTokensMatchTheCpuForEveryArchAndType) {
    const auto gpus = gpu_devices();
    if (gpus.empty()) GTEST_SKIP() << "no GPU device: " << kernels::vulkan_unavailable_reason();
    for (const auto& gpu : gpus) {
        int checked = 0, steps = 0, near_ties = 0;
        for (const char* arch : {"llama", "mistral", "qwen2", "qwen3"}) {
            for (GgmlType type : tensor::compute_types()) {
                auto on_cpu = synthetic(arch, type);
                auto on_gpu = synthetic(arch, type, 256, {.device = gpu});
                ASSERT_TRUE(on_cpu && on_gpu);
                ContextOptions o;
                o.n_ctx = 64;
                auto c = InferenceContext::create(on_cpu, o);
                auto g = InferenceContext::create(on_gpu, o);
                ASSERT_TRUE(c.ok() && g.ok()) << (g.ok() ? "" : g.error().message);
                const std::vector<int32_t> prompt = {1, 77, 200, 13, 5, 250, 99, 42, 3};
                Batch b;
                for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, true);
                ASSERT_TRUE((*c)->decode(b).ok());
                auto gd = (*g)->decode(b);
                ASSERT_TRUE(gd.ok()) << gd.error().message;
                const std::string what = gpu->info().name + " " + arch + " " + std::string(gguf::type_name(type));
                for (size_t i = 0; i < prompt.size(); ++i)
                    ASSERT_LT(rel_diff((*g)->logits(i), (*c)->logits(i)), device_tolerance(type)) << what << " position " << i;
                // Greedy decoding in lockstep (both fed the CPU's choice) for 32 tokens: the
                // same choice at every step, except where the CPU's own top two are a near
                // tie (random weights make many) that rounding decides: the CPU's 8-bit
                // activations, the order of float sums, f16 rounding of the cache.
                auto near_tie = [&](std::span<const float> l, int32_t a, int32_t b) {
                    const auto [mn, mx] = std::minmax_element(l.begin(), l.end());
                    return std::fabs(l[static_cast<size_t>(a)] - l[static_cast<size_t>(b)]) < 0.02 * (*mx - *mn);
                };
                int32_t next = argmax((*c)->logits(prompt.size() - 1));
                int32_t gpu_next = argmax((*g)->logits(prompt.size() - 1));
                for (int step = 0; step < 32; ++step) {
                    if (gpu_next != next) {
                        ASSERT_TRUE(near_tie(step == 0 ? (*c)->logits(prompt.size() - 1) : (*c)->logits(0), next, gpu_next))
                            << what << " step " << step << ": " << next << " vs " << gpu_next;
                        ++near_ties;
                    }
                    Batch one;
                    one.add(next, static_cast<int32_t>(prompt.size()) + step, 0, true);
                    ASSERT_TRUE((*c)->decode(one).ok());
                    ASSERT_TRUE((*g)->decode(one).ok());
                    ASSERT_LT(rel_diff((*g)->logits(0), (*c)->logits(0)), device_tolerance(type)) << what << " step " << step;
                    next = argmax((*c)->logits(0));
                    gpu_next = argmax((*g)->logits(0));
                    ++steps;
                }
                ++checked;
            }
        }
        std::printf("%s: %d models, %d greedy steps, %d near ties chosen otherwise than on the CPU\n",
                    gpu->info().describe().c_str(), checked, steps, near_ties);
        EXPECT_LT(near_ties, steps / 50);
    }
}

TEST(DeviceEngine, SequencesInOneBatchEqualEachAlone) {
    const auto gpus = gpu_devices();
    if (gpus.empty()) GTEST_SKIP() << "no GPU device: " << kernels::vulkan_unavailable_reason();
    for (const auto& gpu : gpus) {
        auto model = synthetic("qwen3", GgmlType::Q4_K, 256, {.device = gpu});
        ASSERT_TRUE(model);
        ContextOptions o;
        o.n_ctx = 32;
        o.n_seq = 3;
        auto ctx = InferenceContext::create(model, o);
        ASSERT_TRUE(ctx.ok()) << ctx.error().message;
        const std::vector<std::vector<int32_t>> prompts = {{5, 6, 7, 8}, {100, 3}, {9, 9, 9, 9, 9, 9}};
        Batch b;
        for (int s = 0; s < 3; ++s) {
            const auto& p = prompts[static_cast<size_t>(s)];
            for (size_t i = 0; i < p.size(); ++i) b.add(p[i], static_cast<int32_t>(i), s, i + 1 == p.size());
        }
        ASSERT_TRUE((*ctx)->decode(b).ok());
        // Then one decode token of each sequence in one batch, as the server runs them.
        Batch step;
        for (int s = 0; s < 3; ++s) step.add(42 + s, static_cast<int32_t>(prompts[static_cast<size_t>(s)].size()), s, true);
        std::vector<std::vector<float>> prefill_logits;
        for (int s = 0; s < 3; ++s) {
            const auto l = (*ctx)->logits(static_cast<size_t>(s));
            prefill_logits.emplace_back(l.begin(), l.end());
        }
        ASSERT_TRUE((*ctx)->decode(step).ok());
        for (int s = 0; s < 3; ++s) {
            o.n_seq = 1;
            auto single = InferenceContext::create(model, o);
            ASSERT_TRUE(single.ok());
            const auto& p = prompts[static_cast<size_t>(s)];
            Batch one;
            for (size_t i = 0; i < p.size(); ++i) one.add(p[i], static_cast<int32_t>(i), 0, i + 1 == p.size());
            ASSERT_TRUE((*single)->decode(one).ok());
            EXPECT_LT(rel_diff(prefill_logits[static_cast<size_t>(s)], (*single)->logits(0)), 1e-4) << "sequence " << s;
            Batch next;
            next.add(42 + s, static_cast<int32_t>(p.size()), 0, true);
            ASSERT_TRUE((*single)->decode(next).ok());
            EXPECT_LT(rel_diff((*ctx)->logits(static_cast<size_t>(s)), (*single)->logits(0)), 1e-4) << "sequence " << s;
        }
    }
}

}  // namespace
}  // namespace hearth::llm
