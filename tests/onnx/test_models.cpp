// Real models: silero VAD (If, LSTM, Conv, reflect Pad) and the piper test voice, against
// onnxruntime on the same inputs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "model_builder.h"
#include "support/shared_data.h"

using namespace hearth::test;
using hearth::onnx::Session;

namespace {

Tensor audio_chunk(int64_t n, uint32_t seed) {
    Tensor t = random_tensor(DataType::Float, {1, n}, seed, -0.05, 0.05);
    // A tone under the noise, so the VAD sees some structure.
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] += 0.3f * std::sin(0.07f * static_cast<float>(i + seed * n));
    return t;
}

}  // namespace

TEST(OnnxModels, SileroVadMatchesOnnxRuntime) {
    HEARTH_REQUIRE_SHARED("data/tts/other-onnx/silero_vad.onnx");
    hearth::onnx::SessionOptions opt;
    opt.n_threads = 1;
    auto session = Session::load(shared_path("data/tts/other-onnx/silero_vad.onnx"), opt);
    ASSERT_TRUE(session) << session.error().message;
    Session& s = **session;
    ASSERT_EQ(s.inputs().size(), 3u);
    ASSERT_EQ(s.outputs().size(), 3u);

    // Three chunks, carrying our state forward; onnxruntime gets the same per-chunk inputs.
    std::vector<OrtCase> cases;
    std::vector<std::vector<Tensor>> ours;
    Tensor h = Tensor::zeros(DataType::Float, {2, 1, 64}), c = Tensor::zeros(DataType::Float, {2, 1, 64});
    const int64_t sizes[] = {512, 1024, 512};
    for (int k = 0; k < 3; ++k) {
        std::vector<std::pair<std::string, Tensor>> in{{"input", audio_chunk(sizes[k], static_cast<uint32_t>(k + 1))}, {"h0", h}, {"c0", c}};
        auto r = s.run(in);
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_EQ((*r)[0].numel(), 2);
        const float p = (*r)[0].data<float>()[1];
        EXPECT_TRUE(p >= 0.0f && p <= 1.0f) << p;
        h = (*r)[1];
        c = (*r)[2];
        std::string bytes;
        {
            std::ifstream f(shared_path("data/tts/other-onnx/silero_vad.onnx"), std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        }
        cases.push_back(OrtCase{fmt::format("silero_chunk{}", k), bytes, in});
        ours.push_back(std::move(*r));
    }
    std::vector<OrtResult> ref;
    std::string why;
    if (!run_onnxruntime(cases, scratch_dir("onnx-silero"), ref, why)) GTEST_SKIP() << "onnxruntime comparison skipped: " << why;
    for (size_t k = 0; k < cases.size(); ++k) {
        ASSERT_TRUE(ref[k].ok) << ref[k].error;
        ASSERT_EQ(ref[k].outputs.size(), 3u);
        for (size_t o = 0; o < 3; ++o) {
            double max_abs = 0;
            EXPECT_LE(compare_tensors(ours[k][o], ref[k].outputs[o], 1e-4, 1e-3, max_abs), 1.0)
                << "chunk " << k << " output " << o << " max abs " << max_abs;
            fmt::print("silero chunk {} output {}: max abs error {:.3g}\n", k, o, max_abs);
        }
    }
}

TEST(OnnxModels, PiperTestVoiceRunsAndMatchesOnnxRuntime) {
    HEARTH_REQUIRE_SHARED("data/tts/piper1-gpl-test-voice/test_voice.onnx");
    const std::string path = shared_path("data/tts/piper1-gpl-test-voice/test_voice.onnx");
    auto session = Session::load(path);
    ASSERT_TRUE(session) << session.error().message;
    Session& s = **session;
    ASSERT_EQ(s.inputs().size(), 3u);
    EXPECT_EQ(s.inputs()[0].name, "input");
    EXPECT_EQ(s.inputs()[0].dtype, DataType::Int64);

    // "^ h ə l oʊ $" style ids with the pad (0) between them, as piper feeds them.
    const std::vector<int64_t> ids{1, 0, 20, 0, 59, 0, 24, 0, 27, 0, 3, 0, 35, 0, 2};
    const int64_t n = static_cast<int64_t>(ids.size());
    std::vector<std::pair<std::string, Tensor>> in{{"input", Tensor::from_int64s({1, n}, ids)},
                                                   {"input_lengths", Tensor::from_int64s({1}, std::vector<int64_t>{n})},
                                                   {"scales", Tensor::from_floats({3}, std::vector<float>{0.0f, 1.0f, 0.0f})}};
    auto r = s.run(in);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    const Tensor& audio = (*r)[0];
    ASSERT_EQ(audio.dtype, DataType::Float);
    ASSERT_GE(audio.shape.size(), 2u);
    EXPECT_EQ(audio.shape[0], 1);
    EXPECT_GT(audio.numel(), 0);
    for (int64_t i = 0; i < audio.numel(); ++i) ASSERT_TRUE(std::isfinite(audio.data<float>()[i]));
    // Running twice gives the same audio.
    auto r2 = s.run(in);
    ASSERT_TRUE(r2);
    EXPECT_EQ((*r2)[0].bytes, audio.bytes);

    std::string bytes;
    {
        std::ifstream f(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    std::vector<OrtResult> ref;
    std::string why;
    if (!run_onnxruntime({OrtCase{"piper", bytes, in}}, scratch_dir("onnx-piper"), ref, why))
        GTEST_SKIP() << "onnxruntime comparison skipped: " << why;
    ASSERT_TRUE(ref[0].ok) << ref[0].error;
    double max_abs = 0;
    EXPECT_LE(compare_tensors(audio, ref[0].outputs[0], 1e-4, 1e-3, max_abs), 1.0)
        << "shape ours " << fmt::format("{}", fmt::join(audio.shape, "x")) << " ort "
        << fmt::format("{}", fmt::join(ref[0].outputs[0].shape, "x"));
    fmt::print("piper test voice: {} samples, max abs error {:.3g}\n", audio.numel(), max_abs);
}

#include "vits_synth.h"

TEST(OnnxModels, VitsShapedModelMatchesOnnxRuntime) {
    // A small VITS-structured model (relative attention, flows, HiFi-GAN) with noise off.
    VitsSizes sz;
    sz.n_symbols = 40, sz.hidden = 32, sz.filter = 64, sz.heads = 2, sz.layers = 2, sz.flows = 2, sz.wn_layers = 2;
    sz.dec_channels = 64, sz.upsample_rates = {4, 4}, sz.upsample_kernels = {8, 8};
    sz.res_kernels = {3, 5}, sz.res_dilations = {{1, 3}, {1, 3}};
    const std::string bytes = build_vits_model(sz, 11);
    hearth::onnx::SessionOptions opt;
    opt.n_threads = 2;
    auto session = Session::load_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), opt);
    ASSERT_TRUE(session) << session.error().message;
    std::vector<int64_t> ids;
    for (int i = 0; i < 23; ++i) ids.push_back((i * 7 + 3) % 40);
    const int64_t n = static_cast<int64_t>(ids.size());
    std::vector<std::pair<std::string, Tensor>> in{{"input", Tensor::from_int64s({1, n}, ids)},
                                                   {"input_lengths", Tensor::from_int64s({1}, std::vector<int64_t>{n})},
                                                   {"scales", Tensor::from_floats({3}, std::vector<float>{0.0f, 1.0f, 0.0f})}};
    auto r = (*session)->run(in);
    ASSERT_TRUE(r) << r.error().message;
    const Tensor& audio = (*r)[0];
    ASSERT_EQ(audio.shape.size(), 3u);
    // Every id lasts 3 to 5 frames by construction.
    EXPECT_GE(audio.shape[2], 3 * n * vits_hop(sz));
    EXPECT_LE(audio.shape[2], 5 * n * vits_hop(sz));
    // Noise on: still runs, same length (durations have no noise), different audio.
    auto noisy_in = in;
    noisy_in[2].second = Tensor::from_floats({3}, std::vector<float>{0.667f, 1.0f, 0.0f});
    auto noisy = (*session)->run(noisy_in);
    ASSERT_TRUE(noisy) << noisy.error().message;
    EXPECT_EQ((*noisy)[0].shape, audio.shape);
    EXPECT_NE((*noisy)[0].bytes, audio.bytes);

    std::vector<OrtResult> ref;
    std::string why;
    if (!run_onnxruntime({OrtCase{"vits", bytes, in}}, scratch_dir("onnx-vits"), ref, why))
        GTEST_SKIP() << "onnxruntime comparison skipped: " << why;
    ASSERT_TRUE(ref[0].ok) << ref[0].error;
    double max_abs = 0;
    EXPECT_LE(compare_tensors(audio, ref[0].outputs[0], 1e-3, 1e-2, max_abs), 1.0)
        << "shape ours " << fmt::format("{}", fmt::join(audio.shape, "x")) << " ort "
        << fmt::format("{}", fmt::join(ref[0].outputs[0].shape, "x")) << " max abs " << max_abs;
    fmt::print("VITS-shaped model: {} samples, max abs error {:.3g}\n", audio.numel(), max_abs);
}
