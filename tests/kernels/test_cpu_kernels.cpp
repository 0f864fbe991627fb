// Every ISA's kernels against the scalar references of tensor/, on random data.
#include <gtest/gtest.h>

#include "runnable_isas.h"
#include "support/random_data.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "base/half.h"
#include "kernels/cpu/cpu_kernels.h"
#include "tensor/quant.h"

namespace hearth::kernels {
namespace {

using test::runnable_isas;

TEST(CpuKernels, DequantizeMatchesReferenceOnEveryIsa) {
    const int64_t n = 4 * 256 + 512;  // several blocks of every type
    const auto values = test::random_floats(static_cast<size_t>(n), 7, 2.0f);
    for (Isa isa : runnable_isas()) {
        const CpuKernels& k = *cpu_kernels_for(isa);
        EXPECT_EQ(k.isa, isa);
        for (gguf::GgmlType t : tensor::compute_types()) {
            if (t == gguf::GgmlType::F32) continue;
            auto bytes = tensor::quantize(t, values, n);
            ASSERT_TRUE(bytes.ok());
            auto ref = tensor::dequantize(t, *bytes, n);
            ASSERT_TRUE(ref.ok());
            DequantizeRowFn fn = k.dequantize(t);
            ASSERT_NE(fn, nullptr) << gguf::type_name(t);
            std::vector<float> out(static_cast<size_t>(n), -1.0f);
            fn(bytes->data(), out.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_EQ(out[i], (*ref)[i]) << isa_name(isa) << " " << gguf::type_name(t) << " at " << i;
            }
        }
    }
}

TEST(CpuKernels, DotMatchesDoublePrecisionOnEveryIsa) {
    for (int64_t n : {1, 7, 16, 33, 64, 1000, 4096}) {
        const auto a = test::random_floats(static_cast<size_t>(n), 1, 2.0f), b = test::random_floats(static_cast<size_t>(n), 2, 2.0f);
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; ++i) {
            ref += static_cast<double>(a[i]) * b[i];
            mag += std::fabs(static_cast<double>(a[i]) * b[i]);
        }
        for (Isa isa : runnable_isas()) {
            const float got = cpu_kernels_for(isa)->dot_f32(a.data(), b.data(), n);
            EXPECT_NEAR(got, ref, 1e-6 * mag + 1e-6) << isa_name(isa) << " n=" << n;
        }
    }
}

TEST(CpuKernels, HalfPrecisionHelpersOnEveryIsa) {
    for (int64_t n : {1, 8, 15, 16, 31, 128, 1001}) {
        const auto x = test::random_floats(static_cast<size_t>(n), 11, 2.0f), y = test::random_floats(static_cast<size_t>(n), 12, 2.0f);
        std::vector<uint16_t> ref_h(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) ref_h[static_cast<size_t>(i)] = fp32_to_fp16(x[static_cast<size_t>(i)]);
        for (Isa isa : runnable_isas()) {
            const CpuKernels& k = *cpu_kernels_for(isa);
            std::vector<uint16_t> h(static_cast<size_t>(n));
            k.f32_to_f16(x.data(), h.data(), n);
            EXPECT_EQ(h, ref_h) << isa_name(isa) << " n=" << n;  // same rounding as the scalar reference
            double dot = 0, mag = 0;
            for (int64_t i = 0; i < n; ++i) {
                dot += static_cast<double>(fp16_to_fp32(ref_h[static_cast<size_t>(i)])) * y[static_cast<size_t>(i)];
                mag += std::fabs(static_cast<double>(y[static_cast<size_t>(i)]) * 2);
            }
            EXPECT_NEAR(k.dot_f16_f32(ref_h.data(), y.data(), n), dot, 1e-6 * mag + 1e-6) << isa_name(isa);
            std::vector<float> acc(y), acc32(y);
            k.axpy_f16(acc.data(), 0.5f, ref_h.data(), n);
            k.axpy_f32(acc32.data(), -2.0f, x.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                const auto u = static_cast<size_t>(i);
                EXPECT_NEAR(acc[u], y[u] + 0.5f * fp16_to_fp32(ref_h[u]), 1e-6) << isa_name(isa);
                EXPECT_NEAR(acc32[u], y[u] - 2.0f * x[u], 1e-6) << isa_name(isa);
            }
        }
    }
}

// gate = silu(gate) · up against double precision, over a range where e^-g overflows
// float for large negative g (the kernels take e^-|g| instead) and past the vector tail.
TEST(CpuKernels, SwigluMatchesDoublePrecisionOnEveryIsa) {
    auto gate = test::random_floats(1037, 41, 30.0f);
    gate[0] = -100.0f, gate[1] = 100.0f, gate[2] = 0.0f, gate[3] = -0.0f, gate[4] = -87.5f, gate[5] = 1e-6f;
    const auto up = test::random_floats(gate.size(), 42, 2.0f);
    for (Isa isa : runnable_isas()) {
        std::vector<float> out = gate;
        cpu_kernels_for(isa)->swiglu(out.data(), up.data(), static_cast<int64_t>(out.size()));
        for (size_t i = 0; i < gate.size(); ++i) {
            const double g = gate[i], want = g / (1.0 + std::exp(-g)) * up[i];
            ASSERT_NEAR(out[i], want, 2e-6 * std::fabs(want) + 1e-30) << isa_name(isa) << " g " << g;
        }
    }
}

// RMS norm against double precision, for the decode widths (a q/k head, the model width)
// and lengths past each ISA's vector tail; in place too, as the q/k norms run.
TEST(CpuKernels, RmsNormMatchesDoublePrecisionOnEveryIsa) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{128}, int64_t{1037}, int64_t{4096}}) {
        const auto x = test::random_floats(static_cast<size_t>(n), 51, 3.0f);
        const auto w = test::random_floats(static_cast<size_t>(n), 52, 1.5f);
        double ss = 0;
        for (float v : x) ss += static_cast<double>(v) * v;
        const double scale = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-6);
        for (Isa isa : runnable_isas()) {
            std::vector<float> y = x;
            cpu_kernels_for(isa)->rms_norm(y.data(), w.data(), y.data(), n, 1e-6f);
            for (int64_t i = 0; i < n; ++i) {
                const double want = x[i] * scale * w[i];
                ASSERT_NEAR(y[i], want, 1e-6 * std::fabs(want) + 1e-30) << isa_name(isa) << " n " << n << " i " << i;
            }
        }
    }
}

