#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "support/shared_data.h"

namespace hearth::gguf {
namespace {

Metadata every_value_type() {
    Metadata md;
    md.set("u8", Value::u8(250));
    md.set("i8", Value::i8(-100));
    md.set("u16", Value::u16(65000));
    md.set("i16", Value::i16(-32000));
    md.set("u32", Value::u32(4000000000u));
    md.set("i32", Value::i32(-2000000000));
    md.set("f32", Value::f32(3.25f));
    md.set("f32.nan", Value::f32(std::numeric_limits<float>::quiet_NaN()));
    md.set("bool.true", Value::boolean(true));
    md.set("bool.false", Value::boolean(false));
    md.set("str", Value::str("héllo\nworld"));
    md.set("str.empty", Value::str(""));
    md.set("u64", Value::u64(std::numeric_limits<uint64_t>::max()));
    md.set("i64", Value::i64(std::numeric_limits<int64_t>::min()));
    md.set("f64", Value::f64(-1e300));
    md.set("arr.str", Value::strings({"a", "", "ccc"}));
    md.set("arr.f32", Value::floats({1.5f, -2.0f}));
    md.set("arr.i32", Value::ints({1, -2, 3}));
    md.set("arr.empty", Value::array(ArrayValue{ValueType::U64, {}}));
    ArrayValue inner1{ValueType::I8, {Value::i8(1), Value::i8(2)}};
    ArrayValue inner2{ValueType::I8, {}};
    md.set("arr.nested", Value::array(ArrayValue{ValueType::Array, {Value::array(inner1), Value::array(inner2)}}));
    md.set("arr.bool", Value::array(ArrayValue{ValueType::Bool, {Value::boolean(true), Value::boolean(false)}}));
    md.set("arr.f64", Value::array(ArrayValue{ValueType::F64, {Value::f64(0.5)}}));
    return md;
}

TEST(GgufRoundTrip, EveryMetadataType) {
    GgufWriter w;
    const Metadata md = every_value_type();
    for (const auto& [k, v] : md.entries()) w.set(k, v);
    const auto bytes = w.to_bytes().value();
    auto f = GgufFile::parse(bytes);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->version(), 3u);
    ASSERT_EQ(f->metadata().size(), md.size());
    for (size_t i = 0; i < md.size(); ++i) {
        EXPECT_EQ(f->metadata().entries()[i].first, md.entries()[i].first);  // order kept
        EXPECT_TRUE(f->metadata().entries()[i].second == md.entries()[i].second) << md.entries()[i].first;
    }
    EXPECT_EQ(f->metadata().get_int("u32"), 4000000000ll);
    EXPECT_EQ(f->metadata().get_int("i8"), -100);
    EXPECT_FALSE(f->metadata().get_int("u64").has_value());  // does not fit int64
    EXPECT_EQ(f->metadata().get_string("str"), "héllo\nworld");
    EXPECT_EQ(f->metadata().get_strings("arr.str"), (std::vector<std::string>{"a", "", "ccc"}));
    EXPECT_EQ(f->metadata().get_ints("arr.i32"), (std::vector<int64_t>{1, -2, 3}));
    EXPECT_EQ(f->metadata().get_bool("bool.true"), true);
    EXPECT_FALSE(f->metadata().get_string("u8").has_value());  // wrong type is absent, not converted
}

TEST(GgufRoundTrip, EveryTensorType) {
    GgufWriter w;
    std::vector<std::vector<uint8_t>> payloads;
    int n_types = 0;
    for (uint32_t id = 0; id < 64; ++id) {
        const TypeTraits* t = type_traits(id);
        if (t == nullptr) continue;
        ++n_types;
        const std::vector<int64_t> shape = {t->block_size * 2, 3};
        std::vector<uint8_t> data(static_cast<size_t>(t->type_size * 2 * 3));
        for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + id);
        payloads.push_back(data);
        ASSERT_TRUE(w.add_tensor(std::string("t.") + std::string(t->name), shape, t->type, data).ok());
    }
    EXPECT_EQ(n_types, 32);
    const auto bytes = w.to_bytes().value();
    auto f = GgufFile::parse(bytes);
    ASSERT_TRUE(f.ok()) << f.error().message;
    ASSERT_EQ(f->tensors().size(), payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i) {
        const TensorInfo& t = f->tensors()[i];
        EXPECT_EQ(t.offset % 32, 0u);
        EXPECT_EQ(t.shape.size(), 2u);
        EXPECT_EQ(t.shape[1], 3);
        auto data = f->tensor_data(t);
        EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.end()), payloads[i]) << t.name;
        EXPECT_EQ(t.rows(), 3);
    }
    EXPECT_EQ(f->find_tensor("t.Q6_K")->type, GgmlType::Q6_K);
    EXPECT_EQ(f->find_tensor("missing"), nullptr);
}

