// Tables behind unicode_nfd.cpp (generated from the Unicode Character Database).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hearth::tts::detail {

struct DecompositionEntry {
    char32_t codepoint;
    uint16_t offset;
    uint8_t length;
};
struct CombiningClassRange {
    char32_t first, last;
    uint8_t combining_class;
};

extern const DecompositionEntry kDecompositions[];
extern const size_t kDecompositionCount;
extern const char32_t kDecompositionData[];
extern const CombiningClassRange kCombiningClasses[];
extern const size_t kCombiningClassCount;

}  // namespace hearth::tts::detail
