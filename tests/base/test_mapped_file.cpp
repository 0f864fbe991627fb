#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "base/mapped_file.h"
#include "support/shared_data.h"

namespace hearth {
namespace {

TEST(MappedFile, MapsWholeFile) {
    const auto dir = test::scratch_dir("mapped_file");
    const auto path = (dir / "data.bin").string();
    std::ofstream(path, std::ios::binary) << "hello gguf";
    auto f = MappedFile::open(path);
    ASSERT_TRUE(f.ok()) << f.error().message;
    ASSERT_EQ(f->size(), 10u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->bytes().data()), f->size()), "hello gguf");
    MappedFile moved = std::move(f).value();
    EXPECT_EQ(moved.size(), 10u);
}

TEST(MappedFile, EmptyFileMapsToNothing) {
    const auto path = (test::scratch_dir("mapped_empty") / "empty").string();
    std::ofstream(path, std::ios::binary).flush();
    auto f = MappedFile::open(path);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->size(), 0u);
}

TEST(MappedFile, ErrorsNameThePath) {
    auto missing = MappedFile::open("/nonexistent/model.gguf");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("/nonexistent/model.gguf"), std::string::npos);
    auto dir = MappedFile::open("/tmp");
    ASSERT_FALSE(dir.ok());
    EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);
}

// kB of the mapping that starts at `base` resident in this process (/proc/self/smaps).
long resident_kb(const void* base) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool in = false;
    while (std::getline(smaps, line)) {
        unsigned long lo = 0, hi = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) {  // a mapping's first line
            in = lo == reinterpret_cast<uintptr_t>(base);
        } else if (in && line.rfind("Rss:", 0) == 0) {
            return std::atol(line.c_str() + 4);
        }
    }
    return -1;
}

// Released pages leave the resident set (the file's bytes copied elsewhere are not
// counted twice) and read back as the file's bytes.
TEST(MappedFile, ReleasedPagesLeaveTheResidentSetAndReadBack) {
    const auto path = (test::scratch_dir("mapped_release") / "data.bin").string();
    std::string data(size_t{8} << 20, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + i / 4096);
    std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    auto f = MappedFile::open(path);
    ASSERT_TRUE(f.ok()) << f.error().message;
    const auto bytes = f->bytes();
    uint64_t sum = 0;
    for (size_t i = 0; i < bytes.size(); i += 4096) sum += bytes[i];
    EXPECT_GE(resident_kb(bytes.data()), 8 * 1024 - 64) << sum;
    f->release(bytes.subspan(100, bytes.size() - 100 - 4000));
    const long after = resident_kb(bytes.data());
    EXPECT_LE(after, 512);  // at most the two pages partly outside the range, and what a split huge page leaves
    EXPECT_EQ(std::memcmp(bytes.data(), data.data(), data.size()), 0);
    f->release(bytes.subspan(0, 0));  // nothing
    f->release(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), 4096 * 4));  // not this mapping's: nothing
}

}  // namespace
}  // namespace hearth
