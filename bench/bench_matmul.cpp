// Throughput of matmul() per weight type: decode (one token, or a batch of 4-32 as a
// server decodes several sequences at once, reported as GB/s of weight bytes
// streamed) and prefill (512 tokens, reported as GFLOP/s), on 1 and 2 threads, for
// 2048x2048, 4096x1024 and 2048x8192 (rows x cols; the last a Llama-1B ffn_down) weights.
//
// Decode cycles through enough copies of the weight (>= 256 MiB in all) that every
// call streams it from memory, as a real model's layers do; prefill reuses one copy.
// decode-cached reuses one copy too (it stays in L2/L3): the kernel's own speed, the
// ceiling it would reach if memory kept up.
// Run: build/bench/bench_matmul [--benchmark_filter=...]; HEARTH_ISA=avx2|generic
// lowers the instruction set as everywhere else. Weights the kernels take packed
// (pack_for_matmul: Q4_K on AVX-512) are packed as a model load packs them, unless
// HEARTH_WEIGHT_PANELS=0.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/matmul.h"
#include "tensor/quant.h"

namespace {

using hearth::ThreadPool;
using hearth::gguf::GgmlType;
using namespace hearth::kernels;

std::vector<float> random_values(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1, 1);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

ThreadPool& pool(int threads) {
    static ThreadPool one(1), two(2);
    return threads == 1 ? one : two;
}

struct Weights {
    std::vector<uint8_t> bytes;  // `copies` back-to-back copies of the matrix
    size_t matrix_bytes = 0, row_bytes = 0;
    int copies = 1;
    std::vector<PackedWeights> packed;  // per copy, where the kernels take it packed
};

Weights make_weights(GgmlType type, int64_t rows, int64_t cols, size_t min_total) {
    Weights w;
    const auto one = hearth::tensor::quantize(type, random_values(static_cast<size_t>(rows * cols), 11), cols).value();
    w.matrix_bytes = one.size();
    w.row_bytes = w.matrix_bytes / static_cast<size_t>(rows);
    w.copies = static_cast<int>(std::max<size_t>(1, (min_total + w.matrix_bytes - 1) / w.matrix_bytes));
    w.bytes.resize(w.matrix_bytes * static_cast<size_t>(w.copies));
    for (int c = 0; c < w.copies; ++c) std::copy(one.begin(), one.end(), w.bytes.begin() + c * w.matrix_bytes);
    const char* env = std::getenv("HEARTH_WEIGHT_PANELS");
    if (env == nullptr || std::string(env) != "0") {
        for (int c = 0; c < w.copies; ++c) {
            WeightMatrix m{type, w.bytes.data() + static_cast<size_t>(c) * w.matrix_bytes, rows, cols, w.row_bytes};
            PackedWeights p = pack_for_matmul(m);
            if (!p.bytes) break;
            w.packed.push_back(std::move(p));
        }
    }
    return w;
}

void bench_matmul(benchmark::State& state, GgmlType type, int64_t rows, int64_t cols, int64_t n_tokens, int threads,
                  bool cached) {
    const bool decode = n_tokens < 512;  // one or a batch of sequences decoding: streams the weights
    const Weights w = make_weights(type, rows, cols, decode && !cached ? (256u << 20) : 0);
    const auto x = random_values(static_cast<size_t>(n_tokens * cols), 12);
    std::vector<float> y(static_cast<size_t>(n_tokens * rows));
    ThreadPool& p = pool(threads);
    int c = 0;
    for (auto _ : state) {
        WeightMatrix m{type, w.bytes.data() + static_cast<size_t>(c) * w.matrix_bytes, rows, cols, w.row_bytes};
        if (!w.packed.empty()) m.panels = w.packed[static_cast<size_t>(c)].bytes.get();
        matmul(m, x.data(), n_tokens, y.data(), p);
        benchmark::DoNotOptimize(y.data());
        c = (c + 1) % w.copies;
    }
    const double iters = static_cast<double>(state.iterations());
    if (decode) {
        state.counters["GB/s"] =
            benchmark::Counter(iters * static_cast<double>(w.matrix_bytes) * 1e-9, benchmark::Counter::kIsRate);
    } else {
        state.counters["GFLOP/s"] = benchmark::Counter(
            iters * 2.0 * static_cast<double>(rows * cols) * static_cast<double>(n_tokens) * 1e-9,
            benchmark::Counter::kIsRate);
    }
    state.SetLabel(std::string(isa_name(cpu_kernels().isa)) + (w.packed.empty() ? "" : " panels"));
}

// Memory read bandwidth with the same pool, as the ceiling for decode: every thread
// reads its share of a 256 MiB buffer with the probe's kernel (CpuKernels::read_sum).
void bench_read(benchmark::State& state, int threads) {
    constexpr size_t kBytes = size_t{256} << 20;
    static uint8_t* const buf = [] {
        auto* b = static_cast<uint8_t*>(std::aligned_alloc(64, kBytes));  // kept for the process's life
        if (b == nullptr) std::abort();
        std::fill_n(b, kBytes, uint8_t{1});
        return b;
    }();
    ThreadPool& p = pool(threads);
    std::vector<uint64_t> sums(static_cast<size_t>(threads) * 8);
    for (auto _ : state) {
        p.run([&](int thread, int n_threads) {
            int64_t b = 0, e = 0;
            ThreadPool::chunk(static_cast<int64_t>(kBytes / 64), thread, n_threads, b, e, 64);
            sums[static_cast<size_t>(thread) * 8] = cpu_kernels().read_sum(buf + 64 * b, static_cast<size_t>(e - b) * 64);
        });
        benchmark::DoNotOptimize(sums.data());
    }
    state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(kBytes) * 1e-9,
                                                benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
    const GgmlType types[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                              GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
    const std::pair<int64_t, int64_t> shapes[] = {{2048, 2048}, {4096, 1024}, {2048, 8192}};
    for (int threads : {1, 2}) {
        benchmark::RegisterBenchmark(("memory_read/threads:" + std::to_string(threads)).c_str(), bench_read, threads)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
    }
    for (int64_t n_tokens : {1, 4, 8, 16, 32, 512}) {
        for (GgmlType type : types) {
            for (auto [rows, cols] : shapes) {
                for (int threads : {1, 2}) {
                    const std::string kind = n_tokens == 1 ? "decode/" : n_tokens == 512 ? "prefill/" : "batch" + std::to_string(n_tokens) + "/";
                    const std::string name = kind +
                                             std::string(hearth::gguf::type_name(type)) + "/" + std::to_string(rows) +
                                             "x" + std::to_string(cols) + "/threads:" + std::to_string(threads);
                    benchmark::RegisterBenchmark(name.c_str(), bench_matmul, type, rows, cols, n_tokens, threads, false)
                        ->Unit(benchmark::kMicrosecond)
                        ->UseRealTime();
                    if (n_tokens == 1) {
                        benchmark::RegisterBenchmark(("decode-cached/" + name.substr(kind.size())).c_str(), bench_matmul,
                                                     type, rows, cols, n_tokens, threads, true)
                            ->Unit(benchmark::kMicrosecond)
                            ->UseRealTime();
                    }
                }
            }
        }
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
