// Piper's phoneme_id_map: phonemes (single codepoints after NFD) to model input ids, with
// the sentence framing Piper uses: BOS "^", then after BOS and after every phoneme the pad
// "_", and EOS "$" at the end. Phonemes missing from the map are skipped (and counted).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "tts/espeak_phonemizer.h"

namespace hearth::tts {

using PhonemeIdMap = std::unordered_map<char32_t, std::vector<int64_t>>;

// Parses the "phoneme_id_map" object of a voice config. Keys must be one codepoint (after
// NFD) — multi-codepoint keys are ignored as Piper ignores them — and values id arrays.
Result<PhonemeIdMap> parse_phoneme_id_map(const nlohmann::json& map);

struct PhonemeIds {
    std::vector<int64_t> ids;
    size_t missing = 0;  // phonemes not in the map, skipped
};

// Needs "^", "$" and "_" in the map (error otherwise).
Result<PhonemeIds> phonemes_to_ids(const Phonemes& sentence, const PhonemeIdMap& map);

}  // namespace hearth::tts