TEST(GgufRoundTrip, CustomAlignmentAndFile) {
    GgufWriter w(64);
    ASSERT_TRUE(w.add_tensor("a", {3}, GgmlType::F32, std::vector<uint8_t>(12, 1)).ok());
    ASSERT_TRUE(w.add_tensor("b", {5, 2}, GgmlType::F16, std::vector<uint8_t>(20, 2)).ok());
    const auto path = (test::scratch_dir("gguf_roundtrip") / "aligned.gguf").string();
    ASSERT_TRUE(w.write(path).ok());
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->alignment(), 64u);
    EXPECT_EQ(f->data_offset() % 64, 0u);
    EXPECT_EQ(f->find_tensor("b")->offset, 64u);
    EXPECT_EQ(f->tensor_data(*f->find_tensor("b"))[19], 2);
    EXPECT_EQ(f->file_size(), w.to_bytes().value().size());
}

TEST(GgufWriter, RejectsInconsistentTensors) {
    GgufWriter w;
    EXPECT_FALSE(w.add_tensor("a", {33}, GgmlType::Q8_0, std::vector<uint8_t>(34)).ok());  // not whole blocks
    EXPECT_FALSE(w.add_tensor("a", {32}, GgmlType::Q8_0, std::vector<uint8_t>(33)).ok());  // wrong byte count
    EXPECT_TRUE(w.add_tensor("a", {32}, GgmlType::Q8_0, std::vector<uint8_t>(34)).ok());
    EXPECT_FALSE(w.add_tensor("a", {32}, GgmlType::Q8_0, std::vector<uint8_t>(34)).ok());  // duplicate
    EXPECT_FALSE(w.add_tensor("b", {1, 1, 1, 1, 1}, GgmlType::F32, std::vector<uint8_t>(4)).ok());
}

// Tensors made while the file is written (hearth convert): the same file as bytes given up
// front; a producer that fails or makes the wrong size leaves no file behind.
TEST(GgufWriter, WritesProducedTensorsInOrderAndNothingOnFailure) {
    const auto dir = hearth::test::scratch_dir("gguf_producers");
    const std::vector<uint8_t> a(64, 7), b(36, 9);
    GgufWriter given, produced;
    ASSERT_TRUE(given.add_tensor("a", {16}, GgmlType::F32, a).ok());
    ASSERT_TRUE(given.add_tensor("b", {9}, GgmlType::F32, b).ok());
    int calls = 0;
    ASSERT_TRUE(produced.add_tensor("a", {16}, GgmlType::F32, [&]() -> Result<std::vector<uint8_t>> { ++calls; return a; }).ok());
    ASSERT_TRUE(produced.add_tensor("b", {9}, GgmlType::F32, [&]() -> Result<std::vector<uint8_t>> { ++calls; return b; }).ok());
    EXPECT_EQ(calls, 0);
    std::vector<std::string> seen;
    const std::string path = (dir / "produced.gguf").string();
    ASSERT_TRUE(produced.write(path, [&](size_t done, size_t total, const std::string& name) {
        seen.push_back(std::to_string(done) + "/" + std::to_string(total) + " " + name);
    }).ok());
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(seen, (std::vector<std::string>{"1/2 a", "2/2 b"}));
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.ok()) << f.error().message;
    const auto expected = given.to_bytes().value();
    EXPECT_EQ(f->file_size(), expected.size());
    EXPECT_EQ(produced.to_bytes().value(), expected);
    EXPECT_FALSE(std::filesystem::exists(path + ".part"));

    GgufWriter failing;
    ASSERT_TRUE(failing.add_tensor("a", {16}, GgmlType::F32, [&]() -> Result<std::vector<uint8_t>> { return a; }).ok());
    ASSERT_TRUE(failing.add_tensor("b", {9}, GgmlType::F32, []() -> Result<std::vector<uint8_t>> {
        return make_error("source tensor unreadable");
    }).ok());
    const std::string bad = (dir / "failing.gguf").string();
    auto r = failing.write(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("tensor 'b': source tensor unreadable"), std::string::npos) << r.error().message;
    EXPECT_FALSE(std::filesystem::exists(bad));
    EXPECT_FALSE(std::filesystem::exists(bad + ".part"));

    GgufWriter short_one;
    ASSERT_TRUE(short_one.add_tensor("a", {16}, GgmlType::F32, [&]() -> Result<std::vector<uint8_t>> { return b; }).ok());
    EXPECT_FALSE(short_one.write(bad).ok());
    EXPECT_FALSE(short_one.to_bytes().ok());
    EXPECT_FALSE(std::filesystem::exists(bad));
}

TEST(GgufRoundTrip, ReadsVersion2) {
    GgufWriter w;
    w.set("general.architecture", Value::str("llama"));
    auto bytes = w.to_bytes().value();
    bytes[4] = 2;  // v2 has the same layout as v3 (64-bit counts)
    auto f = GgufFile::parse(bytes);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->version(), 2u);
    EXPECT_EQ(f->architecture(), "llama");
}

}  // namespace
}  // namespace hearth::gguf
