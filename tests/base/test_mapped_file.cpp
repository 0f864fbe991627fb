#include <gtest/gtest.h>

#include <fstream>

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

}  // namespace
}  // namespace hearth
