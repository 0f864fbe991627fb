#include "tts/piper_voice.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "onnx/onnx_session.h"
#include "tts/unicode_text.h"

namespace hearth::tts {

namespace {

Result<float> number_field(const nlohmann::json& obj, const char* name, float fallback) {
    if (!obj.contains(name)) return fallback;
    if (!obj[name].is_number()) return make_error(fmt::format("inference.{} must be a number", name));
    return obj[name].get<float>();
}

}  // namespace

Result<PiperConfig> parse_piper_config(const nlohmann::json& j) {
    if (!j.is_object()) return make_error("voice config must be a JSON object");
    PiperConfig c;
    if (j.contains("phoneme_type") && j["phoneme_type"] != "espeak") {
        return make_error(fmt::format("unsupported phoneme_type {} (only \"espeak\")", j["phoneme_type"].dump()));
    }
    if (j.contains("audio")) {
        const auto& a = j["audio"];
        if (a.contains("sample_rate")) {
            if (!a["sample_rate"].is_number_integer() || a["sample_rate"].get<int64_t>() <= 0 ||
                a["sample_rate"].get<int64_t>() > 384000) {
                return make_error("audio.sample_rate must be a positive integer");
            }
            c.sample_rate = a["sample_rate"].get<int>();
        }
    }
    if (j.contains("espeak") && j["espeak"].contains("voice")) {
        if (!j["espeak"]["voice"].is_string()) return make_error("espeak.voice must be a string");
        c.espeak_voice = j["espeak"]["voice"].get<std::string>();
    }
    if (j.contains("inference")) {
        const auto& inf = j["inference"];
        if (!inf.is_object()) return make_error("inference must be an object");
        auto ns = number_field(inf, "noise_scale", c.noise_scale);
        auto ls = number_field(inf, "length_scale", c.length_scale);
        auto nw = number_field(inf, "noise_w", c.noise_w);
        if (!ns) return ns.error();
        if (!ls) return ls.error();
        if (!nw) return nw.error();
        c.noise_scale = *ns, c.length_scale = *ls, c.noise_w = *nw;
    }
    if (j.contains("num_speakers")) {
        if (!j["num_speakers"].is_number_integer() || j["num_speakers"].get<int64_t>() < 1) {
            return make_error("num_speakers must be a positive integer");
        }
        c.num_speakers = j["num_speakers"].get<int>();
    }
    if (j.contains("speaker_id_map")) {
        if (!j["speaker_id_map"].is_object()) return make_error("speaker_id_map must be an object");
        for (const auto& [name, id] : j["speaker_id_map"].items()) {
            if (!id.is_number_integer()) return make_error("speaker_id_map values must be integers");
            c.speaker_id_map[name] = id.get<int>();
        }
    }
    if (!j.contains("phoneme_id_map")) return make_error("voice config has no phoneme_id_map");
    auto ids = parse_phoneme_id_map(j["phoneme_id_map"]);
    if (!ids) return ids.error();
    c.phoneme_id_map = std::move(*ids);
    if (const PhonemeMap* d = default_phoneme_map(c.espeak_voice)) c.phoneme_map = *d;
    if (j.contains("phoneme_map")) {
        if (!j["phoneme_map"].is_object()) return make_error("phoneme_map must be an object");
        for (const auto& [from, to] : j["phoneme_map"].items()) {
            const auto key = nfd(utf8_to_u32(from));
            if (key.size() != 1 || !to.is_array()) continue;
            Phonemes seq;
            for (const auto& p : to) {
                if (p.is_string()) seq += nfd(utf8_to_u32(p.get<std::string>()));
            }
            c.phoneme_map[key[0]] = seq;
        }
    }
    return c;
}

Result<PiperConfig> load_piper_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(fmt::format("cannot open voice config {}", path));
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return make_error(fmt::format("{} is not valid JSON", path));
    auto c = parse_piper_config(j);
    if (!c) return make_error(fmt::format("{}: {}", path, c.error().message));
    return c;
}

Result<std::unique_ptr<PiperVoice>> PiperVoice::open(const std::string& onnx_path, const std::string& id, int n_threads) {
    auto config = load_piper_config(onnx_path + ".json");
    if (!config) return config.error();
    std::unique_ptr<PiperVoice> v(new PiperVoice());
    v->config_ = std::move(*config);
    v->onnx_path_ = onnx_path;
    v->n_threads_ = n_threads;
    v->info_.id = id;
    v->info_.kind = "piper";
    v->info_.language = v->config_.espeak_voice;
    v->info_.sample_rate = v->config_.sample_rate;
    v->info_.num_speakers = v->config_.num_speakers;
    return v;
}

