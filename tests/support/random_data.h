// Reproducible random test inputs.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace hearth::test {

// n floats uniform in [-scale, scale), the same for the same seed.
inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

}  // namespace hearth::test
