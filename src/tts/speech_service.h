// hearth/tts — text to speech: espeak-ng phonemization exactly as Piper does it, Piper
// voices (VITS exported to ONNX + .onnx.json) run by hearth_onnx, a built-in espeak-ng
// voice that needs no download, and audio encoding (wav, pcm, flac, mp3, opus) with
// resampling. It depends on hearth_base and hearth_onnx and knows nothing of HTTP; the
// server and `hearth say` call SpeechService.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hearth::tts {

struct VoiceInfo {
    std::string id;         // "builtin:en" style for espeak voices, file stem for Piper voices
    std::string kind;       // "piper" or "espeak"
    std::string language;   // espeak voice / language code, e.g. "en-us"
    int sample_rate = 22050;
    int num_speakers = 1;
};

enum class AudioFormat { Wav, Pcm, Flac, Mp3, Opus };
// "wav", "pcm", "flac", "mp3", "opus" (case-sensitive, as OpenAI); nullopt otherwise.
std::optional<AudioFormat> parse_audio_format(const std::string& name);
const char* audio_format_mime(AudioFormat f);  // audio/wav, audio/pcm, audio/flac, audio/mpeg, audio/ogg

struct SpeechRequest {
    std::string text;
    std::string voice;            // id or an alias from the configuration; empty: default voice
    AudioFormat format = AudioFormat::Wav;
    float speed = 1.0f;           // 0.25..4.0 (divides the length scale)
    std::optional<int> speaker_id;
    std::optional<float> noise_scale, length_scale, noise_w;  // override the voice config
    int sample_rate = 0;          // of the audio produced: 0 = the voice's own, else resampled
};

// How much audio was produced (samples at the output rate).
struct SpeechStats {
    uint64_t samples = 0;
    int sample_rate = 0;

    double seconds() const { return sample_rate > 0 ? static_cast<double>(samples) / sample_rate : 0.0; }
    // Started 50 ms frames: what the speech APIs count as audio "tokens" in their usage.
    int64_t frames() const {
        return sample_rate > 0 ? static_cast<int64_t>((samples * 20 + static_cast<uint64_t>(sample_rate) - 1) / sample_rate) : 0;
    }
};

// Receives encoded audio as it is ready; returns false to stop (the listener left).
using AudioSink = std::function<bool(std::span<const uint8_t>)>;

// Text spoken in pieces as it arrives (a chat reply while it is being generated), by one
// voice into one encoder, so that the pieces form a single audio stream. One thread at a
// time.
class SpeechSession {
public:
    virtual ~SpeechSession() = default;
    // Speaks `text` (split further into the voice's own sentences), passing encoded bytes
    // to `on_audio` sentence by sentence. Stops early, without error, when it returns false.
    virtual Result<void> speak(std::string_view text, const AudioSink& on_audio) = 0;
    // The end of the audio: the resampler's and encoder's tails. No speak() after this.
    virtual Result<void> finish(const AudioSink& on_audio) = 0;
    virtual SpeechStats stats() const = 0;
    virtual const VoiceInfo& voice() const = 0;
};

// OpenAI's voice names (alloy, ash, ballad, coral, echo, fable, onyx, nova, sage, shimmer,
// verse, marin, cedar), in the order the default mapping spreads them over the voices.
const std::vector<std::string>& openai_voice_names();

struct SpeechServiceOptions {
    std::string voices_dir;      // scanned for <name>.onnx + <name>.onnx.json pairs; may be empty
    // Names (OpenAI's alloy, echo, ... or any other) -> installed voice ids. These win over
    // the default mapping of OpenAI's names, which SpeechService::create adds for the names
    // not given here: alloy goes to the default voice; the i-th name of
    // openai_voice_names() to the (i mod N)-th of the N Piper voices sorted by id, or, with
    // no Piper voice, of the built-in English voices en-us, en-gb, en-gb-x-rp,
    // en-gb-scotland, en-us-nyc, en-029, en-gb-x-gbclan, en-gb-x-gbcwmd (those espeak-ng has).
    // A name that is itself a voice id keeps that voice.
    std::vector<std::pair<std::string, std::string>> aliases;
    std::string default_voice;   // empty: first Piper voice, else the built-in espeak voice
    int n_threads = 0;
};

class SpeechService {
public:
    static Result<std::unique_ptr<SpeechService>> create(const SpeechServiceOptions& options);
    ~SpeechService();

    std::vector<VoiceInfo> voices() const;
    // Every alias in effect (configured ones first, then the default OpenAI names), name -> id.
    const std::vector<std::pair<std::string, std::string>>& aliases() const;
    // Resolves aliases and the default; error "unknown voice 'x'" when absent.
    Result<VoiceInfo> find_voice(const std::string& name_or_alias) const;

    // A session for `request` without its text: the voice, format, rate and synthesis
    // options checked and resolved. Errors: unknown voice, speaker or bad options.
    Result<std::unique_ptr<SpeechSession>> open_session(const SpeechRequest& request) const;

    // Synthesizes sentence by sentence. Encoded audio bytes are passed to on_audio as soon
    // as each sentence is ready (the first chunk of a wav stream carries the header, with
    // unknown-length sizes when streaming). on_audio returns false to stop early.
    // Errors: empty text, unknown voice, synthesis failure.
    using Stats = SpeechStats;
    Result<void> synthesize(const SpeechRequest& request, const AudioSink& on_audio) const;
    // The same, also reporting how much audio was produced.
    Result<void> synthesize(const SpeechRequest& request, const AudioSink& on_audio, Stats& stats) const;
    // Whole-file convenience (wav sizes filled in).
    Result<std::vector<uint8_t>> synthesize_all(const SpeechRequest& request) const;
    // The IPA phonemes (UTF-8) of each sentence as the voice would speak them: Piper's
    // phonemization for Piper voices, espeak-ng's for the built-in voice. For debugging.
    Result<std::vector<std::string>> phonemize(const std::string& text, const std::string& voice) const;

    class Impl;

private:
    explicit SpeechService(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::tts
