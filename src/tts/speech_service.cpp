#include "tts/speech_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>

#include "base/utf8.h"
#include "tts/audio_encoder.h"
#include "tts/espeak_runtime.h"
#include "tts/espeak_voice.h"
#include "tts/piper_voice.h"
#include "tts/resampler.h"

namespace hearth::tts {

class SpeechService::Impl {
public:
    SpeechServiceOptions options;
    std::vector<std::unique_ptr<PiperVoice>> piper;  // sorted by id
    std::vector<std::string> espeak_langs;           // sorted
    int espeak_rate = 22050;
    std::string default_id;

    mutable std::mutex builtin_mutex;
    mutable std::map<std::string, std::unique_ptr<EspeakVoice>> builtin;  // created on first use

    bool has_builtin(const std::string& lang) const {
        return std::binary_search(espeak_langs.begin(), espeak_langs.end(), lang);
    }

    VoiceInfo builtin_info(const std::string& lang) const {
        VoiceInfo v;
        v.id = std::string(kBuiltinPrefix) + lang;
        v.kind = "espeak";
        v.language = lang;
        v.sample_rate = espeak_rate;
        return v;
    }

    // Exact ids only (aliases and the default are resolved by the caller).
    std::optional<VoiceInfo> lookup(const std::string& id) const {
        for (const auto& p : piper) {
            if (p->info().id == id) return p->info();
        }
        if (id.rfind(kBuiltinPrefix, 0) == 0) {
            const std::string lang = id.substr(std::string(kBuiltinPrefix).size());
            if (has_builtin(lang)) return builtin_info(lang);
        }
        return std::nullopt;
    }

    Result<VoiceInfo> resolve(const std::string& name) const {
        if (name.empty()) return *lookup(default_id);
        std::string id = name;
        for (const auto& [alias, target] : options.aliases) {
            if (alias == name) {
                id = target;
                break;
            }
        }
        if (auto v = lookup(id)) return *v;
        return make_error(fmt::format("unknown voice '{}'", name));
    }

    Result<const Voice*> voice_for(const VoiceInfo& info) const {
        if (info.kind == "piper") {
            for (const auto& p : piper) {
                if (p->info().id == info.id) return static_cast<const Voice*>(p.get());
            }
            return make_error(fmt::format("unknown voice '{}'", info.id));
        }
        std::lock_guard lock(builtin_mutex);
        auto& slot = builtin[info.language];
        if (!slot) {
            auto v = EspeakVoice::create(info.language);
            if (!v) return v.error();
            slot = std::move(*v);
        }
        return static_cast<const Voice*>(slot.get());
    }
};

namespace {

// espeak-ng treats some control characters as embedded commands; user text never means
// that, so C0 controls other than tab and newlines become spaces.
std::string without_control_characters(const std::string& text) {
    std::string out = text;
    for (char& c : out) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 && c != '\n' && c != '\r' && c != '\t') c = ' ';
        if (b == 0x7F) c = ' ';
    }
    return out;
}

Result<void> check_scale(const char* name, const std::optional<float>& v, float min, float max) {
    if (v && !(std::isfinite(*v) && *v >= min && *v <= max)) {
        return make_error(fmt::format("{} must be between {} and {}", name, min, max));
    }
    return {};
}

// The voices OpenAI's names are spread over (see SpeechServiceOptions::aliases).
std::vector<std::string> alias_targets(const SpeechService::Impl& impl) {
    std::vector<std::string> out;
    for (const auto& p : impl.piper) out.push_back(p->info().id);
    if (!out.empty()) return out;
    for (const char* lang : {"en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-us-nyc", "en-029", "en-gb-x-gbclan",
                             "en-gb-x-gbcwmd"}) {
        if (impl.has_builtin(lang)) out.push_back(std::string(kBuiltinPrefix) + lang);
    }
    if (out.empty()) out.push_back(impl.default_id);
    return out;
}

void add_default_aliases(SpeechService::Impl& impl) {
    const auto targets = alias_targets(impl);
    const auto& names = openai_voice_names();
    for (size_t i = 0; i < names.size(); ++i) {
        const std::string& name = names[i];
        const bool configured = std::any_of(impl.options.aliases.begin(), impl.options.aliases.end(),
                                            [&](const auto& a) { return a.first == name; });
        if (configured || impl.lookup(name)) continue;
        impl.options.aliases.emplace_back(name, i == 0 ? impl.default_id : targets[i % targets.size()]);
    }
}

}  // namespace

const std::vector<std::string>& openai_voice_names() {
    static const std::vector<std::string> names = {"alloy", "ash",   "ballad",  "coral", "echo",  "fable", "onyx",
                                                   "nova",  "sage",  "shimmer", "verse", "marin", "cedar"};
    return names;
}

