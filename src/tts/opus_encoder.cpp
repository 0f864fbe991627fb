// Opus in Ogg via libopusenc. Opus runs at 48 kHz; input is resampled with soxr first so
// that quality does not depend on libopusenc's internal resampler.
#include <fmt/format.h>
#include <opus/opusenc.h>

#include "tts/audio_encoder_impl.h"
#include "tts/resampler.h"

namespace hearth::tts::detail {

namespace {

constexpr int kOpusRate = 48000;

class OpusEncoder final : public AudioEncoder {
public:
    ~OpusEncoder() override {
        if (encoder_ != nullptr) ope_encoder_destroy(encoder_);
    }

    Result<void> init(int sample_rate) {
        if (sample_rate != kOpusRate) {
            auto r = Resampler::create(sample_rate, kOpusRate);
            if (!r) return r.error();
            resampler_ = std::move(*r);
        }
        OggOpusComments* comments = ope_comments_create();
        if (comments == nullptr) return make_error("opus: out of memory");
        ope_comments_add(comments, "ENCODER", "hearth");
        OpusEncCallbacks callbacks{&OpusEncoder::on_write, &OpusEncoder::on_close};
        int err = OPE_OK;
        encoder_ = ope_encoder_create_callbacks(&callbacks, this, comments, kOpusRate, 1, 0, &err);
        ope_comments_destroy(comments);
        if (encoder_ == nullptr || err != OPE_OK) return make_error(fmt::format("opus: {}", ope_strerror(err)));
        // Pages go out at most 200 ms after their audio, so streams start promptly.
        ope_encoder_ctl(encoder_, OPE_SET_MUXING_DELAY(9600));
        return {};
    }

    Result<void> write(std::span<const float> samples, std::vector<uint8_t>& out) override {
        sink_ = &out;
        Result<void> r = {};
        if (!header_written_) {
            header_written_ = true;
            if (const int e = ope_encoder_flush_header(encoder_); e != OPE_OK) r = make_error(fmt::format("opus: {}", ope_strerror(e)));
        }
        if (r.ok()) r = encode(samples);
        sink_ = nullptr;
        return r;
    }

    Result<void> finish(std::vector<uint8_t>& out) override {
        sink_ = &out;
        Result<void> r = {};
        if (resampler_) {
            resampled_.clear();
            r = resampler_->flush(resampled_);
            if (r.ok()) r = feed(resampled_);
        }
        if (r.ok()) {
            if (const int e = ope_encoder_drain(encoder_); e != OPE_OK) r = make_error(fmt::format("opus: {}", ope_strerror(e)));
        }
        sink_ = nullptr;
        return r;
    }

private:
    Result<void> encode(std::span<const float> samples) {
        if (!resampler_) return feed(samples);
        resampled_.clear();
        if (auto r = resampler_->process(samples, resampled_); !r) return r;
        return feed(resampled_);
    }

    Result<void> feed(std::span<const float> samples) {
        if (samples.empty()) return {};
        const int e = ope_encoder_write_float(encoder_, samples.data(), static_cast<int>(samples.size()));
        if (e != OPE_OK) return make_error(fmt::format("opus: {}", ope_strerror(e)));
        return {};
    }

    static int on_write(void* user, const unsigned char* ptr, opus_int32 len) {
        auto* self = static_cast<OpusEncoder*>(user);
        if (self->sink_ == nullptr || len < 0) return 1;  // never happens: writes only inside write/finish
        self->sink_->insert(self->sink_->end(), ptr, ptr + len);
        return 0;
    }
    static int on_close(void*) { return 0; }

    OggOpusEnc* encoder_ = nullptr;
    std::unique_ptr<Resampler> resampler_;
    std::vector<float> resampled_;
    std::vector<uint8_t>* sink_ = nullptr;
    bool header_written_ = false;
};

}  // namespace

Result<std::unique_ptr<AudioEncoder>> make_opus_encoder(int sample_rate) {
    auto e = std::make_unique<OpusEncoder>();
    if (auto r = e->init(sample_rate); !r) return r.error();
    return std::unique_ptr<AudioEncoder>(std::move(e));
}

}  // namespace hearth::tts::detail
