#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

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

TEST(StopMatcher, HoldsBackPossibleStopPrefixes) {
    StopMatcher m({"</s>", "\nUser:"});
    EXPECT_EQ(m.push("Hello <"), "Hello ");
    EXPECT_EQ(m.push("/"), "");
    EXPECT_EQ(m.push("x"), "</x");
    EXPECT_EQ(m.push(" world\nUs"), " world");
    EXPECT_EQ(m.push("er: hi"), "");
    EXPECT_TRUE(m.stopped());
    EXPECT_EQ(m.flush(), "");
    StopMatcher n({"END"});
    EXPECT_EQ(n.push("abcE"), "abc");
    EXPECT_EQ(n.flush(), "E");
    EXPECT_FALSE(n.stopped());
}

}  // namespace
}  // namespace hearth::llm
