// Constructors of the individual encoders behind make_audio_encoder (one file each).
#pragma once

#include <memory>

#include "tts/audio_encoder.h"

namespace hearth::tts::detail {

Result<std::unique_ptr<AudioEncoder>> make_flac_encoder(int sample_rate);
Result<std::unique_ptr<AudioEncoder>> make_mp3_encoder(int sample_rate);
Result<std::unique_ptr<AudioEncoder>> make_opus_encoder(int sample_rate);

}  // namespace hearth::tts::detail
