// Audio encoders: exact wav bytes, FLAC decoded back bit-exact, MP3 frames and Ogg Opus
// pages parsed for sync words, headers and duration, resampling.
#include <FLAC/stream_decoder.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tts/audio_encoder.h"
#include "tts/resampler.h"

namespace {

using namespace hearth::tts;

std::vector<float> sine(int rate, double seconds, double hz = 440.0, float amp = 0.5f) {
    std::vector<float> v(static_cast<size_t>(rate * seconds));
    for (size_t i = 0; i < v.size(); ++i) v[i] = amp * static_cast<float>(std::sin(2 * M_PI * hz * i / rate));
    return v;
}

std::vector<uint8_t> encode(AudioFormat f, int rate, const std::vector<float>& samples, size_t pieces = 3) {
    auto enc = make_audio_encoder(f, rate);
    EXPECT_TRUE(enc.ok()) << (enc.ok() ? "" : enc.error().message);
    std::vector<uint8_t> out;
    const size_t step = samples.size() / pieces + 1;
    for (size_t at = 0; at < samples.size(); at += step) {
        const size_t n = std::min(step, samples.size() - at);
        EXPECT_TRUE((*enc)->write(std::span<const float>(samples.data() + at, n), out).ok());
    }
    EXPECT_TRUE((*enc)->finish(out).ok());
    return out;
}

uint32_t u32le(const std::vector<uint8_t>& v, size_t at) {
    return v[at] | (v[at + 1] << 8) | (v[at + 2] << 16) | (static_cast<uint32_t>(v[at + 3]) << 24);
}

TEST(WavEncoder, HeaderBytesExact) {
    const std::vector<uint8_t> expected = {
        'R', 'I', 'F', 'F', 0x2C, 0x00, 0x00, 0x00,  // 36 + 8 data bytes
        'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0,
        1, 0, 1, 0,                      // PCM, mono
        0x22, 0x56, 0x00, 0x00,          // 22050 Hz
        0x44, 0xAC, 0x00, 0x00,          // 44100 bytes/s
        2, 0, 16, 0,                     // block align, bits
        'd', 'a', 't', 'a', 8, 0, 0, 0};
    EXPECT_EQ(wav_header(22050, 8), expected);
    auto streaming = wav_header(22050, std::nullopt);
    EXPECT_EQ(u32le(streaming, 4), 0xFFFFFFFFu);
    EXPECT_EQ(u32le(streaming, 40), 0xFFFFFFFFu);

    // Samples: clipping, rounding, little-endian.
    const std::vector<float> s = {0.0f, 1.0f, -1.0f, 2.0f};
    auto wav = encode(AudioFormat::Wav, 22050, s, 2);
    ASSERT_EQ(wav.size(), 44u + 8u);
    EXPECT_EQ(u32le(wav, 40), 0xFFFFFFFFu);  // streamed: unknown size
    set_wav_sizes(wav);
    EXPECT_EQ(std::vector<uint8_t>(wav.begin(), wav.begin() + 44), expected);
    const std::vector<uint8_t> pcm = {0x00, 0x00, 0xFF, 0x7F, 0x01, 0x80, 0xFF, 0x7F};
    EXPECT_EQ(std::vector<uint8_t>(wav.begin() + 44, wav.end()), pcm);
    EXPECT_EQ(encode(AudioFormat::Pcm, 22050, s, 2), pcm);
    // No samples at all still makes a valid (empty) wav.
    EXPECT_EQ(encode(AudioFormat::Wav, 16000, {}, 1).size(), 44u);
    EXPECT_FALSE(make_audio_encoder(AudioFormat::Wav, 0).ok());
}

TEST(AudioFormatNames, ParseAndMime) {
    EXPECT_EQ(parse_audio_format("opus"), AudioFormat::Opus);
    EXPECT_EQ(parse_audio_format("MP3"), std::nullopt);
    EXPECT_STREQ(audio_format_mime(AudioFormat::Mp3), "audio/mpeg");
    EXPECT_STREQ(audio_format_mime(AudioFormat::Opus), "audio/ogg");
}

struct FlacReader {
    const std::vector<uint8_t>* data;
    size_t pos = 0;
    std::vector<int32_t> samples;
    unsigned rate = 0, bits = 0, channels = 0;
    uint64_t total = 0;  // STREAMINFO total samples (0: unknown)
    bool ok = false;
};

FlacReader decode_flac(const std::vector<uint8_t>& flac) {
    FlacReader reader{&flac};
    FLAC__StreamDecoder* dec = FLAC__stream_decoder_new();
    auto read = [](const FLAC__StreamDecoder*, FLAC__byte buffer[], size_t* bytes, void* c) {
        auto* r = static_cast<FlacReader*>(c);
        const size_t n = std::min(*bytes, r->data->size() - r->pos);
        std::memcpy(buffer, r->data->data() + r->pos, n);
        r->pos += n;
        *bytes = n;
        return n == 0 ? FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM : FLAC__STREAM_DECODER_READ_STATUS_CONTINUE;
    };
    auto write = [](const FLAC__StreamDecoder*, const FLAC__Frame* frame, const FLAC__int32* const buffer[], void* c) {
        auto* r = static_cast<FlacReader*>(c);
        r->samples.insert(r->samples.end(), buffer[0], buffer[0] + frame->header.blocksize);
        return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
    };
    auto metadata = [](const FLAC__StreamDecoder*, const FLAC__StreamMetadata* m, void* c) {
        auto* r = static_cast<FlacReader*>(c);
        if (m->type == FLAC__METADATA_TYPE_STREAMINFO) {
            r->rate = m->data.stream_info.sample_rate;
            r->bits = m->data.stream_info.bits_per_sample;
            r->channels = m->data.stream_info.channels;
            r->total = m->data.stream_info.total_samples;
        }
    };
    auto error = [](const FLAC__StreamDecoder*, FLAC__StreamDecoderErrorStatus, void* c) {
        static_cast<FlacReader*>(c)->ok = false;
    };
    if (FLAC__stream_decoder_init_stream(dec, read, nullptr, nullptr, nullptr, nullptr, write, metadata, error,
                                         &reader) == FLAC__STREAM_DECODER_INIT_STATUS_OK) {
        reader.ok = true;
        if (!FLAC__stream_decoder_process_until_end_of_stream(dec)) reader.ok = false;
    }
    FLAC__stream_decoder_delete(dec);
    return reader;
}

TEST(FlacEncoder, DecodesBackToIdenticalSamples) {
    const auto input = sine(22050, 1.3);
    const auto flac = encode(AudioFormat::Flac, 22050, input);
    ASSERT_GT(flac.size(), 4u);
    EXPECT_EQ(std::memcmp(flac.data(), "fLaC", 4), 0);
    const FlacReader reader = decode_flac(flac);
    EXPECT_TRUE(reader.ok);
    EXPECT_EQ(reader.rate, 22050u);
    EXPECT_EQ(reader.bits, 16u);
    EXPECT_EQ(reader.channels, 1u);
    EXPECT_EQ(reader.total, 0u);  // streamed: length unknown
    ASSERT_EQ(reader.samples.size(), input.size());
    for (size_t i = 0; i < input.size(); ++i) ASSERT_EQ(reader.samples[i], float_to_s16(input[i])) << i;

    // A whole file gets its length written into STREAMINFO and still decodes the same.
    auto whole = flac;
    set_flac_total_samples(whole, input.size());
    const FlacReader again = decode_flac(whole);
    EXPECT_TRUE(again.ok);
    EXPECT_EQ(again.total, input.size());
    EXPECT_EQ(again.bits, 16u);
    EXPECT_EQ(again.samples, reader.samples);
}

// Walks MPEG audio frames; returns {frames, samples per frame, sample rate}.
struct Mp3Scan {
    size_t frames = 0;
    int samples_per_frame = 0, rate = 0;
    bool ok = true;
};
Mp3Scan scan_mp3(const std::vector<uint8_t>& d) {
    static const int kRates[3][3] = {{44100, 48000, 32000}, {22050, 24000, 16000}, {11025, 12000, 8000}};
    static const int kBitrates1[16] = {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0};
    static const int kBitrates2[16] = {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0};
    Mp3Scan s;
    size_t at = 0;
    while (at + 4 <= d.size()) {
        if (d[at] != 0xFF || (d[at + 1] & 0xE0) != 0xE0) {
            s.ok = false;
            break;
        }
        const int version_bits = (d[at + 1] >> 3) & 3;  // 3: MPEG1, 2: MPEG2, 0: MPEG2.5
        const int layer_bits = (d[at + 1] >> 1) & 3;    // 1: layer III
        if (layer_bits != 1 || version_bits == 1) {
            s.ok = false;
            break;
        }
        const int vi = version_bits == 3 ? 0 : version_bits == 2 ? 1 : 2;
        const int bitrate = (vi == 0 ? kBitrates1 : kBitrates2)[d[at + 2] >> 4] * 1000;
        const int rate = kRates[vi][(d[at + 2] >> 2) & 3];
        const int padding = (d[at + 2] >> 1) & 1;
        s.samples_per_frame = vi == 0 ? 1152 : 576;
        s.rate = rate;
        const size_t len = static_cast<size_t>(s.samples_per_frame / 8 * bitrate / rate + padding);
        if (bitrate == 0 || len < 4) {
            s.ok = false;
            break;
        }
        ++s.frames;
        at += len;
    }
    if (at != d.size()) s.ok = false;
    return s;
}

TEST(Mp3Encoder, FramesAndDuration) {
    for (int rate : {22050, 44100, 19000}) {  // 19000 Hz is not an MP3 rate: resampled to 22050
        const double seconds = 1.5;
        const auto mp3 = encode(AudioFormat::Mp3, rate, sine(rate, seconds));
        const auto scan = scan_mp3(mp3);
        EXPECT_TRUE(scan.ok) << rate;
        EXPECT_EQ(scan.rate, rate == 19000 ? 22050 : rate);
        const double duration = static_cast<double>(scan.frames * scan.samples_per_frame) / scan.rate;
        // Encoder delay and final-frame padding add at most a few frames.
        EXPECT_GE(duration, seconds) << rate;
        EXPECT_LE(duration, seconds + 4.0 * scan.samples_per_frame / scan.rate) << rate;
    }
}

TEST(OpusEncoder, OggPagesHeadersAndDuration) {
    const int rate = 22050;
    const double seconds = 1.7;
    const auto ogg = encode(AudioFormat::Opus, rate, sine(rate, seconds));
    size_t at = 0, pages = 0;
    int64_t last_granule = -1;
    int pre_skip = -1;
    bool saw_tags = false;
    while (at + 27 <= ogg.size()) {
        ASSERT_EQ(std::memcmp(ogg.data() + at, "OggS", 4), 0) << "page " << pages;
        int64_t granule = 0;
        for (int i = 7; i >= 0; --i) granule = (granule << 8) | ogg[at + 6 + i];
        const int nsegs = ogg[at + 26];
        size_t body = 0;
        for (int i = 0; i < nsegs; ++i) body += ogg[at + 27 + i];
        const size_t payload = at + 27 + nsegs;
        ASSERT_LE(payload + body, ogg.size());
        if (pages == 0) {
            ASSERT_GE(body, 19u);
            EXPECT_EQ(std::memcmp(ogg.data() + payload, "OpusHead", 8), 0);
            EXPECT_EQ(ogg[payload + 9], 1);  // channels
            pre_skip = ogg[payload + 10] | (ogg[payload + 11] << 8);
            EXPECT_EQ(u32le(ogg, payload + 12), 48000u);  // we resample before libopusenc
        } else if (pages == 1) {
            saw_tags = std::memcmp(ogg.data() + payload, "OpusTags", 8) == 0;
        }
        if (granule >= 0) last_granule = granule;
        at = payload + body;
        ++pages;
    }
    EXPECT_EQ(at, ogg.size());
    EXPECT_TRUE(saw_tags);
    ASSERT_GE(pre_skip, 0);
    const double duration = static_cast<double>(last_granule - pre_skip) / 48000.0;
    EXPECT_NEAR(duration, seconds, 0.03);
}

TEST(Resampler, PreservesDurationAndFrequency) {
    auto r = Resampler::create(22050, 48000);
    ASSERT_TRUE(r.ok());
    const auto in = sine(22050, 1.0, 1000.0);
    std::vector<float> out;
    ASSERT_TRUE((*r)->process(std::span<const float>(in.data(), in.size() / 2), out).ok());
    ASSERT_TRUE((*r)->process(std::span<const float>(in.data() + in.size() / 2, in.size() - in.size() / 2), out).ok());
    ASSERT_TRUE((*r)->flush(out).ok());
    EXPECT_NEAR(static_cast<double>(out.size()), 48000.0, 2.0);
    // 1 kHz at 48 kHz: zero crossings every 24 samples, so ~2000 in one second.
    int crossings = 0;
    for (size_t i = 1000; i + 1000 < out.size(); ++i) crossings += (out[i - 1] < 0) != (out[i] < 0);
    EXPECT_NEAR(crossings, 2000.0 * (out.size() - 2000) / 48000.0, 10.0);
    EXPECT_FALSE(Resampler::create(0, 48000).ok());
}

}  // namespace
