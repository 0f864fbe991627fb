#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "base/half.h"

namespace hearth {
namespace {

TEST(Half, EveryFiniteHalfRoundTripsExactly) {
    int checked = 0;
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const auto bits = static_cast<uint16_t>(h);
        if ((bits & 0x7c00) == 0x7c00) continue;  // inf / nan handled below
        EXPECT_EQ(fp32_to_fp16(fp16_to_fp32(bits)), bits) << std::hex << h;
        ++checked;
    }
    EXPECT_EQ(checked, 63488);
}

TEST(Half, KnownValues) {
    EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
    EXPECT_EQ(fp16_to_fp32(0xc000), -2.0f);
    EXPECT_EQ(fp16_to_fp32(0x7bff), 65504.0f);
    EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
    EXPECT_EQ(fp16_to_fp32(0x03ff), std::ldexp(1023.0f, -24));
    EXPECT_TRUE(std::isinf(fp16_to_fp32(0x7c00)));
    EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7e00)));
}

TEST(Half, RoundsToNearestEven) {
    // 1 + 2^-11 is halfway between 1 and the next half: ties go to the even mantissa (1.0).
    EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
    // 1 + 3 * 2^-11 is halfway between 0x3c01 and 0x3c02: goes to 0x3c02.
    EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
    EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
    EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7bff);
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // overflows to infinity
    EXPECT_EQ(fp32_to_fp16(-1e9f), 0xfc00);
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);  // tie with zero goes to zero
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
    EXPECT_EQ(fp32_to_fp16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp: tie to even
    EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()) & 0x7c00, 0x7c00);
    EXPECT_NE(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()) & 0x3ff, 0);
}

TEST(BFloat16, RoundsToNearestEven) {
    EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
    EXPECT_EQ(fp32_to_bf16(bits_float(0x3f808000)), 0x3f80);  // tie, even stays
    EXPECT_EQ(fp32_to_bf16(bits_float(0x3f818000)), 0x3f82);  // tie, odd rounds up
    EXPECT_EQ(fp32_to_bf16(bits_float(0x3f808001)), 0x3f81);
    EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace hearth
