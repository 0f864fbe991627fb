// MP3 via LAME, mono CBR. MP3 only has a fixed set of sample rates; other input rates are
// resampled (soxr) to the next higher allowed rate, or 48 kHz.
#include <fmt/format.h>
#include <lame/lame.h>

#include <array>

#include "tts/audio_encoder_impl.h"
#include "tts/resampler.h"

namespace hearth::tts::detail {

namespace {

constexpr std::array<int, 9> kMp3Rates = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};

int mp3_rate_for(int rate) {
    for (int r : kMp3Rates) {
        if (r >= rate) return r;
    }
    return 48000;
}

class Mp3Encoder final : public AudioEncoder {
public:
    ~Mp3Encoder() override {
        if (lame_ != nullptr) lame_close(lame_);
    }

    Result<void> init(int sample_rate) {
        const int rate = mp3_rate_for(sample_rate);
        if (rate != sample_rate) {
            auto r = Resampler::create(sample_rate, rate);
            if (!r) return r.error();
            resampler_ = std::move(*r);
        }
        lame_ = lame_init();
        if (lame_ == nullptr) return make_error("LAME: out of memory");
        lame_set_in_samplerate(lame_, rate);
        lame_set_out_samplerate(lame_, rate);
        lame_set_num_channels(lame_, 1);
        lame_set_mode(lame_, MONO);
        lame_set_brate(lame_, rate >= 32000 ? 64 : 48);
        lame_set_quality(lame_, 5);
        lame_set_write_id3tag_automatic(lame_, 0);
        lame_set_bWriteVbrTag(lame_, 0);  // no Xing frame: streaming can't go back to fill it
        if (lame_init_params(lame_) < 0) return make_error(fmt::format("LAME: cannot encode at {} Hz", rate));
        return {};
    }

    Result<void> write(std::span<const float> samples, std::vector<uint8_t>& out) override {
        if (resampler_) {
            resampled_.clear();
            if (auto r = resampler_->process(samples, resampled_); !r) return r;
            return encode(resampled_, out);
        }
        return encode(samples, out);
    }

    Result<void> finish(std::vector<uint8_t>& out) override {
        if (resampler_) {
            resampled_.clear();
            if (auto r = resampler_->flush(resampled_); !r) return r;
            if (auto r = encode(resampled_, out); !r) return r;
        }
        std::array<unsigned char, 7200> tail;
        const int n = lame_encode_flush(lame_, tail.data(), static_cast<int>(tail.size()));
        if (n < 0) return make_error(fmt::format("LAME: flush failed ({})", n));
        out.insert(out.end(), tail.begin(), tail.begin() + n);
        return {};
    }

private:
    Result<void> encode(std::span<const float> samples, std::vector<uint8_t>& out) {
        constexpr size_t kBlock = 8192;
        for (size_t at = 0; at < samples.size(); at += kBlock) {
            const size_t n = std::min(kBlock, samples.size() - at);
            pcm_.resize(n);
            for (size_t i = 0; i < n; ++i) pcm_[i] = float_to_s16(samples[at + i]);
            mp3_.resize(n * 5 / 4 + 7200);  // LAME's documented worst case
            const int bytes = lame_encode_buffer(lame_, pcm_.data(), pcm_.data(), static_cast<int>(n), mp3_.data(),
                                                 static_cast<int>(mp3_.size()));
            if (bytes < 0) return make_error(fmt::format("LAME: encoding failed ({})", bytes));
            out.insert(out.end(), mp3_.begin(), mp3_.begin() + bytes);
        }
        return {};
    }

    lame_global_flags* lame_ = nullptr;
    std::unique_ptr<Resampler> resampler_;
    std::vector<float> resampled_;
    std::vector<short> pcm_;
    std::vector<unsigned char> mp3_;
};

}  // namespace

Result<std::unique_ptr<AudioEncoder>> make_mp3_encoder(int sample_rate) {
    auto e = std::make_unique<Mp3Encoder>();
    if (auto r = e->init(sample_rate); !r) return r.error();
    return std::unique_ptr<AudioEncoder>(std::move(e));
}

}  // namespace hearth::tts::detail
