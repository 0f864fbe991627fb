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

// A device that computes on the CPU but calls itself a GPU with `memory` bytes: the
// layer placement's decisions without a GPU.
class SmallGpu final : public kernels::Device {
public:
    explicit SmallGpu(uint64_t memory) : cpu_(kernels::cpu_device()) {
        info_ = cpu_->info();
        info_.kind = "test-gpu";
        info_.name = "small test GPU";
        info_.memory_bytes = memory;
    }
    const kernels::DeviceInfo& info() const override { return info_; }
    Result<std::unique_ptr<kernels::Weights>> prepare_matrix(const kernels::WeightView& w,
                                                             const kernels::PrepareOptions& o) override {
        return cpu_->prepare_matrix(w, o);
    }
    Result<std::unique_ptr<kernels::Weights>> prepare_vector(const float* v, int64_t n) override {
        return cpu_->prepare_vector(v, n);
    }
    Result<std::unique_ptr<kernels::Backend>> make_backend(int n_threads) override { return cpu_->make_backend(n_threads); }

private:
    std::shared_ptr<kernels::Device> cpu_;
    kernels::DeviceInfo info_;
};

std::vector<float> prompt_logits(const std::shared_ptr<const Model>& model, const std::vector<int32_t>& prompt) {
    ContextOptions o;
    o.n_ctx = 32;
    o.kv_type = kernels::KvType::F32;
    auto ctx = InferenceContext::create(model, o);
    EXPECT_TRUE(ctx.ok()) << ctx.error().message;
    Batch b;
    for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, true);
    EXPECT_TRUE((*ctx)->decode(b).ok());
    Batch next;  // and one decode step after the prompt
    next.add(7, static_cast<int32_t>(prompt.size()), 0, true);
    EXPECT_TRUE((*ctx)->decode(next).ok());
    std::vector<float> all;
    for (size_t i = 0; i < prompt.size(); ++i) {
        const auto l = (*ctx)->logits(i);
        all.insert(all.end(), l.begin(), l.end());
    }
    return all;
}

// --gpu-layers: the first N layers on the GPU and the rest on the CPU give the logits of
// the whole model on either, and `auto` puts as many layers as fit in 90% of the memory.
TEST(DeviceEngine, LayersSplitBetweenGpuAndCpu) {
    const std::vector<int32_t> prompt = {1, 77, 200, 13, 5};
    for (const char* arch : {"llama", "qwen3"}) {  // untied and tied embeddings
        auto cpu = synthetic(arch, GgmlType::Q8_0);
        const std::vector<float> want = prompt_logits(cpu, prompt);
        std::vector<std::shared_ptr<kernels::Device>> gpus = gpu_devices();
        gpus.push_back(std::make_shared<SmallGpu>(uint64_t{1} << 30));
        for (const auto& gpu : gpus) {
            for (const int layers : {0, 1, 2, -1}) {
                auto split = synthetic(arch, GgmlType::Q8_0, 256, {.device = gpu, .gpu_layers = layers});
                ASSERT_TRUE(split);
                const bool both = layers == 1;
                EXPECT_EQ(split->devices().size(), both ? 2u : 1u) << split->placement();
                EXPECT_EQ(split->device()->info().kind, layers == 0 ? "cpu" : gpu->info().kind) << split->placement();
                EXPECT_LT(rel_diff(prompt_logits(split, prompt), want), device_tolerance(GgmlType::Q8_0))
                    << arch << " " << gpu->info().name << " " << split->placement();
            }
        }
    }
    // A device that holds the embeddings, one of two layers and its share of a 16-position
    // f16 cache (2 x 2 kv heads x 64 x 2 bytes x 16): auto stops there.
    auto probe = synthetic("llama", GgmlType::Q8_0);
    uint64_t outside = 0, layer0 = 0;
    for (const gguf::TensorInfo& t : probe->file().tensors()) {
        if (t.name.rfind("blk.0.", 0) == 0) layer0 += t.n_bytes;
        else if (t.name.rfind("blk.", 0) != 0) outside += t.n_bytes;
    }
    const uint64_t kv_layer = 2 * 2 * 64 * 2 * 16;
    const auto small = std::make_shared<SmallGpu>(static_cast<uint64_t>((outside + layer0 + kv_layer) / 0.9) + 4096);
    auto fitted = synthetic("llama", GgmlType::Q8_0, 256, {.device = small, .kv_ctx = 16});
    ASSERT_TRUE(fitted);
    EXPECT_EQ(fitted->placement(), "layers 0-0 on small test GPU, 1-1 and the output on " + kernels::cpu_device()->info().name);
    // A longer cache leaves no room for the layer: all on the CPU.
    fitted = synthetic("llama", GgmlType::Q8_0, 256, {.device = small, .kv_ctx = 4096});
    ASSERT_TRUE(fitted);
    EXPECT_EQ(fitted->placement().rfind("all 2 layers on " + kernels::cpu_device()->info().name + " (not one layer fits", 0), 0u)
        << fitted->placement();
    // Asking for more than fits is an error naming both sizes, before anything is placed.
    SyntheticModelOptions o;
    o.n_embd = 256, o.n_ff = 512, o.n_layer = 2, o.n_head = 4, o.n_head_kv = 2, o.weight_type = GgmlType::Q8_0;
    auto bytes = build_synthetic_model(o)->to_bytes().value();
    auto file = gguf::GgufFile::parse(bytes);
    ASSERT_TRUE(file.ok());
    auto too_many = Model::from_file(std::move(file).value(), {.device = small, .gpu_layers = 2});
    ASSERT_FALSE(too_many.ok());
    EXPECT_NE(too_many.error().message.find("2 layers need"), std::string::npos) << too_many.error().message;
    EXPECT_NE(too_many.error().message.find("small test GPU has"), std::string::npos) << too_many.error().message;
}

}  // namespace
}  // namespace hearth::llm
