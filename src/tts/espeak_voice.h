// The built-in voice: espeak-ng's own formant synthesizer, at espeak-ng's sample rate.
// Always available (espeak-ng-data is a package dependency), no model download needed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tts/voice.h"

namespace hearth::tts {

// Voice ids are "builtin:<espeak language>", e.g. "builtin:en-us".
inline constexpr const char* kBuiltinPrefix = "builtin:";
inline constexpr const char* kDefaultBuiltinLanguage = "en-us";

// The languages espeak-ng has voices for (first language of each voice), sorted.
std::vector<std::string> espeak_languages();

class EspeakVoice final : public Voice {
public:
    // Error when espeak-ng cannot be initialized or has no such language.
    static Result<std::unique_ptr<EspeakVoice>> create(const std::string& language);

    const VoiceInfo& info() const override { return info_; }
    Result<std::vector<Utterance>> split(const std::string& text) const override;
    Result<AudioChunk> synthesize(const Utterance& utterance, const SynthesisOptions& options) const override;

private:
    explicit EspeakVoice(VoiceInfo info) : info_(std::move(info)) {}
    VoiceInfo info_;
};

}  // namespace hearth::tts
