// Streaming audio encoders: mono float samples in, encoded bytes out as they are ready.
// wav (16-bit PCM; streamed with unknown sizes 0xFFFFFFFF, fixable afterwards), raw pcm
// s16le, FLAC (libFLAC), MP3 (LAME; resampled to a rate MP3 allows when needed) and Opus in
// Ogg (libopusenc, always at 48 kHz, resampled with soxr).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "tts/speech_service.h"

namespace hearth::tts {

class AudioEncoder {
public:
    virtual ~AudioEncoder() = default;
    // Appends whatever encoded bytes are ready to `out`.
    virtual Result<void> write(std::span<const float> samples, std::vector<uint8_t>& out) = 0;
    // Flushes the rest (trailers, final pages). No writes after this.
    virtual Result<void> finish(std::vector<uint8_t>& out) = 0;
};

// Errors for bad sample rates (must be 1..768000) or encoder setup failures.
Result<std::unique_ptr<AudioEncoder>> make_audio_encoder(AudioFormat format, int sample_rate);

// 44-byte RIFF/WAVE header for mono 16-bit PCM. Without data_bytes the RIFF and data chunk
// sizes are 0xFFFFFFFF ("unknown", for streaming).
std::vector<uint8_t> wav_header(int sample_rate, std::optional<uint32_t> data_bytes);
// Fills in the sizes of a complete wav file produced with an unknown-size header.
void set_wav_sizes(std::vector<uint8_t>& wav);
// The same for a file of `file_bytes` bytes of which `header` holds the first 44 (a file
// written as it streamed).
void set_wav_sizes(std::span<uint8_t> header, uint64_t file_bytes);

// Writes the total sample count into the STREAMINFO of a complete FLAC stream produced by
// the streaming encoder (which has to leave it 0, "unknown"). `flac` needs only the first
// 42 bytes. No-op on anything else.
void set_flac_total_samples(std::span<uint8_t> flac, uint64_t total_samples);

// Float [-1, 1] to signed 16-bit with clipping and rounding.
int16_t float_to_s16(float x);

}  // namespace hearth::tts
