#include "llm/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

namespace {

// The passes over the whole vocabulary run on 4-float vectors (GCC/Clang vector
// extensions: SSE2 on any x86-64, NEON on ARM, no per-ISA build), four of them side by
// side: a scalar loop chains one dependent compare or add per token, ~1.5 ns each on
// the 2-core host.
using F4 = float __attribute__((vector_size(16)));
using I4 = int32_t __attribute__((vector_size(16)));
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

[[gnu::always_inline]] inline F4 load4(const float* p) {
    F4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

[[gnu::always_inline]] inline F4 splat(float x) { return F4{x, x, x, x}; }

[[gnu::always_inline]] inline bool any(I4 mask) { return (mask[0] | mask[1] | mask[2] | mask[3]) != 0; }

// e^x for x <= 0 to float precision (relative error ~2e-7): exp(x) = 2^n · 2^f with n
// the nearest integer to x·log2(e) (the 1.5·2^23 trick, no floor call) and f in
// [-0.5, 0.5] on a degree-6 polynomial.
[[gnu::always_inline]] inline F4 exp_nonpositive(F4 x) {
    x = x < -87.0f ? splat(-87.0f) : x;
    const F4 t = x * 1.44269504f;
    const F4 whole = (t + 12582912.0f) - 12582912.0f;
    const F4 f = t - whole;
    F4 p = splat(1.5403530e-4f);
    p = p * f + 1.3333558e-3f;
    p = p * f + 9.6181291e-3f;
    p = p * f + 5.5504109e-2f;
    p = p * f + 2.4022651e-1f;
    p = p * f + 6.9314718e-1f;
    p = p * f + 1.0f;
    const I4 bits = (__builtin_convertvector(whole, I4) + 127) << 23;
    return p * (F4)bits;  // a vector cast reinterprets the bits
}

// out[i] = exp(x[i] * scale) for x[i] * scale <= 0 (x and out may be the same).
void exp_scaled(const float* x, float scale, float* out, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const F4 e = exp_nonpositive(load4(x + i) * scale);
        std::memcpy(out + i, &e, sizeof e);
    }
    if (i < n) {
        float tail[4];
        for (size_t j = 0; j < 4; ++j) tail[j] = i + j < n ? x[i + j] * scale : -100.0f;
        const F4 e = exp_nonpositive(load4(tail));
        for (size_t j = 0; i + j < n; ++j) out[i + j] = e[j];
    }
}

// The largest value and the first index holding it, in one pass: each lane keeps its
// own best and where it was.
std::pair<float, size_t> arg_max(std::span<const float> v) {
    F4 best[4];
    I4 where[4], index[4];
    for (int k = 0; k < 4; ++k) {
        best[k] = splat(kNegInf);
        where[k] = I4{} - 1;
        index[k] = I4{0, 1, 2, 3} + 4 * k;
    }
    const size_t n = v.size(), whole = n / 16 * 16;
    for (size_t i = 0; i < whole; i += 16) {
        for (int k = 0; k < 4; ++k) {
            const F4 x = load4(v.data() + i + 4 * static_cast<size_t>(k));
            const I4 better = x > best[k];
            best[k] = better ? x : best[k];
            where[k] = better ? index[k] : where[k];
            index[k] += 16;
        }
    }
    float m = kNegInf;
    size_t at = n;
    for (int k = 0; k < 4; ++k) {
        for (int j = 0; j < 4; ++j) {
            if (where[k][j] < 0) continue;
            const auto w = static_cast<size_t>(where[k][j]);
            if (best[k][j] > m || (best[k][j] == m && w < at)) m = best[k][j], at = w;
        }
    }
    for (size_t i = whole; i < n; ++i) {
        if (v[i] > m) m = v[i], at = i;
    }
    return {m, at == n ? 0 : at};
}

// Sum of exp(v[i] - best) over every token.
double exp_sum(std::span<const float> v, float best) {
    double sum = 0;
    const size_t n = v.size(), whole = n / 16 * 16;
    for (size_t block = 0; block < whole; block += 4096) {  // float partial sums stay short
        F4 lanes[4] = {};
        const size_t end = std::min(whole, block + 4096);
        for (size_t i = block; i < end; i += 16) {
            for (int k = 0; k < 4; ++k) lanes[k] += exp_nonpositive(load4(v.data() + i + 4 * static_cast<size_t>(k)) - best);
        }
        const F4 total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
        sum += static_cast<double>(total[0]) + total[1] + total[2] + total[3];
    }
    for (size_t i = whole; i < n; ++i) sum += std::exp(static_cast<double>(v[i] - best));
    return sum;
}

}  // namespace

