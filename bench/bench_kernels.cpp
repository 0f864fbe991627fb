// Throughput of the CPU kernels per instruction set: dequantization of one weight row
// per type and the f32 dot product. Run: build/bench/bench_kernels
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "kernels/cpu/cpu_kernels.h"
#include "tensor/quant.h"

namespace {

using hearth::gguf::GgmlType;
using namespace hearth::kernels;

constexpr int64_t kRow = 4096;

std::vector<float> random_row(int64_t n) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> dist(-1, 1);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

void bench_dequantize(benchmark::State& state, Isa isa, GgmlType type) {
    const CpuKernels* k = cpu_kernels_for(isa);
    if (k == nullptr) {
        state.SkipWithError("CPU lacks this instruction set");
        return;
    }
    const auto bytes = hearth::tensor::quantize(type, random_row(kRow), kRow).value();
    std::vector<float> out(kRow);
    for (auto _ : state) {
        k->dequantize(type)(bytes.data(), out.data(), kRow);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * kRow);
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}

void bench_dot(benchmark::State& state, Isa isa) {
    const CpuKernels* k = cpu_kernels_for(isa);
    if (k == nullptr) {
        state.SkipWithError("CPU lacks this instruction set");
        return;
    }
    const auto a = random_row(kRow), b = random_row(kRow);
    for (auto _ : state) benchmark::DoNotOptimize(k->dot_f32(a.data(), b.data(), kRow));
    state.SetBytesProcessed(state.iterations() * kRow * 8);
}

const int registered = [] {
    for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
        const std::string isa_s(isa_name(isa));
        for (GgmlType t : hearth::tensor::compute_types()) {
            if (t == GgmlType::F32) continue;
            benchmark::RegisterBenchmark(("dequantize/" + std::string(hearth::gguf::type_name(t)) + "/" + isa_s).c_str(),
                                         bench_dequantize, isa, t);
        }
        benchmark::RegisterBenchmark(("dot_f32/" + isa_s).c_str(), bench_dot, isa);
    }
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
