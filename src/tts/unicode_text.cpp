#include "tts/unicode_text.h"

#include <algorithm>

#include "tts/unicode_nfd_table.h"

namespace hearth::tts {

std::u32string utf8_to_codepoints(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        int len = 0;
        char32_t cp = 0;
        if (b < 0x80) {
            out.push_back(b);
            ++i;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2, cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, cp = b & 0x07;
        }
        bool ok = len > 0 && i + len <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (c & 0x3F);
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
        if (!ok) {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += len;
    }
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string codepoints_to_utf8(std::u32string_view cps) {
    std::string out;
    out.reserve(cps.size() * 2);
    for (char32_t cp : cps) append_utf8(out, cp);
    return out;
}

namespace {

int combining_class(char32_t cp) {
    using detail::kCombiningClasses;
    const auto* end = kCombiningClasses + detail::kCombiningClassCount;
    const auto* it = std::upper_bound(kCombiningClasses, end, cp,
                                      [](char32_t c, const detail::CombiningClassRange& r) { return c < r.first; });
    if (it == kCombiningClasses) return 0;
    --it;
    return cp <= it->last ? it->combining_class : 0;
}

void decompose(char32_t cp, std::u32string& out) {
    // Hangul syllables: algorithmic decomposition (Unicode 3.12).
    constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
    constexpr char32_t kTCount = 28, kNCount = 21 * 28, kSCount = 19 * 21 * 28;
    if (cp >= kSBase && cp < kSBase + kSCount) {
        const char32_t s = cp - kSBase;
        out.push_back(kLBase + s / kNCount);
        out.push_back(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
        return;
    }
    using detail::kDecompositions;
    const auto* end = kDecompositions + detail::kDecompositionCount;
    const auto* it = std::lower_bound(kDecompositions, end, cp,
                                      [](const detail::DecompositionEntry& e, char32_t c) { return e.codepoint < c; });
    if (it != end && it->codepoint == cp) {
        out.append(detail::kDecompositionData + it->offset, it->length);
    } else {
        out.push_back(cp);
    }
}

}  // namespace

std::u32string nfd(std::u32string_view text) {
    std::u32string out;
    out.reserve(text.size() + 8);
    for (char32_t cp : text) decompose(cp, out);
    // Canonical ordering: stable-sort each run of non-starters by combining class.
    size_t i = 0;
    while (i < out.size()) {
        if (combining_class(out[i]) == 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < out.size() && combining_class(out[j]) != 0) ++j;
        std::stable_sort(out.begin() + i, out.begin() + j,
                         [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
        i = j;
    }
    return out;
}

}  // namespace hearth::tts
