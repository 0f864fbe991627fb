// FLAC via libFLAC's stream encoder writing through a callback (no seeking, so the
// STREAMINFO total-samples field stays 0 = unknown, which decoders accept).
#include <FLAC/stream_encoder.h>
#include <fmt/format.h>

#include "tts/audio_encoder_impl.h"

namespace hearth::tts::detail {

namespace {

class FlacEncoder final : public AudioEncoder {
public:
    ~FlacEncoder() override {
        if (encoder_ != nullptr) FLAC__stream_encoder_delete(encoder_);
    }

    Result<void> init(int sample_rate) {
        encoder_ = FLAC__stream_encoder_new();
        if (encoder_ == nullptr) return make_error("FLAC: out of memory");
        bool ok = FLAC__stream_encoder_set_channels(encoder_, 1) &&
                  FLAC__stream_encoder_set_bits_per_sample(encoder_, 16) &&
                  FLAC__stream_encoder_set_sample_rate(encoder_, static_cast<unsigned>(sample_rate)) &&
                  FLAC__stream_encoder_set_compression_level(encoder_, 5) &&
                  FLAC__stream_encoder_set_streamable_subset(encoder_, sample_rate <= 655350);
        if (!ok) return make_error("FLAC: bad encoder settings");
        const auto status = FLAC__stream_encoder_init_stream(encoder_, &FlacEncoder::on_write, nullptr, nullptr,
                                                             nullptr, this);
        if (status != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
            return make_error(fmt::format("FLAC: {}", FLAC__StreamEncoderInitStatusString[status]));
        }
        // The stream header goes out with the first write (libFLAC writes it during init).
        return {};
    }

    Result<void> write(std::span<const float> samples, std::vector<uint8_t>& out) override {
        take_pending(out);
        std::vector<FLAC__int32> ints(samples.size());
        for (size_t i = 0; i < samples.size(); ++i) ints[i] = float_to_s16(samples[i]);
        sink_ = &out;
        const bool ok = ints.empty() ||
                        FLAC__stream_encoder_process_interleaved(encoder_, ints.data(), static_cast<unsigned>(ints.size()));
        sink_ = nullptr;
        if (!ok) return make_error("FLAC: encoding failed");
        return {};
    }

    Result<void> finish(std::vector<uint8_t>& out) override {
        take_pending(out);
        sink_ = &out;
        const bool ok = FLAC__stream_encoder_finish(encoder_);
        sink_ = nullptr;
        if (!ok) return make_error("FLAC: finishing failed");
        return {};
    }

private:
    void take_pending(std::vector<uint8_t>& out) {
        out.insert(out.end(), pending_.begin(), pending_.end());
        pending_.clear();
    }

    static FLAC__StreamEncoderWriteStatus on_write(const FLAC__StreamEncoder*, const FLAC__byte buffer[], size_t bytes,
                                                   uint32_t, uint32_t, void* client) {
        auto* self = static_cast<FlacEncoder*>(client);
        auto& dst = self->sink_ ? *self->sink_ : self->pending_;
        dst.insert(dst.end(), buffer, buffer + bytes);
        return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
    }

    FLAC__StreamEncoder* encoder_ = nullptr;
    std::vector<uint8_t>* sink_ = nullptr;
    std::vector<uint8_t> pending_;  // written outside write()/finish(), i.e. during init
};

}  // namespace

Result<std::unique_ptr<AudioEncoder>> make_flac_encoder(int sample_rate) {
    auto e = std::make_unique<FlacEncoder>();
    if (auto r = e->init(sample_rate); !r) return r.error();
    return std::unique_ptr<AudioEncoder>(std::move(e));
}

}  // namespace hearth::tts::detail

namespace hearth::tts {

void set_flac_total_samples(std::span<uint8_t> flac, uint64_t total) {
    // "fLaC", then the STREAMINFO block header (type 0) and its 34 bytes; the 36-bit total
    // sample count is the low nibble of STREAMINFO byte 13 and bytes 14..17, big-endian.
    constexpr size_t kInfo = 8;
    if (flac.size() < kInfo + 34 || flac[0] != 'f' || flac[1] != 'L' || flac[2] != 'a' || flac[3] != 'C') return;
    if ((flac[4] & 0x7F) != 0 || total >= (uint64_t{1} << 36)) return;
    flac[kInfo + 13] = static_cast<uint8_t>((flac[kInfo + 13] & 0xF0) | ((total >> 32) & 0x0F));
    for (int i = 0; i < 4; ++i) flac[kInfo + 14 + i] = static_cast<uint8_t>(total >> (8 * (3 - i)));
}

}  // namespace hearth::tts
