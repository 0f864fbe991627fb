// Locating the real test data in ../shared. Tests that need it skip with a message
// when it is absent, so a checkout without shared/ still runs everything else.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hearth::test {

inline std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("HEARTH_SHARED_DIR"); env && *env) return env;
    return HEARTH_SHARED_DIR;
}

inline std::string shared_path(const std::string& relative) { return (shared_dir() / relative).string(); }

inline std::filesystem::path binary_dir() { return HEARTH_BINARY_DIR; }

// A fresh, empty directory under the build tree for one test's files.
inline std::filesystem::path scratch_dir(const std::string& name) {
    auto dir = binary_dir() / "test-scratch" / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace hearth::test

// Skips the current test when a file or folder under shared/ is missing.
#define HEARTH_REQUIRE_SHARED(relative)                                                              \
    do {                                                                                             \
        if (!std::filesystem::exists(::hearth::test::shared_path(relative)))                        \
            GTEST_SKIP() << "shared test data not found: " << ::hearth::test::shared_path(relative) \
                         << " (set HEARTH_SHARED_DIR or place shared/ beside the checkout)";        \
    } while (0)
