// The voice interface shared by Piper voices and the built-in espeak-ng voice: text is
// first split into utterances (sentences), each then synthesized on its own so that audio
// can be streamed sentence by sentence.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "tts/espeak_phonemizer.h"
#include "tts/speech_service.h"

namespace hearth::tts {

struct Utterance {
    std::string text;    // built-in voice: the sentence text
    Phonemes phonemes;   // Piper voices: the sentence's phonemes
};

struct SynthesisOptions {
    float speed = 1.0f;
    std::optional<int> speaker_id;
    std::optional<float> noise_scale, length_scale, noise_w;
};

// Mono audio, samples in [-1, 1].
struct AudioChunk {
    std::vector<float> samples;
    int sample_rate = 0;
};

class Voice {
public:
    virtual ~Voice() = default;
    virtual const VoiceInfo& info() const = 0;
    virtual Result<std::vector<Utterance>> split(const std::string& text) const = 0;
    // Safe to call from several threads; implementations serialize what must be serialized.
    virtual Result<AudioChunk> synthesize(const Utterance& utterance, const SynthesisOptions& options) const = 0;
};

}  // namespace hearth::tts