// Sampling a 152k-token vocabulary must cost far less than a GPU's decode step, so no
// step sorts the vocabulary or visits it more than a few times: the candidates are the
// tokens within a margin of the best logit (widened until the cuts are sure to lie
// inside it), top-k is a selection among them, top-p a selection by mass, min-p a
// bound on the logit, and the draw walks the survivors in the order the selections
// left them.
int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
    const SamplingParams& p = params_;
    // The logits are copied only where bias or penalties change them.
    const bool penalize = (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) &&
                          !history.empty();
    if (!p.logit_bias.empty() || penalize) {
        work_.assign(logits.begin(), logits.end());
        apply_bias_and_penalties(history);
        view_ = work_;
    } else {
        view_ = logits;
    }
    const auto [best, best_at] = arg_max(view_);
    if (p.temperature <= 0.0f) return static_cast<int32_t>(best_at);  // all banned: the first token, as before
    if (best == kNegInf) return static_cast<int32_t>(arg_max(logits).second);  // everything banned: the model's choice

    // Weights at temperature 1 relative to the best (which weighs 1) decide top-k's
    // survivors' top-p and min-p, as llama.cpp's default chain does. min-p keeps weights
    // >= min_p, that is logits >= best + ln(min_p).
    const float floor = p.min_p > 0.0f ? best + std::log(p.min_p) : kNegInf;
    const bool top_k = p.top_k > 0 && static_cast<size_t>(p.top_k) < view_.size();
    const bool top_p = p.top_p < 1.0f;
    double need = 0;  // top-p: the mass the kept head must reach
    if (top_p && !top_k) need = static_cast<double>(p.top_p) * exp_sum(view_, best);
    if (!top_k && !top_p && std::isinf(floor)) return draw_all(best);
    if (!top_k && !top_p) {
        gather(floor);  // min-p
    } else {
        for (const float margin : {8.0f, 16.0f, 32.0f, std::numeric_limits<float>::infinity()}) {
            gather(std::max(best - margin, floor));
            if (std::isinf(margin) || best - margin <= floor) break;
            if (top_k ? candidates_.size() >= static_cast<size_t>(p.top_k) : weigh(1.0f, best) >= need) break;
        }
    }
    if (top_k && candidates_.size() > static_cast<size_t>(p.top_k)) {
        const auto kth = candidates_.begin() + p.top_k;
        std::nth_element(candidates_.begin(), kth - 1, candidates_.end(), by_logit);
        candidates_.erase(kth, candidates_.end());
    }
    if (top_p) {
        const double total = weigh(1.0f, best);  // the survivors' weights at temperature 1
        keep_top_mass(top_k ? static_cast<double>(p.top_p) * total : need);
    }
    const double drawn = weigh(p.temperature, best);
    const double r = next_uniform() * drawn;
    double cum = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        cum += weights_[i];
        if (r < cum) return candidates_[i].second;
    }
    return candidates_.back().second;
}

// A draw from the whole distribution at the temperature: weights in one pass with a sum
// per block of 256 tokens, then a walk over the blocks and into the one the draw falls in.
int32_t Sampler::draw_all(float best) {
    const size_t n = view_.size(), block = 256;
    weights_.resize(n);
    block_sums_.clear();
    const float inv = 1.0f / params_.temperature;
    double total = 0;
    for (size_t i = 0; i < n; i += block) {
        const size_t m = std::min(block, n - i);
        for (size_t j = 0; j < m; ++j) weights_[i + j] = view_[i + j] - best;
        exp_scaled(weights_.data() + i, inv, weights_.data() + i, m);
        F4 lanes = splat(0.0f);
        size_t j = 0;
        for (; j + 4 <= m; j += 4) lanes += load4(weights_.data() + i + j);
        double sum = static_cast<double>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
        for (; j < m; ++j) sum += weights_[i + j];
        block_sums_.push_back(sum);
        total += sum;
    }
    double r = next_uniform() * total;
    for (size_t b = 0; b < block_sums_.size(); ++b) {
        if (r >= block_sums_[b] && b + 1 < block_sums_.size()) {
            r -= block_sums_[b];
            continue;
        }
        const size_t end = std::min(n, (b + 1) * block);
        for (size_t i = b * block; i < end; ++i) {
            r -= weights_[i];
            if (r < 0 && view_[i] != kNegInf) return static_cast<int32_t>(i);
        }
        for (size_t i = end; i-- > b * block;) {  // rounding left r past the block: its last live token
            if (view_[i] != kNegInf) return static_cast<int32_t>(i);
        }
    }
    return static_cast<int32_t>(arg_max(view_).second);
}

