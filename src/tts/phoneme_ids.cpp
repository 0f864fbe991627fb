#include "tts/phoneme_ids.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "tts/unicode_text.h"

namespace hearth::tts {

Result<PhonemeIdMap> parse_phoneme_id_map(const nlohmann::json& map) {
    if (!map.is_object()) return make_error("phoneme_id_map must be an object");
    PhonemeIdMap out;
    for (const auto& [key, value] : map.items()) {
        if (!value.is_array()) return make_error(fmt::format("phoneme_id_map['{}'] must be an array of ids", key));
        std::vector<int64_t> ids;
        for (const auto& id : value) {
            if (!id.is_number_integer()) {
                return make_error(fmt::format("phoneme_id_map['{}'] must contain integers", key));
            }
            ids.push_back(id.get<int64_t>());
        }
        const std::u32string cps = nfd(utf8_to_u32(key));
        if (cps.size() != 1) continue;  // e.g. "aɪ": never produced, since phonemes are codepoints
        out.emplace(cps[0], std::move(ids));
    }
    return out;
}

Result<PhonemeIds> phonemes_to_ids(const Phonemes& sentence, const PhonemeIdMap& map) {
    const auto bos = map.find(U'^');
    const auto eos = map.find(U'$');
    const auto pad = map.find(U'_');
    if (bos == map.end() || eos == map.end() || pad == map.end()) {
        return make_error("phoneme_id_map lacks one of '^', '$', '_'");
    }
    PhonemeIds r;
    r.ids.reserve(sentence.size() * 2 + 3);
    r.ids.insert(r.ids.end(), bos->second.begin(), bos->second.end());
    r.ids.insert(r.ids.end(), pad->second.begin(), pad->second.end());
    for (char32_t p : sentence) {
        const auto it = map.find(p);
        if (it == map.end()) {
            ++r.missing;
            continue;
        }
        r.ids.insert(r.ids.end(), it->second.begin(), it->second.end());
        r.ids.insert(r.ids.end(), pad->second.begin(), pad->second.end());
    }
    r.ids.insert(r.ids.end(), eos->second.begin(), eos->second.end());
    return r;
}

}  // namespace hearth::tts
