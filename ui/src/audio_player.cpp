#include "audio_player.h"

#include <algorithm>
#include <cstdint>

namespace hearth::ui {

void AudioPlayer::prepare() {
    if (context_.isUndefined()) {
        val options = val::object();
        options.set("sampleRate", sample_rate_);
        context_ = val::global("AudioContext").new_(options);
    }
    if (context_["state"].as<std::string>() == "suspended") context_.call<val>("resume");
}

void AudioPlayer::push(const std::string& pcm16) {
    if (context_.isUndefined()) prepare();
    const std::string bytes = odd_byte_ + pcm16;
    const size_t frames = bytes.size() / 2;
    odd_byte_ = bytes.substr(frames * 2);
    if (frames == 0) return;
    std::vector<float> samples(frames);
    for (size_t i = 0; i < frames; ++i) {
        const auto lo = static_cast<uint8_t>(bytes[2 * i]), hi = static_cast<uint8_t>(bytes[2 * i + 1]);
        samples[i] = static_cast<int16_t>(uint16_t(lo | hi << 8)) / 32768.0f;
    }
    val buffer = context_.call<val>("createBuffer", 1, static_cast<int>(frames), sample_rate_);
    buffer.call<void>("copyToChannel", val(emscripten::typed_memory_view(frames, samples.data())), 0);
    val source = context_.call<val>("createBufferSource");
    source.set("buffer", buffer);
    source.call<void>("connect", context_["destination"]);
    // A small lead on the first piece, then each piece right after the one before.
    const double now = context_["currentTime"].as<double>();
    const double start = std::max(now + 0.05, next_start_);
    source.call<void>("start", start);
    next_start_ = start + static_cast<double>(frames) / sample_rate_;
    seconds_queued_ += static_cast<double>(frames) / sample_rate_;
    sources_.erase(std::remove_if(sources_.begin(), sources_.end(),
                                  [&](const val& s) { return s["hearthEnd"].as<double>() < now; }),
                   sources_.end());
    source.set("hearthEnd", next_start_);
    sources_.push_back(source);
}

void AudioPlayer::stop() {
    for (auto& s : sources_) s.call<void>("stop");
    sources_.clear();
    next_start_ = 0;
    seconds_queued_ = 0;
    odd_byte_.clear();
}

}  // namespace hearth::ui