SpeechService::SpeechService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpeechService::~SpeechService() = default;

Result<std::unique_ptr<SpeechService>> SpeechService::create(const SpeechServiceOptions& options) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    {
        std::lock_guard lock(espeak_mutex());
        auto rate = ensure_espeak_initialized_locked();
        if (!rate) return rate.error();
        impl->espeak_rate = *rate;
    }
    impl->espeak_langs = espeak_languages();

    if (!options.voices_dir.empty()) {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (!fs::is_directory(options.voices_dir, ec)) {
            return make_error(fmt::format("voices directory {} does not exist", options.voices_dir));
        }
        std::vector<fs::path> models;
        for (const auto& e : fs::directory_iterator(options.voices_dir, ec)) {
            if (e.path().extension() == ".onnx" && fs::exists(e.path().string() + ".json")) models.push_back(e.path());
        }
        std::sort(models.begin(), models.end());
        for (const auto& m : models) {
            auto v = PiperVoice::open(m.string(), m.stem().string(), options.n_threads);
            if (!v) {
                // One broken voice must not take the others down; say why it is missing.
                std::fprintf(stderr, "warning: skipping voice %s: %s\n", m.string().c_str(), v.error().message.c_str());
                continue;
            }
            impl->piper.push_back(std::move(*v));
        }
    }

    if (!options.default_voice.empty()) {
        impl->default_id = options.default_voice;  // resolved below, so aliases work too
        auto v = impl->resolve(options.default_voice);
        if (!v) return make_error(fmt::format("default voice: {}", v.error().message));
        impl->default_id = v->id;
    } else if (!impl->piper.empty()) {
        impl->default_id = impl->piper.front()->info().id;
    } else {
        impl->default_id = std::string(kBuiltinPrefix) + kDefaultBuiltinLanguage;
        if (!impl->lookup(impl->default_id)) return make_error("espeak-ng has no en-us voice");
    }
    for (const auto& [alias, target] : options.aliases) {
        if (!impl->lookup(target)) return make_error(fmt::format("alias '{}' names unknown voice '{}'", alias, target));
    }
    add_default_aliases(*impl);
    return std::unique_ptr<SpeechService>(new SpeechService(std::move(impl)));
}

std::vector<VoiceInfo> SpeechService::voices() const {
    std::vector<VoiceInfo> out;
    for (const auto& p : impl_->piper) out.push_back(p->info());
    for (const auto& lang : impl_->espeak_langs) out.push_back(impl_->builtin_info(lang));
    return out;
}

const std::vector<std::pair<std::string, std::string>>& SpeechService::aliases() const {
    return impl_->options.aliases;
}

Result<VoiceInfo> SpeechService::find_voice(const std::string& name_or_alias) const {
    return impl_->resolve(name_or_alias);
}

namespace {

class VoiceSession final : public SpeechSession {
public:
    VoiceSession(VoiceInfo info, const Voice* voice, SynthesisOptions options, std::unique_ptr<AudioEncoder> encoder,
                 std::unique_ptr<Resampler> resampler, int output_rate)
        : info_(std::move(info)),
          voice_(voice),
          options_(options),
          encoder_(std::move(encoder)),
          resampler_(std::move(resampler)) {
        stats_.sample_rate = output_rate;
    }

    Result<void> speak(std::string_view text, const AudioSink& on_audio) override {
        auto utterances = voice_->split(without_control_characters(std::string(text)));
        if (!utterances) return utterances.error();
        for (const auto& u : *utterances) {
            auto audio = voice_->synthesize(u, options_);
            if (!audio) return audio.error();
            auto more = deliver(audio->samples, false, on_audio);
            if (!more) return more.error();
            if (!*more) return {};  // the listener left
        }
        return {};
    }

    Result<void> finish(const AudioSink& on_audio) override {
        auto more = deliver({}, true, on_audio);
        if (!more) return more.error();
        return {};
    }

    SpeechStats stats() const override { return stats_; }
    const VoiceInfo& voice() const override { return info_; }

private:
    // Resamples and encodes `samples` (at the end, the tails too); false: stop.
    Result<bool> deliver(std::span<const float> samples, bool last, const AudioSink& on_audio) {
        std::span<const float> pcm = samples;
        if (resampler_) {
            resampled_.clear();
            if (auto r = resampler_->process(samples, resampled_); !r) return r.error();
            if (last) {
                if (auto r = resampler_->flush(resampled_); !r) return r.error();
            }
            pcm = resampled_;
        }
        bytes_.clear();
        if (!pcm.empty()) {
            if (auto r = encoder_->write(pcm, bytes_); !r) return r.error();
        }
        if (last) {
            if (auto r = encoder_->finish(bytes_); !r) return r.error();
        }
        stats_.samples += pcm.size();
        if (bytes_.empty()) return true;
        return on_audio(bytes_);
    }

