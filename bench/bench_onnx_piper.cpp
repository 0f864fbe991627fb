// Real-time factor of a Piper-sized VITS model (tests/onnx/vits_synth.h, medium-quality sizes:
// 192 hidden, 6 layers, 512-channel HiFi-GAN, hop 256) on a paragraph-length phoneme-id
// sequence: hearth's ONNX interpreter vs onnxruntime-node on the same threads (1 and 2).
// Usage: bench_onnx_piper [ids=400] [reps=3]. RTF = synthesis seconds / audio seconds.
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>

#include "model_builder.h"
#include "vits_synth.h"

using namespace hearth::test;

namespace {

// Process CPU time (all threads): steadier than wall time when the machine is shared.
double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
    const int64_t n_ids = argc > 1 ? std::atoll(argv[1]) : 400;
    const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
    VitsSizes sizes;  // piper medium
    const std::string bytes = build_vits_model(sizes, 7);
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < n_ids; ++i) ids.push_back(i % 2 ? 0 : 1 + (i * 37) % (sizes.n_symbols - 1));
    // noise_w = 0 makes the durations (and so the audio length) identical in both engines.
    std::vector<std::pair<std::string, Tensor>> in{{"input", Tensor::from_int64s({1, n_ids}, ids)},
                                                   {"input_lengths", Tensor::from_int64s({1}, std::vector<int64_t>{n_ids})},
                                                   {"scales", Tensor::from_floats({3}, std::vector<float>{0.667f, 1.0f, 0.0f})}};
    const double rate = 22050.0;
    const auto dir = std::filesystem::path(HEARTH_BINARY_DIR) / "bench-onnx";
    std::filesystem::create_directories(dir);
    fmt::print("model: VITS-shaped, piper medium sizes, {:.1f} MB; {} phoneme ids\n", bytes.size() / 1e6, n_ids);
    for (int threads : {1, 2}) {
        hearth::onnx::SessionOptions opt;
        opt.n_threads = threads;
        auto s = hearth::onnx::Session::load_bytes(
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), opt);
        if (!s) {
            fmt::print("load failed: {}\n", s.error().message);
            return 1;
        }
        auto warm = (*s)->run(in);
        if (!warm) {
            fmt::print("run failed: {}\n", warm.error().message);
            return 1;
        }
        const double audio_s = static_cast<double>((*warm)[0].numel()) / rate;
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = cpu_seconds();
        for (int r = 0; r < reps; ++r) (void)(*s)->run(in);
        const double ours = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
        const double ours_cpu = (cpu_seconds() - c0) / reps;
        std::vector<OrtResult> ref;
        std::string why;
        double ort = 0, ort_cpu = 0;
        if (run_onnxruntime({OrtCase{"vits", bytes, in}}, dir, ref, why, threads, reps) && ref[0].ok) {
            ort = ref[0].seconds;
            ort_cpu = ref[0].cpu_seconds;
            if (ref[0].outputs[0].numel() != (*warm)[0].numel()) fmt::print("warning: onnxruntime produced a different length\n");
        } else {
            fmt::print("onnxruntime: {}\n", why.empty() && !ref.empty() ? ref[0].error : why);
        }
        fmt::print("threads {}: audio {:.2f} s | hearth {:.3f} s (RTF {:.4f}) | onnxruntime {:.3f} s (RTF {:.4f}) | hearth/ort time {:.2f}\n",
                   threads, audio_s, ours, ours / audio_s, ort, ort / audio_s, ort > 0 ? ours / ort : 0.0);
        fmt::print("           CPU time per run: hearth {:.3f} s | onnxruntime {:.3f} s | hearth/ort CPU {:.2f}\n", ours_cpu,
                   ort_cpu, ort_cpu > 0 ? ours_cpu / ort_cpu : 0.0);
    }
    return 0;
}
