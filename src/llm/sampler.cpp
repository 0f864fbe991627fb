#include "llm/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace hearth::llm {
namespace {

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Sampler::Sampler(SamplingParams params) : params_(std::move(params)) {
    uint64_t s = params_.seed;
    for (uint64_t& x : state_) x = splitmix64(s);
}

double Sampler::next_uniform() {
    // xoshiro256**
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return static_cast<double>(result >> 11) * 0x1.0p-53;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
    const auto n = static_cast<int32_t>(logits.size());
    work_.assign(logits.begin(), logits.end());
    for (const auto& [id, bias] : params_.logit_bias) {
        if (id >= 0 && id < n) work_[static_cast<size_t>(id)] += bias;
    }

    const SamplingParams& p = params_;
    const bool penalize = p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
    if (penalize && !history.empty()) {
        const size_t window = p.repeat_last_n < 0 ? history.size()
                                                  : std::min(history.size(), static_cast<size_t>(p.repeat_last_n));
        std::unordered_map<int32_t, int> counts;
        for (size_t i = history.size() - window; i < history.size(); ++i) ++counts[history[i]];
        for (const auto& [id, count] : counts) {
            if (id < 0 || id >= n) continue;
            float& l = work_[static_cast<size_t>(id)];
            if (p.repeat_penalty != 1.0f) l = l > 0 ? l / p.repeat_penalty : l * p.repeat_penalty;
            l -= static_cast<float>(count) * p.frequency_penalty + p.presence_penalty;
        }
    }

    if (p.temperature <= 0.0f) {
        return static_cast<int32_t>(std::max_element(work_.begin(), work_.end()) - work_.begin());
    }

    candidates_.clear();
    candidates_.reserve(work_.size());
    for (int32_t i = 0; i < n; ++i) {
        if (work_[static_cast<size_t>(i)] != -std::numeric_limits<float>::infinity())
            candidates_.emplace_back(work_[static_cast<size_t>(i)], i);
    }
    if (candidates_.empty()) return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    size_t keep = candidates_.size();
    if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) {
        keep = static_cast<size_t>(p.top_k);
        std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep), candidates_.end(), by_logit);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    candidates_.resize(keep);

    // Probabilities at temperature 1 decide top-p and min-p, as llama.cpp's default chain does.
    auto softmax = [&](float temp, std::vector<double>& probs) {
        probs.resize(candidates_.size());
        const double max_l = candidates_.front().first;
        double sum = 0;
        for (size_t i = 0; i < candidates_.size(); ++i) {
            probs[i] = std::exp((candidates_[i].first - max_l) / temp);
            sum += probs[i];
        }
        for (double& q : probs) q /= sum;
    };
    std::vector<double> probs;
    softmax(1.0f, probs);
    if (p.top_p < 1.0f) {
        double cum = 0;
        size_t cut = probs.size();
        for (size_t i = 0; i < probs.size(); ++i) {
            cum += probs[i];
            if (cum >= p.top_p) {
                cut = i + 1;
                break;
            }
        }
        candidates_.resize(cut);
        probs.resize(cut);
    }
    if (p.min_p > 0.0f) {
        const double threshold = probs.front() * p.min_p;
        size_t cut = 1;
        while (cut < probs.size() && probs[cut] >= threshold) ++cut;
        candidates_.resize(cut);
    }
    softmax(p.temperature, probs);
    const double r = next_uniform();
    double cum = 0;
    for (size_t i = 0; i < probs.size(); ++i) {
        cum += probs[i];
        if (r < cum) return candidates_[i].second;
    }
    return candidates_.back().second;
}

}  // namespace hearth::llm
