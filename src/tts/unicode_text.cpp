#include "tts/unicode_text.h"

#include <algorithm>

#include "tts/unicode_nfd_table.h"

namespace hearth::tts {

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
