// Malformed GGUF input must give a precise error, never a crash, hang or huge
// allocation. Each case is a hand-made file; all of them are also written to
// build/test-scratch/gguf-corpus as seeds for the fuzzer (scripts/fuzz.sh).
#include <gtest/gtest.h>

#include <fstream>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf_bytes.h"
#include "support/shared_data.h"

namespace hearth::gguf {
namespace {

using test::GgufBytes;

struct CorruptCase {
    std::string name;
    std::vector<uint8_t> bytes;
    std::string expected;  // substring of the error message
};

std::vector<uint8_t> valid_file() {
    GgufWriter w;
    w.set("general.architecture", Value::str("llama"));
    w.set("tokenizer.ggml.tokens", Value::strings({"<s>", "a", "b"}));
    (void)w.add_tensor("w", {32, 2}, GgmlType::Q8_0, std::vector<uint8_t>(68, 7));
    (void)w.add_tensor("n", {4}, GgmlType::F32, std::vector<uint8_t>(16, 0));
    return w.to_bytes().value();
}

std::vector<CorruptCase> corrupt_cases() {
    std::vector<CorruptCase> c;
    c.push_back({"empty", {}, "file too small"});
    c.push_back({"bad_magic", GgufBytes().u32(0x4c4d4747).u32(3).u64(0).u64(0).bytes, "bad magic 'GGML'"});
    c.push_back({"version1", GgufBytes().header(0, 0, 1).bytes, "version 1 is not supported"});
    c.push_back({"big_endian", GgufBytes().header(0, 0, 0x03000000).bytes, "big-endian"});
    c.push_back({"version7", GgufBytes().header(0, 0, 7).bytes, "unsupported GGUF version 7"});
    c.push_back({"no_counts", GgufBytes().u32(0x46554747).u32(3).u64(0).bytes, "truncated header"});
    c.push_back({"huge_kv_count", GgufBytes().header(0, 1ull << 60).bytes, "more than the file can hold"});
    c.push_back({"huge_tensor_count", GgufBytes().header(1ull << 60, 0).bytes, "more than the file can hold"});
    c.push_back({"key_past_end", GgufBytes().header(0, 1).u64(1000).zeros(20).bytes, "truncated key"});
    c.push_back({"unknown_value_type", GgufBytes().header(0, 1).str("k").u32(13).zeros(8).bytes, "unknown value type 13"});
    c.push_back({"truncated_value", GgufBytes().header(0, 1).str("k").u32(4).u8(1).bytes, "truncated value of key 'k'"});
    c.push_back({"string_past_end", GgufBytes().header(0, 1).str("k").u32(8).u64(99).zeros(10).bytes, "truncated string"});
    c.push_back({"duplicate_key",
                 GgufBytes().header(0, 2).str("a").u32(4).u32(1).str("a").u32(4).u32(2).bytes, "duplicate key 'a'"});
    c.push_back({"huge_array",
                 GgufBytes().header(0, 1).str("arr").u32(9).u32(6).u64(1ull << 61).zeros(16).bytes,
                 "more than the file can hold"});
    c.push_back({"bad_array_type", GgufBytes().header(0, 1).str("arr").u32(9).u32(99).u64(1).zeros(8).bytes,
                 "unknown array element type 99"});
    {
        GgufBytes b;
        b.header(0, 1).str("deep").u32(9);
        for (int i = 0; i < 10; ++i) b.u32(9).u64(1);
        b.u32(0).u64(0);
        c.push_back({"deep_nesting", b.bytes, "nested too deeply"});
    }
    c.push_back({"bad_bool", GgufBytes().header(0, 1).str("b").u32(7).u8(2).bytes, "invalid bool 2"});
    c.push_back({"zero_alignment", GgufBytes().header(0, 1).str("general.alignment").u32(4).u32(0).bytes,
                 "not a power of two"});
    c.push_back({"odd_alignment", GgufBytes().header(0, 1).str("general.alignment").u32(4).u32(48).bytes,
                 "not a power of two"});
    c.push_back({"alignment_type", GgufBytes().header(0, 1).str("general.alignment").u32(10).u64(32).bytes,
                 "must be a u32"});
    c.push_back({"five_dims", GgufBytes().header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad().zeros(32).bytes,
                 "5 dimensions"});
    c.push_back({"zero_dims", GgufBytes().header(1, 0).str("t").u32(0).u32(0).u64(0).pad().bytes, "0 dimensions"});
    c.push_back({"unknown_tensor_type", GgufBytes().header(1, 0).tensor("t", {4}, 4, 0).pad().zeros(32).bytes,
                 "unknown type id 4"});
    c.push_back({"shape_overflow",
                 GgufBytes().header(1, 0).tensor("t", {1ull << 40, 1ull << 40}, 0, 0).pad().bytes, "overflows"});
    c.push_back({"bytes_overflow", GgufBytes().header(1, 0).tensor("t", {1ull << 62}, 0, 0).pad().bytes,
                 "size of tensor 't' overflows"});
    c.push_back({"dim_negative", GgufBytes().header(1, 0).tensor("t", {~0ull}, 0, 0).pad().bytes, "overflows"});
    c.push_back({"misaligned_offset", GgufBytes().header(1, 0).tensor("t", {4}, 0, 4).pad().zeros(64).bytes,
                 "not a multiple of the alignment"});
    c.push_back({"data_past_end", GgufBytes().header(1, 0).tensor("t", {64}, 0, 0).pad().zeros(100).bytes,
                 "extends past the end of the file"});
    c.push_back({"offset_past_end", GgufBytes().header(1, 0).tensor("t", {1}, 0, 1ull << 62).pad().zeros(8).bytes,
                 "extends past the end of the file"});
    c.push_back({"duplicate_tensor",
                 GgufBytes().header(2, 0).tensor("t", {1}, 0, 0).tensor("t", {1}, 0, 32).pad().zeros(64).bytes,
                 "duplicate tensor name 't'"});
    c.push_back({"partial_block", GgufBytes().header(1, 0).tensor("t", {100}, 12, 0).pad().zeros(1024).bytes,
                 "not a multiple of the Q4_K block size 256"});
    c.push_back({"truncated_tensor_info", GgufBytes().header(1, 0).str("t").u32(4).u64(4).zeros(11).bytes,
                 "truncated shape"});
    return c;
}

TEST(GgufCorrupt, EachCaseGivesItsError) {
    int checked = 0;
    for (const auto& c : corrupt_cases()) {
        auto f = GgufFile::parse(c.bytes);
        ASSERT_FALSE(f.ok()) << c.name << " was accepted";
        EXPECT_NE(f.error().message.find(c.expected), std::string::npos)
            << c.name << ": got '" << f.error().message << "', expected to contain '" << c.expected << "'";
        ++checked;
    }
    std::printf("checked %d corrupt GGUF cases\n", checked);
    EXPECT_GE(checked, 30);
}

TEST(GgufCorrupt, EveryTruncationIsAnErrorNotACrash) {
    const auto full = valid_file();
    auto parsed = GgufFile::parse(full);
    ASSERT_TRUE(parsed.ok());
    const TensorInfo& last = parsed->tensors().back();
    const size_t needed = parsed->data_offset() + last.offset + last.n_bytes;  // trailing padding is optional
    for (size_t n = 0; n <= full.size(); ++n) {
        std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        auto f = GgufFile::parse(prefix);
        EXPECT_EQ(f.ok(), n >= needed) << "prefix of " << n << " bytes";
    }
}

TEST(GgufCorrupt, EverySingleByteFlipIsHandled) {
    const auto full = valid_file();
    int rejected = 0;
    for (size_t i = 0; i < full.size(); ++i) {
        for (uint8_t x : {uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x01}}) {
            auto bytes = full;
            bytes[i] ^= x;
            auto f = GgufFile::parse(bytes);  // must return, whatever it decides
            if (!f.ok()) {
                ++rejected;
                EXPECT_FALSE(f.error().message.empty());
            } else {
                for (const auto& t : f->tensors()) EXPECT_EQ(f->tensor_data(t).size(), t.n_bytes);
            }
        }
    }
    EXPECT_GT(rejected, 0);
}

TEST(GgufCorrupt, OpenReportsThePath) {
    const auto dir = test::scratch_dir("gguf_corrupt");
    const auto path = (dir / "bad.gguf").string();
    std::ofstream(path, std::ios::binary) << "GGML....";
    auto f = GgufFile::open(path);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find(path), std::string::npos);
    EXPECT_NE(f.error().message.find("bad magic"), std::string::npos);
}

TEST(GgufCorrupt, WritesFuzzSeedCorpus) {
    const auto dir = test::binary_dir() / "test-scratch" / "gguf-corpus";
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
        std::ofstream out(dir / name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        ASSERT_TRUE(out.good());
    };
    write("valid.gguf", valid_file());
    for (const auto& c : corrupt_cases()) write(c.name + ".gguf", c.bytes);
    EXPECT_TRUE(std::filesystem::exists(dir / "valid.gguf"));
}

}  // namespace
}  // namespace hearth::gguf