    VoiceInfo info_;
    const Voice* voice_;
    SynthesisOptions options_;
    std::unique_ptr<AudioEncoder> encoder_;
    std::unique_ptr<Resampler> resampler_;
    std::vector<float> resampled_;
    std::vector<uint8_t> bytes_;
    SpeechStats stats_;
};

}  // namespace

Result<std::unique_ptr<SpeechSession>> SpeechService::open_session(const SpeechRequest& request) const {
    if (!(request.speed >= 0.25f && request.speed <= 4.0f)) {
        return make_error(fmt::format("speed must be between 0.25 and 4.0, not {}", request.speed));
    }
    if (auto r = check_scale("noise_scale", request.noise_scale, 0.0f, 10.0f); !r) return r.error();
    if (auto r = check_scale("noise_w", request.noise_w, 0.0f, 10.0f); !r) return r.error();
    if (auto r = check_scale("length_scale", request.length_scale, 0.05f, 20.0f); !r) return r.error();
    if (request.sample_rate < 0 || request.sample_rate > 384000) {
        return make_error(fmt::format("sample rate {} is out of range", request.sample_rate));
    }
    auto info = impl_->resolve(request.voice);
    if (!info) return info.error();
    auto voice = impl_->voice_for(*info);
    if (!voice) return voice.error();
    if (request.speaker_id && (*request.speaker_id < 0 || *request.speaker_id >= info->num_speakers)) {
        return make_error(fmt::format("voice '{}' has speakers 0..{}, not {}", info->id, info->num_speakers - 1,
                                      *request.speaker_id));
    }
    const int rate = request.sample_rate > 0 ? request.sample_rate : info->sample_rate;
    std::unique_ptr<Resampler> resampler;
    if (rate != info->sample_rate) {
        auto r = Resampler::create(info->sample_rate, rate);
        if (!r) return r.error();
        resampler = std::move(*r);
    }
    auto encoder = make_audio_encoder(request.format, rate);
    if (!encoder) return encoder.error();
    SynthesisOptions options;
    options.speed = request.speed;
    options.speaker_id = request.speaker_id;
    options.noise_scale = request.noise_scale;
    options.length_scale = request.length_scale;
    options.noise_w = request.noise_w;
    return std::unique_ptr<SpeechSession>(
        new VoiceSession(*info, *voice, options, std::move(*encoder), std::move(resampler), rate));
}

Result<void> SpeechService::synthesize(const SpeechRequest& request, const AudioSink& on_audio) const {
    Stats stats;
    return synthesize(request, on_audio, stats);
}

Result<void> SpeechService::synthesize(const SpeechRequest& request, const AudioSink& on_audio, Stats& stats) const {
    stats = {};
    if (request.text.find_first_not_of(" \t\r\n") == std::string::npos) return make_error("empty text");
    auto session = open_session(request);
    if (!session) return session.error();
    bool listening = true;
    const AudioSink sink = [&](std::span<const uint8_t> bytes) { return listening = on_audio(bytes); };
    auto spoken = (*session)->speak(request.text, sink);
    if (spoken && listening) spoken = (*session)->finish(sink);
    stats = (*session)->stats();
    return spoken;
}

Result<std::vector<uint8_t>> SpeechService::synthesize_all(const SpeechRequest& request) const {
    std::vector<uint8_t> all;
    Stats stats;
    auto r = synthesize(
        request,
        [&](std::span<const uint8_t> chunk) {
            all.insert(all.end(), chunk.begin(), chunk.end());
            return true;
        },
        stats);
    if (!r) return r.error();
    // Whole files get the lengths a stream cannot know up front.
    if (request.format == AudioFormat::Wav) set_wav_sizes(all);
    if (request.format == AudioFormat::Flac) set_flac_total_samples(all, stats.samples);
    return all;
}

Result<std::vector<std::string>> SpeechService::phonemize(const std::string& text, const std::string& voice) const {
    auto info = impl_->resolve(voice);
    if (!info) return info.error();
    const std::string clean = without_control_characters(text);
    Result<std::vector<Phonemes>> sentences = make_error("no phonemes");
    if (info->kind == "piper") {
        auto v = impl_->voice_for(*info);
        if (!v) return v.error();
        const auto& config = static_cast<const PiperVoice*>(*v)->config();
        sentences = phonemize_espeak(config.espeak_voice, clean, &config.phoneme_map);
    } else {
        sentences = phonemize_espeak(info->language, clean);
    }
    if (!sentences) return sentences.error();
    std::vector<std::string> out;
    for (const auto& s : *sentences) out.push_back(u32_to_utf8(s));
    return out;
}

}  // namespace hearth::tts
