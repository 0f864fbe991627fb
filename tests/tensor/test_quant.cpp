#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "base/half.h"
#include "tensor/quant.h"
#include "tensor/quant_blocks.h"

namespace hearth::tensor {
namespace {

std::vector<float> random_values(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

double nmse(const std::vector<float>& a, const std::vector<float>& b) {
    double err = 0, ref = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        err += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
        ref += a[i] * static_cast<double>(a[i]);
    }
    return err / ref;
}

// Normalised mean squared error bound of quantize -> dequantize on uniform data, per type.
double nmse_bound(GgmlType t) {
    switch (t) {
        case GgmlType::F32: return 0;
        case GgmlType::F16: return 1e-7;
        case GgmlType::BF16: return 1e-5;
        case GgmlType::Q8_0: return 2e-5;
        case GgmlType::Q6_K: return 3e-4;
        case GgmlType::Q5_K: return 1.5e-3;
        case GgmlType::Q4_K: return 5e-3;
        case GgmlType::Q4_0: return 8e-3;
        default: return 0;
    }
}

TEST(Quant, RoundTripErrorPerType) {
    const auto values = random_values(4 * 512, 42);
    for (GgmlType t : compute_types()) {
        auto bytes = quantize(t, values, 512);
        ASSERT_TRUE(bytes.ok()) << bytes.error().message;
        EXPECT_EQ(bytes->size(), *gguf::checked_row_bytes(t, values.size()));
        auto back = dequantize(t, *bytes, static_cast<int64_t>(values.size()));
        ASSERT_TRUE(back.ok());
        const double e = nmse(values, *back);
        std::printf("%-5s nmse %.3g\n", std::string(gguf::type_name(t)).c_str(), e);
        EXPECT_LE(e, nmse_bound(t)) << gguf::type_name(t);
        if (t != GgmlType::F32) {
            EXPECT_GT(e, 0) << gguf::type_name(t);
        }
    }
}

TEST(Quant, ZerosAndConstantsAreExact) {
    for (GgmlType t : compute_types()) {
        std::vector<float> zeros(256, 0.0f);
        auto bytes = quantize(t, zeros, 256);
        ASSERT_TRUE(bytes.ok());
        auto back = dequantize(t, *bytes, 256);
        for (float x : *back) EXPECT_EQ(x, 0.0f) << gguf::type_name(t);
    }
}

TEST(Quant, Q8_0Layout) {
    std::vector<float> x(32);
    for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) * 0.5f;  // -8 .. 7.5
    auto bytes = quantize(GgmlType::Q8_0, x, 32);
    ASSERT_TRUE(bytes.ok());
    BlockQ8_0 b;
    std::memcpy(&b, bytes->data(), sizeof b);
    EXPECT_EQ(b.d, fp32_to_fp16(8.0f / 127.0f));
    EXPECT_EQ(b.qs[0], -127);
    EXPECT_EQ(b.qs[16], 0);
    EXPECT_EQ(b.qs[31], static_cast<int8_t>(std::lround(7.5f * 127.0f / 8.0f)));
}

TEST(Quant, Q4_0Layout) {
    // Element j is the low nibble of qs[j], element j + 16 the high nibble; value = (q - 8) * d.
    BlockQ4_0 b{};
    b.d = fp32_to_fp16(0.5f);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>((j & 0xF) | ((15 - j) << 4));
    std::vector<float> y(32);
    ASSERT_TRUE(dequantize_row(GgmlType::Q4_0, &b, y.data(), 32).ok());
    EXPECT_EQ(y[0], -4.0f);
    EXPECT_EQ(y[15], 3.5f);
    EXPECT_EQ(y[16], 3.5f);
    EXPECT_EQ(y[31], -4.0f);
}

TEST(Quant, Q4_KLayout) {
    // Sub-block j uses 6-bit scale/min pair j; 64-value chunk c holds sub-blocks 2c (low
    // nibbles) and 2c+1 (high nibbles); value = d * scale * q - dmin * min.
    BlockQ4_K b{};
    b.d = fp32_to_fp16(1.0f);
    b.dmin = fp32_to_fp16(0.5f);
    // scales of sub-blocks 0..3 in the low 6 bits of bytes 0..3, mins in bytes 4..7;
    // sub-blocks 4..7: low 4 bits in bytes 8..11, high 2 bits in the top of bytes 0..7.
    const uint8_t sc[8] = {1, 2, 3, 4, 5, 17, 33, 63};
    const uint8_t mn[8] = {0, 1, 2, 3, 4, 20, 40, 62};
    for (int j = 0; j < 4; ++j) {
        b.scales[j] = sc[j];
        b.scales[j + 4] = mn[j];
    }
    for (int j = 4; j < 8; ++j) {
        b.scales[j + 4] = static_cast<uint8_t>((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
        b.scales[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
        b.scales[j] |= static_cast<uint8_t>((mn[j] >> 4) << 6);
    }
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        k_scale_min(j, b.scales, s, m);
        EXPECT_EQ(s, sc[j]);
        EXPECT_EQ(m, mn[j]);
    }
    for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(0x3 | (0x9 << 4));
    std::vector<float> y(256);
    ASSERT_TRUE(dequantize_row(GgmlType::Q4_K, &b, y.data(), 256).ok());
    for (int j = 0; j < 8; ++j) {
        const float q = (j % 2 == 0) ? 3.0f : 9.0f;
        EXPECT_FLOAT_EQ(y[32 * j + 5], 1.0f * sc[j] * q - 0.5f * mn[j]) << "sub-block " << j;
    }
}

TEST(Quant, Q5_KHighBits) {
    BlockQ5_K b{};
    b.d = fp32_to_fp16(1.0f);
    b.dmin = fp32_to_fp16(0.0f);
    for (int j = 0; j < 4; ++j) b.scales[j] = 1;                            // sub-blocks 0..3 scale 1
    for (int j = 4; j < 8; ++j) b.scales[j + 4] = 1;                        // sub-blocks 4..7 scale 1
    b.qh[7] = 0b00000100;  // element 7 of sub-block 2 gets +16
    b.qs[32 + 7] = 0x05;   // chunk 1, low nibble = sub-block 2
    std::vector<float> y(256);
    ASSERT_TRUE(dequantize_row(GgmlType::Q5_K, &b, y.data(), 256).ok());
    EXPECT_EQ(y[64 + 7], 21.0f);
    EXPECT_EQ(y[7], 0.0f);
}

TEST(Quant, Q6_KLayout) {
    BlockQ6_K b{};
    b.d = fp32_to_fp16(0.25f);
    for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(j - 8);
    // element 100 = chunk 0, l = 4, fourth quarter: high nibble of ql[36], bits 6-7 of qh[4]
    b.ql[36] = 0x70;
    b.qh[4] = 0b10 << 6;  // q = 7 | (2 << 4) = 39 -> 39 - 32 = 7
    std::vector<float> y(256);
    ASSERT_TRUE(dequantize_row(GgmlType::Q6_K, &b, y.data(), 256).ok());
    EXPECT_FLOAT_EQ(y[100], 0.25f * static_cast<float>(100 / 16 - 8) * 7.0f);
    EXPECT_FLOAT_EQ(y[0], 0.25f * -8.0f * -32.0f);  // all-zero bits are q = -32
}

TEST(Quant, RejectsUnsupportedAndPartialBlocks) {
    std::vector<float> x(256, 1.0f);
    EXPECT_FALSE(quantize(GgmlType::Q2_K, x, 256).ok());
    EXPECT_FALSE(quantize(GgmlType::Q4_K, x, 128).ok());
    std::vector<uint8_t> bytes(10);
    EXPECT_FALSE(dequantize(GgmlType::Q8_0, bytes, 32).ok());
}

}  // namespace
}  // namespace hearth::tensor
