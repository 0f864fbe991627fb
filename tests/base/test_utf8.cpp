#include "base/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace hearth {
namespace {

constexpr char32_t kBad = 0xFFFD;

// Decodes all of `s` one step at a time, checking that every step makes progress and
// that a step yields either a well-formed character or U+FFFD for exactly one byte.
std::u32string decode_checked(std::string_view s) {
    std::u32string out;
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t before = pos;
        const uint32_t cp = utf8_decode(s, pos);
        EXPECT_GT(pos, before);
        EXPECT_LE(pos, s.size());
        std::string again;
        utf8_append(again, cp);
        if (s.substr(before, pos - before) != again) {
            // Not a faithful decode, so it must be the one-byte replacement.
            EXPECT_EQ(cp, kBad);
            EXPECT_EQ(pos - before, 1u);
        }
        out.push_back(cp);
    }
    return out;
}

TEST(Utf8, DecodesAsciiAndMultibyteCharacters) {
    EXPECT_EQ(decode_checked("Az~"), U"Az~");
    EXPECT_EQ(decode_checked("\xC3\xA9"), U"\u00E9");             // 2 bytes
    EXPECT_EQ(decode_checked("\xE2\x82\xAC"), U"\u20AC");         // 3 bytes
    EXPECT_EQ(decode_checked("\xF0\x9F\x98\x80"), U"\U0001F600");  // 4 bytes
    size_t pos = 0;
    EXPECT_EQ(utf8_decode("\xE2\x96\x81", pos), 0x2581u);
    EXPECT_EQ(pos, 3u);
}

TEST(Utf8, EveryInvalidByteBecomesOneReplacement) {
    EXPECT_EQ(decode_checked("\xC0\x80"), (std::u32string{kBad, kBad}));                     // overlong NUL
    EXPECT_EQ(decode_checked("\xC0\xAF"), (std::u32string{kBad, kBad}));                     // overlong '/'
    EXPECT_EQ(decode_checked("\xE0\x80\xAF"), (std::u32string{kBad, kBad, kBad}));           // overlong, 3 bytes
    EXPECT_EQ(decode_checked("\xED\xA0\x80"), (std::u32string{kBad, kBad, kBad}));           // surrogate D800
    EXPECT_EQ(decode_checked("\xF4\x90\x80\x80"), (std::u32string{kBad, kBad, kBad, kBad}));  // U+110000
    EXPECT_EQ(decode_checked("a\xE2\x82"), (std::u32string{U'a', kBad, kBad}));              // truncated at the end
    EXPECT_EQ(decode_checked("\xE2\x80"), (std::u32string{kBad, kBad}));
    EXPECT_EQ(decode_checked("x\x80y"), (std::u32string{U'x', kBad, U'y'}));                 // stray continuation
    EXPECT_EQ(decode_checked("\xC3(\xFF\xF8"), (std::u32string{kBad, U'(', kBad, kBad}));   // lead without tail, 0xF8+
}

TEST(Utf8, DecodingAlwaysProgresses) {
    // Every string of up to two bytes, then random longer ones biased towards bytes >= 0x80.
    for (int a = 0; a < 256; ++a) {
        decode_checked(std::string(1, static_cast<char>(a)));
        for (int b = 0; b < 256; ++b) decode_checked(std::string{static_cast<char>(a), static_cast<char>(b)});
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> byte(0x70, 0xFF);
    for (int i = 0; i < 20000; ++i) {
        std::string s(1 + i % 7, '\0');
        for (char& c : s) c = static_cast<char>(byte(rng));
        EXPECT_EQ(decode_checked(s), utf8_to_u32(s));
    }
}

TEST(Utf8, BoundaryCodePointsRoundTrip) {
    const std::u32string cps = {0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF};
    const std::string bytes = u32_to_utf8(cps);
    EXPECT_EQ(bytes.size(), 1 + 1 + 2 + 2 + 3 + 3 + 3 + 3 + 3 + 4 + 4u);
    EXPECT_EQ(utf8_to_u32(bytes), cps);
}

TEST(Utf8, ValidTextRoundTrips) {
    for (const std::string valid : {"", "plain ascii", "a\xC3\xA7\xE2\x80\x93\xF0\x9F\x98\x80",
                                    "h\xC9\x99l\xCB\x88o\xCA\x8A",  // həlˈoʊ
                                    "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C"}) {  // 你好，世界
        EXPECT_EQ(u32_to_utf8(utf8_to_u32(valid)), valid);
    }
    EXPECT_EQ(utf8_to_u32("a\xC3\xA7\xE2\x80\x93\xF0\x9F\x98\x80"), (std::u32string{U'a', 0xE7, 0x2013, 0x1F600}));
}

TEST(Utf8, CompletePrefixHoldsOnlyUnfinishedCharacters) {
    EXPECT_EQ(utf8_complete_prefix(""), 0u);
    EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
    EXPECT_EQ(utf8_complete_prefix("a\xC3"), 1u);
    EXPECT_EQ(utf8_complete_prefix("a\xE2\x82"), 1u);
    EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F"), 1u);
    EXPECT_EQ(utf8_complete_prefix("\xF0\x9F\x98"), 0u);
    EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F\x9A\x80"), 5u);
    EXPECT_EQ(utf8_complete_prefix("a\xFF"), 2u);  // never valid: not held
    EXPECT_EQ(utf8_complete_prefix("a\x80"), 2u);  // stray continuation byte: not held
}

TEST(Utf8, CharLengthCountsOnlyWellFormedSequences) {
    EXPECT_EQ(utf8_char_length("a", 0), 1u);
    EXPECT_EQ(utf8_char_length("\xF0\x9F\x98\x80", 0), 4u);
    EXPECT_EQ(utf8_char_length("\xF0\x9F\x98", 0), 1u);  // truncated
    EXPECT_EQ(utf8_char_length("\xE2(\xAC", 0), 1u);     // broken tail
    EXPECT_EQ(utf8_char_length("\x80", 0), 1u);          // stray continuation byte
    EXPECT_TRUE(utf8_is_continuation(0x80));
    EXPECT_TRUE(utf8_is_continuation(0xBF));
    EXPECT_FALSE(utf8_is_continuation(0x7F));
    EXPECT_FALSE(utf8_is_continuation(0xC0));
}

}  // namespace
}  // namespace hearth
