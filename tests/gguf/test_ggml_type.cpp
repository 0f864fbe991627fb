#include <gtest/gtest.h>

#include "gguf/ggml_type.h"

namespace hearth::gguf {
namespace {

TEST(GgmlType, BlockLayoutsMatchTheFormat) {
    struct Expect {
        GgmlType type;
        int64_t block, bytes;
    };
    for (auto e : {Expect{GgmlType::F32, 1, 4}, Expect{GgmlType::F16, 1, 2}, Expect{GgmlType::BF16, 1, 2},
                   Expect{GgmlType::Q4_0, 32, 18}, Expect{GgmlType::Q8_0, 32, 34}, Expect{GgmlType::Q4_K, 256, 144},
                   Expect{GgmlType::Q5_K, 256, 176}, Expect{GgmlType::Q6_K, 256, 210},
                   Expect{GgmlType::Q2_K, 256, 84}, Expect{GgmlType::Q3_K, 256, 110},
                   Expect{GgmlType::IQ4_XS, 256, 136}, Expect{GgmlType::MXFP4, 32, 17}}) {
        const TypeTraits& t = type_traits(e.type);
        EXPECT_EQ(t.block_size, e.block) << t.name;
        EXPECT_EQ(t.type_size, e.bytes) << t.name;
    }
}

TEST(GgmlType, RetiredAndUnknownIdsHaveNoTraits) {
    for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 1000u}) EXPECT_EQ(type_traits(id), nullptr) << id;
    EXPECT_NE(type_traits(30u), nullptr);
}

TEST(GgmlType, NamesRoundTrip) {
    EXPECT_EQ(type_from_name("q4_k"), GgmlType::Q4_K);
    EXPECT_EQ(type_from_name("BF16"), GgmlType::BF16);
    EXPECT_FALSE(type_from_name("q4_k_m").has_value());
    for (uint32_t id = 0; id < 64; ++id) {
        if (const TypeTraits* t = type_traits(id)) { EXPECT_EQ(type_from_name(t->name), t->type); }
    }
}

TEST(GgmlType, RowBytesAreChecked) {
    EXPECT_EQ(checked_row_bytes(GgmlType::Q4_K, 512), 288u);
    EXPECT_EQ(checked_row_bytes(GgmlType::Q8_0, 64), 68u);
    EXPECT_FALSE(checked_row_bytes(GgmlType::Q8_0, 33).has_value());
    EXPECT_FALSE(checked_row_bytes(GgmlType::F64, 1ull << 62).has_value());
}

}  // namespace
}  // namespace hearth::gguf
