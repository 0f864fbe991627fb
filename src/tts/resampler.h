// Streaming sample-rate conversion (soxr, high quality), mono float.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "base/result.h"

namespace hearth::tts {

class Resampler {
public:
    static Result<std::unique_ptr<Resampler>> create(int input_rate, int output_rate);
    ~Resampler();
    // Appends the output available so far; call flush() once at the end for the tail.
    Result<void> process(std::span<const float> in, std::vector<float>& out);
    Result<void> flush(std::vector<float>& out);

    int input_rate() const { return input_rate_; }
    int output_rate() const { return output_rate_; }

private:
    Resampler(void* soxr, int input_rate, int output_rate) : soxr_(soxr), input_rate_(input_rate), output_rate_(output_rate) {}
    void* soxr_;
    int input_rate_, output_rate_;
};

}  // namespace hearth::tts
