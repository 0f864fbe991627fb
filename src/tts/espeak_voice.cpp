#include "tts/espeak_voice.h"

#include <espeak-ng/speak_lib.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>

#include "tts/espeak_runtime.h"
#include "tts/sentence_splitter.h"

namespace hearth::tts {

namespace {

struct SynthTarget {
    std::vector<float> samples;
};

// espeak-ng calls this (synchronously, inside espeak_Synth) with each block of samples.
int collect_samples(short* wav, int count, espeak_EVENT* events) {
    if (wav == nullptr || count <= 0 || events == nullptr) return 0;
    auto* target = static_cast<SynthTarget*>(events->user_data);
    if (target == nullptr) return 0;
    for (int i = 0; i < count; ++i) target->samples.push_back(static_cast<float>(wav[i]) / 32768.0f);
    return 0;  // continue
}

}  // namespace

std::vector<std::string> espeak_languages() {
    std::lock_guard lock(espeak_mutex());
    if (!ensure_espeak_initialized_locked()) return {};
    std::set<std::string> langs;
    const espeak_VOICE** voices = espeak_ListVoices(nullptr);
    for (size_t i = 0; voices && voices[i]; ++i) {
        const char* l = voices[i]->languages;  // priority byte, then a NUL-terminated name
        if (l && l[0] && l[1]) langs.insert(l + 1);
    }
    return {langs.begin(), langs.end()};
}

Result<std::unique_ptr<EspeakVoice>> EspeakVoice::create(const std::string& language) {
    std::lock_guard lock(espeak_mutex());
    auto rate = ensure_espeak_initialized_locked();
    if (!rate) return rate.error();
    if (auto v = set_espeak_voice_locked(language); !v) return v.error();
    VoiceInfo info;
    info.id = std::string(kBuiltinPrefix) + language;
    info.kind = "espeak";
    info.language = language;
    info.sample_rate = *rate;
    info.num_speakers = 1;
    return std::unique_ptr<EspeakVoice>(new EspeakVoice(std::move(info)));
}

Result<std::vector<Utterance>> EspeakVoice::split(const std::string& text) const {
    std::vector<Utterance> out;
    for (auto& s : split_sentences(text)) out.push_back({std::move(s), {}});
    return out;
}

Result<AudioChunk> EspeakVoice::synthesize(const Utterance& utterance, const SynthesisOptions& options) const {
    if (options.speaker_id && *options.speaker_id != 0) {
        return make_error(fmt::format("voice '{}' has a single speaker (0)", info_.id));
    }
    SynthTarget target;
    {
        std::lock_guard lock(espeak_mutex());
        if (auto v = set_espeak_voice_locked(info_.language); !v) return v.error();
        // espeak's rate is in words per minute: 175 by default, 80..450 allowed.
        const int rate = std::clamp(static_cast<int>(std::lround(175.0 * options.speed)), 80, 450);
        espeak_SetParameter(espeakRATE, rate, 0);
        espeak_SetSynthCallback(collect_samples);
        const espeak_ERROR err = espeak_Synth(utterance.text.c_str(), utterance.text.size() + 1, 0, POS_CHARACTER, 0,
                                              espeakCHARS_UTF8 | espeakENDPAUSE, nullptr, &target);
        if (err != EE_OK) return make_error(fmt::format("espeak-ng synthesis failed (error {})", static_cast<int>(err)));
    }
    return AudioChunk{std::move(target.samples), info_.sample_rate};
}

}  // namespace hearth::tts
