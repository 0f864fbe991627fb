#include "tts/audio_encoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tts/audio_encoder_impl.h"

namespace hearth::tts {

std::optional<AudioFormat> parse_audio_format(const std::string& name) {
    if (name == "wav") return AudioFormat::Wav;
    if (name == "pcm") return AudioFormat::Pcm;
    if (name == "flac") return AudioFormat::Flac;
    if (name == "mp3") return AudioFormat::Mp3;
    if (name == "opus") return AudioFormat::Opus;
    return std::nullopt;
}

const char* audio_format_mime(AudioFormat f) {
    switch (f) {
        case AudioFormat::Wav: return "audio/wav";
        case AudioFormat::Pcm: return "audio/pcm";
        case AudioFormat::Flac: return "audio/flac";
        case AudioFormat::Mp3: return "audio/mpeg";
        case AudioFormat::Opus: return "audio/ogg";
    }
    return "application/octet-stream";
}

int16_t float_to_s16(float x) {
    if (!(x == x)) return 0;  // NaN
    const float clipped = std::clamp(x, -1.0f, 1.0f);
    return static_cast<int16_t>(std::lround(clipped * 32767.0f));
}

namespace {

void put_u32(std::span<uint8_t> v, size_t at, uint32_t x) {
    for (int i = 0; i < 4; ++i) v[at + i] = static_cast<uint8_t>(x >> (8 * i));
}
void append_u32(std::vector<uint8_t>& v, uint32_t x) {
    for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
void append_u16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x));
    v.push_back(static_cast<uint8_t>(x >> 8));
}
void append_tag(std::vector<uint8_t>& v, const char* tag) { v.insert(v.end(), tag, tag + 4); }

void append_s16(std::span<const float> samples, std::vector<uint8_t>& out) {
    out.reserve(out.size() + samples.size() * 2);
    for (float s : samples) append_u16(out, static_cast<uint16_t>(float_to_s16(s)));
}

// Raw 16-bit little-endian PCM, optionally preceded by a streaming wav header.
class PcmEncoder final : public AudioEncoder {
public:
    PcmEncoder(int sample_rate, bool wav) : sample_rate_(sample_rate), header_pending_(wav) {}
    Result<void> write(std::span<const float> samples, std::vector<uint8_t>& out) override {
        emit_header(out);
        append_s16(samples, out);
        return {};
    }
    Result<void> finish(std::vector<uint8_t>& out) override {
        emit_header(out);
        return {};
    }

private:
    void emit_header(std::vector<uint8_t>& out) {
        if (!header_pending_) return;
        header_pending_ = false;
        const auto h = wav_header(sample_rate_, std::nullopt);
        out.insert(out.end(), h.begin(), h.end());
    }
    int sample_rate_;
    bool header_pending_;
};

}  // namespace

std::vector<uint8_t> wav_header(int sample_rate, std::optional<uint32_t> data_bytes) {
    std::vector<uint8_t> h;
    h.reserve(44);
    append_tag(h, "RIFF");
    append_u32(h, data_bytes ? *data_bytes + 36 : 0xFFFFFFFFu);
    append_tag(h, "WAVE");
    append_tag(h, "fmt ");
    append_u32(h, 16);                                      // fmt chunk size
    append_u16(h, 1);                                       // PCM
    append_u16(h, 1);                                       // mono
    append_u32(h, static_cast<uint32_t>(sample_rate));
    append_u32(h, static_cast<uint32_t>(sample_rate) * 2);  // byte rate
    append_u16(h, 2);                                       // block align
    append_u16(h, 16);                                      // bits per sample
    append_tag(h, "data");
    append_u32(h, data_bytes ? *data_bytes : 0xFFFFFFFFu);
    return h;
}

void set_wav_sizes(std::span<uint8_t> header, uint64_t file_bytes) {
    if (header.size() < 44 || file_bytes < 44) return;
    const auto data = static_cast<uint32_t>(file_bytes - 44);
    put_u32(header, 4, data + 36);
    put_u32(header, 40, data);
}

void set_wav_sizes(std::vector<uint8_t>& wav) { set_wav_sizes(wav, wav.size()); }

Result<std::unique_ptr<AudioEncoder>> make_audio_encoder(AudioFormat format, int sample_rate) {
    if (sample_rate <= 0 || sample_rate > 768000) return make_error(fmt::format("bad sample rate {}", sample_rate));
    switch (format) {
        case AudioFormat::Wav: return std::unique_ptr<AudioEncoder>(new PcmEncoder(sample_rate, true));
        case AudioFormat::Pcm: return std::unique_ptr<AudioEncoder>(new PcmEncoder(sample_rate, false));
        case AudioFormat::Flac: return detail::make_flac_encoder(sample_rate);
        case AudioFormat::Mp3: return detail::make_mp3_encoder(sample_rate);
        case AudioFormat::Opus: return detail::make_opus_encoder(sample_rate);
    }
    return make_error("unknown audio format");
}

}  // namespace hearth::tts