void Sampler::apply_bias_and_penalties(std::span<const int32_t> history) {
    const SamplingParams& p = params_;
    const auto n = static_cast<int32_t>(work_.size());
    for (const auto& [id, bias] : p.logit_bias) {
        if (id >= 0 && id < n) work_[static_cast<size_t>(id)] += bias;
    }
    if (history.empty()) return;
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

// candidates_ = the tokens with logit >= threshold (never a banned one), in id order.
void Sampler::gather(float threshold) {
    candidates_.clear();
    const float* v = view_.data();
    const size_t n = view_.size();
    threshold = std::max(threshold, std::nextafter(kNegInf, 0.0f));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        if (!any(load4(v + i) >= threshold)) continue;  // most blocks hold no candidate
        for (size_t j = i; j < i + 4; ++j) {
            if (v[j] >= threshold) candidates_.emplace_back(v[j], static_cast<int32_t>(j));
        }
    }
    for (; i < n; ++i) {
        if (v[i] >= threshold) candidates_.emplace_back(v[i], static_cast<int32_t>(i));
    }
}

bool Sampler::by_logit(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// weights_[i] = exp((logit_i - best) / temperature); returns their sum.
double Sampler::weigh(float temperature, float best) {
    const size_t n = candidates_.size();
    weights_.resize(n);
    const float inv = 1.0f / temperature;
    for (size_t i = 0; i < n; ++i) weights_[i] = candidates_[i].first - best;
    exp_scaled(weights_.data(), inv, weights_.data(), n);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += weights_[i];
    return sum;
}

// Keeps the fewest best candidates whose weights reach `need` (the one that crosses it
// included; all of them where they never do). No sort and no data-dependent branches
// over the candidates: a histogram of their weights by logit finds the bucket where the
// cut lies, everything better is kept as it stands, and only that bucket is sorted.
void Sampler::keep_top_mass(double need) {
    constexpr int kBuckets = 1024;
    const size_t n = candidates_.size();
    float best = kNegInf, worst = std::numeric_limits<float>::infinity();
    for (const auto& c : candidates_) best = std::max(best, c.first), worst = std::min(worst, c.first);
    const float scale = best > worst ? (kBuckets - 1) / (best - worst) : 0.0f;
    bucket_.resize(n);
    double mass[kBuckets] = {};
    for (size_t i = 0; i < n; ++i) {
        bucket_[i] = static_cast<uint16_t>((best - candidates_[i].first) * scale);  // 0: the best
        mass[bucket_[i]] += weights_[i];
    }
    int cut = 0;
    double above = 0;
    while (cut < kBuckets - 1 && above + mass[cut] < need) above += mass[cut++];
    // Better buckets are kept whole, in place; the cut's bucket goes aside to be sorted.
    std::vector<std::pair<float, int32_t>> edge;
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
        if (bucket_[i] == cut) edge.push_back(candidates_[i]);
        candidates_[kept] = candidates_[i];
        weights_[kept] = weights_[i];
        kept += bucket_[i] < cut;
    }
    std::sort(edge.begin(), edge.end(), by_logit);
    candidates_.resize(kept);
    for (const auto& c : edge) {
        if (above >= need) break;
        candidates_.push_back(c);
        above += std::exp(static_cast<double>(c.first - best));
    }
    weights_.resize(candidates_.size());  // the draw weighs them again at its temperature
}

}  // namespace hearth::llm