// The activation quantizers write the same bytes on every ISA (the matmul results of
// one model must not depend on the CPU's vector width), and the Q8_K bytes are what the
// format says: d = amax/127, quants rounded to nearest even, sums of each 16 quants.
// Values land exactly on .5 after scaling (ties), on the clamp, and blocks are all zero.
TEST(CpuKernels, Q8KActivationsAreTheSameOnEveryIsa) {
    const int64_t n = 4 * 256;
    auto x = test::random_floats(static_cast<size_t>(n), 61, 4.0f);
    x[0] = 127.0f;  // amax of block 0: the scale is exactly 1, so halves are ties
    for (int i = 1; i < 32; ++i) x[i] = static_cast<float>(i % 8) - 3.5f;
    std::fill(x.begin() + 512, x.begin() + 768, 0.0f);
    std::vector<uint8_t> want(static_cast<size_t>(n / 256) * 292);
    cpu_kernels_for(Isa::Generic)->quantize_row_q8_k(x.data(), want.data(), n);
    float d0;
    std::memcpy(&d0, want.data(), 4);
    EXPECT_EQ(d0, 1.0f);
    const auto* q0 = reinterpret_cast<const int8_t*>(want.data() + 4);
    EXPECT_EQ(q0[0], 127);
    EXPECT_EQ(q0[1], -2);  // -2.5 rounds to even
    EXPECT_EQ(q0[2], -2);  // -1.5 too
    EXPECT_EQ(q0[4], 0);   // 0.5
    EXPECT_EQ(q0[5], 2);   // 1.5
    int16_t bsum0;
    std::memcpy(&bsum0, want.data() + 4 + 256, 2);
    int s = 0;
    for (int i = 0; i < 16; ++i) s += q0[i];
    EXPECT_EQ(bsum0, s);
    for (Isa isa : runnable_isas()) {
        std::vector<uint8_t> got(want.size());
        cpu_kernels_for(isa)->quantize_row_q8_k(x.data(), got.data(), n);
        EXPECT_EQ(got, want) << isa_name(isa);
    }
}

// The bandwidth probe's read is a real sum of every word (a probe whose loads the
// compiler could drop, or that skipped the tail past its vector width, would measure
// nothing): wrapping uint64 sums over lengths around each ISA's stride.
TEST(CpuKernels, ReadSumAddsEveryWordOnEveryIsa) {
    std::mt19937_64 rng(7);
    std::vector<uint64_t> storage(4096 + 64 + 8);
    for (uint64_t& w : storage) w = rng();
    const uint64_t* words = storage.data();
    while (reinterpret_cast<uintptr_t>(words) % 64 != 0) ++words;  // the probe hands over 64-byte aligned buffers
    for (Isa isa : runnable_isas()) {
        for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{31}, size_t{32}, size_t{33}, size_t{128}, size_t{129}, size_t{389}, size_t{1000}, size_t{4096 + 63}}) {
            uint64_t want = 0;
            for (size_t i = 0; i < n; ++i) want += words[i];
            EXPECT_EQ(cpu_kernels_for(isa)->read_sum(words, n * 8), want) << isa_name(isa) << " words " << n;
        }
    }
}

// A table exists exactly for the ISAs this CPU runs, and asking for one it does not
// run executes none of that ISA's code (once, all tables were built up front, and
// the AVX-512 one died with SIGILL on AVX2-only CPUs).
TEST(CpuKernels, TablesOnlyForRunnableIsas) {
    for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Generic}) {
        const CpuKernels* k = cpu_kernels_for(isa);
        EXPECT_EQ(k != nullptr, cpu_supports(isa)) << isa_name(isa);
        if (k != nullptr) {
            EXPECT_EQ(k->isa, isa);
        }
    }
}

TEST(CpuKernels, PreferredIsaIsTheWidestRunnable) {
    const Isa best = preferred_isa();
    EXPECT_TRUE(cpu_supports(best));
    if (std::getenv("HEARTH_ISA") == nullptr) {
        for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
            if (cpu_supports(isa)) {
                EXPECT_GE(static_cast<int>(best), static_cast<int>(isa));
            }
        }
    }
    EXPECT_EQ(cpu_kernels().isa, best);
    std::printf("cpu features: %s; using %s kernels\n", cpu_feature_string().c_str(),
                std::string(isa_name(best)).c_str());
}

}  // namespace
}  // namespace hearth::kernels