PiperVoice::~PiperVoice() = default;

Result<void> PiperVoice::load() const {
    std::lock_guard lock(mutex_);
    if (session_) return {};
    onnx::SessionOptions options;
    options.n_threads = n_threads_;
    auto s = onnx::Session::load(onnx_path_, options);
    if (!s) return make_error(fmt::format("voice '{}': {}", info_.id, s.error().message));
    bool has_input = false, has_lengths = false, has_scales = false;
    for (const auto& in : (*s)->inputs()) {
        has_input |= in.name == "input";
        has_lengths |= in.name == "input_lengths";
        has_scales |= in.name == "scales";
        has_sid_input_ |= in.name == "sid";
    }
    if (!has_input || !has_lengths || !has_scales) {
        return make_error(fmt::format("voice '{}': model lacks Piper's inputs (input, input_lengths, scales)", info_.id));
    }
    if ((*s)->outputs().empty()) return make_error(fmt::format("voice '{}': model has no outputs", info_.id));
    session_ = std::move(*s);
    return {};
}

Result<std::vector<Utterance>> PiperVoice::split(const std::string& text) const {
    auto sentences = phonemize_espeak(config_.espeak_voice, text, &config_.phoneme_map);
    if (!sentences) return sentences.error();
    std::vector<Utterance> out;
    for (auto& s : *sentences) {
        if (s.empty()) continue;  // e.g. a trailing quote after the last period
        out.push_back({{}, std::move(s)});
    }
    return out;
}

Result<AudioChunk> PiperVoice::synthesize(const Utterance& utterance, const SynthesisOptions& options) const {
    if (auto r = load(); !r) return r.error();
    int speaker = 0;
    if (options.speaker_id) {
        if (*options.speaker_id < 0 || *options.speaker_id >= config_.num_speakers) {
            return make_error(fmt::format("voice '{}' has speakers 0..{}, not {}", info_.id, config_.num_speakers - 1,
                                          *options.speaker_id));
        }
        speaker = *options.speaker_id;
    }
    auto ids = phonemes_to_ids(utterance.phonemes, config_.phoneme_id_map);
    if (!ids) return ids.error();
    const auto n = static_cast<int64_t>(ids->ids.size());
    const float speed = options.speed > 0 ? options.speed : 1.0f;
    const float scales[3] = {options.noise_scale.value_or(config_.noise_scale),
                             options.length_scale.value_or(config_.length_scale) / speed,
                             options.noise_w.value_or(config_.noise_w)};
    const int64_t length = n;
    std::vector<std::pair<std::string, onnx::Tensor>> inputs;
    inputs.emplace_back("input", onnx::Tensor::from_int64s({1, n}, ids->ids));
    inputs.emplace_back("input_lengths", onnx::Tensor::from_int64s({1}, std::span<const int64_t>(&length, 1)));
    inputs.emplace_back("scales", onnx::Tensor::from_floats({3}, scales));
    const int64_t sid = speaker;

    Result<std::vector<onnx::Tensor>> outputs = make_error("not run");
    {
        std::lock_guard lock(mutex_);
        if (has_sid_input_) inputs.emplace_back("sid", onnx::Tensor::from_int64s({1}, std::span<const int64_t>(&sid, 1)));
        outputs = session_->run(inputs);
    }
    if (!outputs) return make_error(fmt::format("voice '{}': {}", info_.id, outputs.error().message));
    if (outputs->empty() || (*outputs)[0].dtype != onnx::DataType::Float) {
        return make_error(fmt::format("voice '{}': model output is not float audio", info_.id));
    }
    const onnx::Tensor& audio = (*outputs)[0];
    const float* data = audio.data<float>();
    const auto count = static_cast<size_t>(audio.numel());
    // Piper scales each sentence so that its peak is full scale (peaks under 0.01 are not
    // amplified more than 100x), then appends a short silence.
    float peak = 0.0f;
    for (size_t i = 0; i < count; ++i) {
        if (std::isfinite(data[i])) peak = std::max(peak, std::abs(data[i]));
    }
    const float scale = 1.0f / std::max(0.01f, peak);
    AudioChunk chunk;
    chunk.sample_rate = config_.sample_rate;
    const auto silence = static_cast<size_t>(kSentenceSilenceSeconds * static_cast<float>(config_.sample_rate));
    chunk.samples.reserve(count + silence);
    for (size_t i = 0; i < count; ++i) chunk.samples.push_back(std::isfinite(data[i]) ? data[i] * scale : 0.0f);
    chunk.samples.resize(count + silence, 0.0f);
    return chunk;
}

}  // namespace hearth::tts
