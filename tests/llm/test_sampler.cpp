#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <algorithm>

#include "llm/generate.h"
#include "llm/sampler.h"

namespace hearth::llm {
namespace {

const std::vector<float> kLogits = {1.0f, 3.0f, 2.5f, -1.0f, 0.5f, 2.9f};

TEST(Sampler, GreedyPicksArgmax) {
    SamplingParams p;
    p.temperature = 0;
    Sampler s(p);
    EXPECT_EQ(s.sample(kLogits, {}), 1);
}

TEST(Sampler, SameSeedSameTokens) {
    SamplingParams p;
    p.temperature = 1.5f;
    p.top_k = 0;
    p.top_p = 1;
    p.min_p = 0;
    Sampler a(p), b(p);
    p.seed = 99;
    Sampler c(p);
    std::vector<int32_t> ta, tb, tc;
    for (int i = 0; i < 200; ++i) {
        ta.push_back(a.sample(kLogits, {}));
        tb.push_back(b.sample(kLogits, {}));
        tc.push_back(c.sample(kLogits, {}));
    }
    EXPECT_EQ(ta, tb);
    EXPECT_NE(ta, tc);
}

TEST(Sampler, FrequenciesFollowSoftmax) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1;
    p.min_p = 0;
    Sampler s(p);
    std::map<int32_t, int> counts;
    const int n = 20000;
    for (int i = 0; i < n; ++i) ++counts[s.sample(kLogits, {})];
    double z = 0;
    for (float l : kLogits) z += std::exp(l);
    for (size_t i = 0; i < kLogits.size(); ++i) {
        const double expected = std::exp(kLogits[i]) / z;
        EXPECT_NEAR(counts[static_cast<int32_t>(i)] / static_cast<double>(n), expected, 0.015) << i;
    }
}

TEST(Sampler, TopKTopPMinPRestrictCandidates) {
    SamplingParams p;
    p.temperature = 5.0f;  // flat: any survivor is likely to appear
    p.top_p = 1;
    p.min_p = 0;
    p.top_k = 2;
    Sampler k(p);
    for (int i = 0; i < 300; ++i) {
        const int32_t t = k.sample(kLogits, {});
        EXPECT_TRUE(t == 1 || t == 5) << t;
    }
    p.top_k = 0;
    p.top_p = 0.5f;  // softmax at T=1: 1 (0.37) + 5 (0.34) pass 0.5
    Sampler tp(p);
    for (int i = 0; i < 300; ++i) {
        const int32_t t = tp.sample(kLogits, {});
        EXPECT_TRUE(t == 1 || t == 5) << t;
    }
    p.top_p = 1;
    p.min_p = 0.5f;  // keeps tokens with p >= 0.5 * p(best): 1, 5, 2
    Sampler mp(p);
    std::map<int32_t, int> seen;
    for (int i = 0; i < 600; ++i) ++seen[mp.sample(kLogits, {})];
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_TRUE(seen.count(1) && seen.count(5) && seen.count(2));
}

// At a real vocabulary's size the cuts run as selections (no sort): the tokens drawn
// must be exactly those a sorted reference keeps, at their softmax frequencies.
TEST(Sampler, CutsOnALargeVocabularyMatchASortedReference) {
    std::mt19937 rng(5);
    std::normal_distribution<float> bulk(0.0f, 1.0f);
    std::vector<float> logits(50000);
    for (float& l : logits) l = bulk(rng);
    for (int i = 0; i < 40; ++i) logits[static_cast<size_t>(i * 1231)] = 6.0f + 0.05f * static_cast<float>(i % 7);  // ties too
    std::vector<int32_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
               (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
    });
    double z = 0;
    for (float l : logits) z += std::exp(l - logits[static_cast<size_t>(order[0])]);
    for (const float top_p : {0.3f, 0.9f}) {
        std::map<int32_t, double> keep;  // token -> probability at T=1
        double cum = 0;
        for (int32_t id : order) {
            const double q = std::exp(logits[static_cast<size_t>(id)] - logits[static_cast<size_t>(order[0])]) / z;
            keep[id] = q;
            cum += q;
            if (cum >= top_p) break;
        }
        SamplingParams p;
        p.temperature = 1;
        p.top_k = 0;
        p.top_p = top_p;
        p.min_p = 0;
        Sampler s(p);
        std::map<int32_t, int> seen;
        const int n = 6000;
        for (int i = 0; i < n; ++i) ++seen[s.sample(logits, {})];
        for (const auto& [id, count] : seen) ASSERT_TRUE(keep.count(id)) << "top_p " << top_p << " drew " << id;
        double kept_mass = 0;
        for (const auto& [id, q] : keep) kept_mass += q;
        for (const auto& [id, q] : keep) {
            if (q / kept_mass < 0.02) continue;
            EXPECT_NEAR(seen[id] / static_cast<double>(n), q / kept_mass, 0.02) << "top_p " << top_p << " token " << id;
        }
        if (top_p > 0.5f) {
            EXPECT_GT(seen.size(), 1000u);  // the bulk is in the draw
        }
    }
    // min-p alone keeps exactly the tokens within the factor of the best.
    SamplingParams p;
    p.temperature = 1;
    p.top_k = 0;
    p.top_p = 1;
    p.min_p = 0.9f;
    Sampler s(p);
    for (int i = 0; i < 500; ++i) {
        const int32_t id = s.sample(logits, {});
        ASSERT_GE(logits[static_cast<size_t>(id)], logits[static_cast<size_t>(order[0])] + std::log(0.9f) - 1e-5f);
    }
}

TEST(Sampler, LogitBiasAndPenalties) {
    SamplingParams p;
    p.temperature = 0;
    p.logit_bias = {{1, -std::numeric_limits<float>::infinity()}};
    EXPECT_EQ(Sampler(p).sample(kLogits, {}), 5);
    p.logit_bias = {{3, 10.0f}};
    EXPECT_EQ(Sampler(p).sample(kLogits, {}), 3);
    p.logit_bias.clear();
    p.repeat_penalty = 2.0f;  // 3.0 -> 1.5, so 5 (2.9) wins
    const std::vector<int32_t> history = {1};
    EXPECT_EQ(Sampler(p).sample(kLogits, history), 5);
    p.repeat_penalty = 1.0f;
    p.presence_penalty = 0.2f;  // 3.0 - 0.2 = 2.8 < 2.9
    EXPECT_EQ(Sampler(p).sample(kLogits, history), 5);
    p.presence_penalty = 0;
    p.frequency_penalty = 0.05f;  // 3.0 - 3 * 0.05 = 2.85 < 2.9, but one occurrence (2.95) is not
    EXPECT_EQ(Sampler(p).sample(kLogits, std::vector<int32_t>{1, 1, 1}), 5);
    EXPECT_EQ(Sampler(p).sample(kLogits, history), 1);
    p.repeat_last_n = 1;  // only the last token counts
    EXPECT_EQ(Sampler(p).sample(kLogits, std::vector<int32_t>{1, 1, 4}), 1);
}

}  // namespace
}  // namespace hearth::llm
