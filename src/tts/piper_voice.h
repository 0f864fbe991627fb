// A Piper voice: a VITS model exported to ONNX (<name>.onnx) and its config
// (<name>.onnx.json). Text is phonemized with espeak-ng as Piper does, mapped to ids and
// run through hearth_onnx one sentence at a time.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tts/phoneme_ids.h"
#include "tts/voice.h"

namespace hearth::onnx {
class Session;
}

namespace hearth::tts {

struct PiperConfig {
    int sample_rate = 22050;
    std::string espeak_voice = "en-us";
    float noise_scale = 0.667f, length_scale = 1.0f, noise_w = 0.8f;
    int num_speakers = 1;
    std::map<std::string, int> speaker_id_map;
    PhonemeIdMap phoneme_id_map;
    PhonemeMap phoneme_map;  // the config's own, merged with Piper's default for the language
};

// Parses a .onnx.json config. Errors name the bad field.
Result<PiperConfig> parse_piper_config(const nlohmann::json& config);
Result<PiperConfig> load_piper_config(const std::string& json_path);

// Silence Piper appends after every sentence.
inline constexpr float kSentenceSilenceSeconds = 0.2f;

class PiperVoice final : public Voice {
public:
    // Reads the config now; the model is loaded on first synthesis (listing voices stays
    // cheap). `id` is the file stem.
    static Result<std::unique_ptr<PiperVoice>> open(const std::string& onnx_path, const std::string& id, int n_threads);
    ~PiperVoice() override;

    const VoiceInfo& info() const override { return info_; }
    const PiperConfig& config() const { return config_; }
    Result<std::vector<Utterance>> split(const std::string& text) const override;
    Result<AudioChunk> synthesize(const Utterance& utterance, const SynthesisOptions& options) const override;
    // Loads the model if not loaded yet (also done by synthesize).
    Result<void> load() const;

private:
    PiperVoice() = default;
    VoiceInfo info_;
    PiperConfig config_;
    std::string onnx_path_;
    int n_threads_ = 0;
    mutable std::mutex mutex_;  // guards session_ creation and runs (one run at a time)
    mutable std::unique_ptr<onnx::Session> session_;
    mutable bool has_sid_input_ = false;
};

}  // namespace hearth::tts
