#include "tts/resampler.h"

#include <fmt/format.h>
#include <soxr.h>

namespace hearth::tts {

Result<std::unique_ptr<Resampler>> Resampler::create(int input_rate, int output_rate) {
    if (input_rate <= 0 || output_rate <= 0) {
        return make_error(fmt::format("bad resampling rates {} -> {}", input_rate, output_rate));
    }
    soxr_error_t err = nullptr;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    soxr_t s = soxr_create(input_rate, output_rate, 1, &err, &io, &quality, nullptr);
    if (err != nullptr || s == nullptr) return make_error(fmt::format("soxr: {}", err ? err : "create failed"));
    return std::unique_ptr<Resampler>(new Resampler(s, input_rate, output_rate));
}

Resampler::~Resampler() { soxr_delete(static_cast<soxr_t>(soxr_)); }

Result<void> Resampler::process(std::span<const float> in, std::vector<float>& out) {
    auto* s = static_cast<soxr_t>(soxr_);
    size_t consumed_total = 0;
    // soxr may not take all input at once when the output buffer is small: loop.
    while (consumed_total < in.size()) {
        const size_t remaining = in.size() - consumed_total;
        const size_t capacity = static_cast<size_t>(static_cast<double>(remaining) * output_rate_ / input_rate_) + 64;
        const size_t old = out.size();
        out.resize(old + capacity);
        size_t idone = 0, odone = 0;
        soxr_error_t err = soxr_process(s, in.data() + consumed_total, remaining, &idone, out.data() + old, capacity, &odone);
        out.resize(old + odone);
        if (err != nullptr) return make_error(fmt::format("soxr: {}", err));
        consumed_total += idone;
        if (idone == 0 && odone == 0) break;
    }
    return {};
}

Result<void> Resampler::flush(std::vector<float>& out) {
    auto* s = static_cast<soxr_t>(soxr_);
    for (int guard = 0; guard < 1000; ++guard) {
        const size_t old = out.size();
        constexpr size_t kChunk = 4096;
        out.resize(old + kChunk);
        size_t odone = 0;
        soxr_error_t err = soxr_process(s, nullptr, 0, nullptr, out.data() + old, kChunk, &odone);
        out.resize(old + odone);
        if (err != nullptr) return make_error(fmt::format("soxr: {}", err));
        if (odone == 0) break;
    }
    return {};
}

}  // namespace hearth::tts
