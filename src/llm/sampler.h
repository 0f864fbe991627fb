#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace hearth::llm {

struct SamplingParams {
    float temperature = 0.8f;  // <= 0: greedy (argmax)
    int top_k = 40;            // <= 0: off
    float top_p = 0.95f;       // >= 1: off
    float min_p = 0.05f;       // <= 0: off
    float repeat_penalty = 1.0f;  // 1: off; divides positive logits, multiplies negative ones
    int repeat_last_n = 64;       // window of recent tokens the penalties look at (-1: all)
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logit; -inf bans a token
    uint64_t seed = 0xc0ffee;
};

// Picks the next token from logits. Order: logit bias, repetition/presence/frequency
// penalties over the recent history, then greedy, or top-k, top-p, min-p (top-p and
// min-p on the probabilities at temperature 1), temperature and a draw from the seeded
// generator. The same seed and inputs give the same token.
class Sampler {
public:
    explicit Sampler(SamplingParams params);

    int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
    const SamplingParams& params() const { return params_; }

    // Uniform double in [0, 1) from the sampler's own generator (platform independent).
    double next_uniform();

private:
    static bool by_logit(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b);
    void apply_bias_and_penalties(std::span<const int32_t> history);
    void gather(float threshold);
    int32_t draw_all(float best);
    double weigh(float temperature, float best);
    void keep_top_mass(double need);

    SamplingParams params_;
    uint64_t state_[4];
    std::vector<std::pair<float, int32_t>> candidates_;  // (logit, token) still in the draw
    std::vector<float> weights_;                         // candidates_' weights
    std::vector<double> block_sums_;
    std::vector<uint16_t> bucket_;                       // keep_top_mass: each candidate's bucket                     // draw_all: weight per block of tokens
    std::vector<float> work_;      // the logits with bias and penalties, where there are any
    std::span<const float> view_;  // what this sample() draws from: the logits or work_
};

}  // namespace hearth::llm
