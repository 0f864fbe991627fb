// matmul() on every ISA, weight type and a spread of shapes against the
// double-precision reference over dequantized weights.
#include <gtest/gtest.h>

#include "runnable_isas.h"
#include "support/random_data.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/q4_k_panels.h"
#include "tensor/quant.h"

namespace hearth::kernels {
namespace {

using test::runnable_isas;

using gguf::GgmlType;

bool quantized_activations(GgmlType t) {
    return t == GgmlType::Q8_0 || t == GgmlType::Q4_0 || t == GgmlType::Q4_K || t == GgmlType::Q5_K ||
           t == GgmlType::Q6_K;
}

struct Problem {
    GgmlType type;
    int64_t rows, cols, n_tokens;
    std::vector<uint8_t> bytes;
    WeightMatrix w;
    std::vector<float> x;
    std::vector<double> row_norm, tok_norm;
};

Problem make_problem(GgmlType type, int64_t rows, int64_t cols, int64_t n_tokens, uint32_t seed) {
    Problem p{type, rows, cols, n_tokens, {}, {}, {}, {}, {}};
    const auto values = test::random_floats(static_cast<size_t>(rows * cols), seed);
    p.bytes = tensor::quantize(type, values, cols).value();
    p.w = WeightMatrix{type, p.bytes.data(), rows, cols, static_cast<size_t>(*gguf::checked_row_bytes(type, cols))};
    p.x = test::random_floats(static_cast<size_t>(n_tokens * cols), seed + 1000, 3.0f);
    // An all-zero block and a large outlier exercise the activation quantizer's edges.
    for (int64_t i = 0; i < std::min<int64_t>(cols, 32); ++i) p.x[i] = 0.0f;
    if (n_tokens > 1) p.x[static_cast<size_t>(cols + 5)] = 40.0f;
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        (void)tensor::dequantize_row(type, p.bytes.data() + r * p.w.row_bytes, row.data(), cols);
        double s = 0;
        for (float v : row) s += static_cast<double>(v) * v;
        p.row_norm.push_back(std::sqrt(s));
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
        double s = 0;
        for (int64_t i = 0; i < cols; ++i) s += static_cast<double>(p.x[t * cols + i]) * p.x[t * cols + i];
        p.tok_norm.push_back(std::sqrt(s));
    }
    return p;
}

// Largest |a - b| relative to the product of the row and token norms.
double max_rel_error(const Problem& p, const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (int64_t t = 0; t < p.n_tokens; ++t) {
        for (int64_t r = 0; r < p.rows; ++r) {
            const size_t i = static_cast<size_t>(t * p.rows + r);
            const double scale = std::max(p.row_norm[r] * p.tok_norm[t], 1e-30);
            worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]) / scale);
        }
    }
    return worst;
}

std::vector<int64_t> cols_for(GgmlType t) {
    const int64_t block = gguf::type_traits(t).block_size;
    if (block == 256) return {256, 768};
    if (block == 32) return {96, 256, 352, 768};  // 352: whole 8-block groups plus a pair and a single block
    return {7, 100, 256, 768};  // float weights: any width, including SIMD tails
}

TEST(Matmul, SupportsComputeTypes) {
    for (GgmlType t : tensor::compute_types()) EXPECT_TRUE(matmul_supported(t)) << gguf::type_name(t);
    EXPECT_FALSE(matmul_supported(GgmlType::Q2_K));
}

TEST(Matmul, MatchesReferenceOnEveryIsaAndShape) {
    ThreadPool pool(2);
    int cases = 0, isa_cases = 0;
    const auto isas = runnable_isas();
    for (GgmlType type : tensor::compute_types()) {
        const double tol = quantized_activations(type) ? 1e-2 : 1e-5;
        double worst_ref = 0, worst_isa = 0;
        for (int64_t cols : cols_for(type)) {
            for (int64_t rows : {1, 5, 37}) {
                for (int64_t n_tokens : {1, 3, 17, 64}) {
                    const Problem p = make_problem(type, rows, cols, n_tokens,
                                                   static_cast<uint32_t>(rows * 131 + cols * 7 + n_tokens));
                    std::vector<float> ref(static_cast<size_t>(rows * n_tokens));
                    matmul_reference(p.w, p.x.data(), n_tokens, ref.data());
                    std::vector<float> generic;
                    for (Isa isa : isas) {
                        std::vector<float> y(ref.size(), std::nanf(""));
                        matmul_with(*cpu_kernels_for(isa), p.w, p.x.data(), n_tokens, y.data(), pool);
                        const double err = max_rel_error(p, y, ref);
                        worst_ref = std::max(worst_ref, err);
                        ASSERT_LE(err, tol) << gguf::type_name(type) << " " << isa_name(isa) << " rows " << rows
                                            << " cols " << cols << " tokens " << n_tokens;
                        ++cases;
                        if (isa == Isa::Generic) {
                            generic = y;
                        } else {
                            const double d = max_rel_error(p, y, generic);
                            worst_isa = std::max(worst_isa, d);
                            ASSERT_LE(d, 2e-6) << gguf::type_name(type) << " " << isa_name(isa)
                                               << " differs from generic: rows " << rows << " cols " << cols
                                               << " tokens " << n_tokens;
                            ++isa_cases;
                        }
                    }
                }
            }
        }
        std::printf("%-5s worst error vs reference %.2e (tolerance %.0e), worst ISA vs generic %.2e\n",
                    std::string(gguf::type_name(type)).c_str(), worst_ref, tol, worst_isa);
    }
    std::printf("matmul: %d cases against the reference, %d ISA-vs-generic comparisons\n", cases, isa_cases);
}

// The prefill kernels work on panels of 16 rows × tiles of 8 tokens (AVX-512) or 8
// rows × 4 tokens (AVX2) from 16 tokens on: every token remainder and rows past the
// last full panel take separate code paths, and fewer tokens take the one-row tiles.
TEST(Matmul, RowPanelsCoverEveryTokenRemainder) {
    ThreadPool pool(2);
    int cases = 0;
    const auto isas = runnable_isas();
    for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
        for (int64_t rows : {32, 53, 128}) {
          for (int64_t cols : {256, 512}) {
            for (int64_t n_tokens = 1; n_tokens <= 32; ++n_tokens) {
                const Problem p = make_problem(type, rows, cols, n_tokens, static_cast<uint32_t>(rows + 7 * n_tokens));
                std::vector<float> ref(static_cast<size_t>(rows * n_tokens));
                matmul_reference(p.w, p.x.data(), n_tokens, ref.data());
                std::vector<float> generic;
                for (Isa isa : isas) {
                    std::vector<float> y(ref.size(), std::nanf(""));
                    matmul_with(*cpu_kernels_for(isa), p.w, p.x.data(), n_tokens, y.data(), pool);
                    ASSERT_LE(max_rel_error(p, y, ref), 1e-2)
                        << gguf::type_name(type) << " " << isa_name(isa) << " rows " << rows << " cols " << cols << " tokens " << n_tokens;
                    if (isa == Isa::Generic) generic = y;
                    else
                        ASSERT_LE(max_rel_error(p, y, generic), 2e-6)
                            << gguf::type_name(type) << " " << isa_name(isa) << " rows " << rows << " cols " << cols << " tokens " << n_tokens;
                    ++cases;
                }
            }
          }
        }
    }
    std::printf("matmul: %d row-panel remainder cases\n", cases);
}

// The largest integer sums the kernels can meet: weights at their format's top quant
// (one zero per 16 so the quantizer keeps 0 as the minimum) against activations all at
// +127 or all at -127. Kernels that keep partial sums in int16 (AVX2 panels) or rely
// on vpdpbusd not saturating would go wrong here first.
TEST(Matmul, ExtremeQuantsDoNotOverflow) {
    ThreadPool pool(2);
    const auto isas = runnable_isas();
    for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
        for (const auto& [sign, n_tokens] : {std::pair{1.0f, 24}, std::pair{-1.0f, 24}, std::pair{1.0f, 1}, std::pair{-1.0f, 1}}) {
            Problem p = make_problem(type, 32, 512, n_tokens, 77);
            std::vector<float> values(static_cast<size_t>(p.rows * p.cols));
            for (size_t i = 0; i < values.size(); ++i) values[i] = i % 16 == 0 ? 0.0f : 1.0f;
            p.bytes = tensor::quantize(type, values, p.cols).value();
            p.w.data = p.bytes.data();
            std::fill(p.x.begin(), p.x.end(), sign);
            std::vector<float> ref(static_cast<size_t>(p.rows * p.n_tokens));
            matmul_reference(p.w, p.x.data(), p.n_tokens, ref.data());
            std::vector<uint8_t> panels(p.bytes.size());
            WeightMatrix packed = p.w;
            if (q4_k_panels_fit(p.w)) {
                pack_q4_k_panels(p.w, panels.data());
                packed.panels = panels.data();
            }
            for (Isa isa : isas) {
                for (const WeightMatrix* w : {&p.w, &packed}) {
                    std::vector<float> y(ref.size(), std::nanf(""));
                    matmul_with(*cpu_kernels_for(isa), *w, p.x.data(), p.n_tokens, y.data(), pool);
                    for (size_t i = 0; i < y.size(); ++i) {
                        ASSERT_NEAR(y[i], ref[i], 1e-3 * std::fabs(ref[i]))
                            << gguf::type_name(type) << " " << isa_name(isa) << (w->panels ? " panels" : "") << " sign "
                            << sign << " tokens " << n_tokens << " output " << i;
                    }
                }
            }
        }
    }
}

TEST(Matmul, ThreadCountDoesNotChangeResults) {
    ThreadPool one(1), three(3);
    int cases = 0;
    for (Isa isa : runnable_isas()) {
        for (GgmlType type : tensor::compute_types()) {
            for (int64_t n_tokens : {1, 17, 64}) {
                const Problem p = make_problem(type, 37, 512, n_tokens, 99 + static_cast<uint32_t>(n_tokens));
                std::vector<float> a(static_cast<size_t>(37 * n_tokens)), b(a.size());
                matmul_with(*cpu_kernels_for(isa), p.w, p.x.data(), n_tokens, a.data(), one);
                matmul_with(*cpu_kernels_for(isa), p.w, p.x.data(), n_tokens, b.data(), three);
                ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
                    << gguf::type_name(type) << " " << isa_name(isa) << " tokens " << n_tokens;
                ++cases;
            }
        }
    }
    std::printf("matmul: %d one-vs-three-thread comparisons, all bit-identical\n", cases);
}

// One token reads a call's rows as several streams side by side (decode_in_streams):
// every row count, split evenly or with rows left over, must give each row exactly
// what that row gives as a matrix of its own.
TEST(Matmul, OneTokenRowsInStreamsMatchEachRowAlone) {
    ThreadPool one(1), two(2);
    int cases = 0;
    for (Isa isa : runnable_isas()) {
        const CpuKernels& k = *cpu_kernels_for(isa);
        for (GgmlType type : tensor::compute_types()) {
            for (int64_t rows : {2, 4, 7, 8, 9, 35, 130}) {
                const Problem p = make_problem(type, rows, 512, 1, 77 + static_cast<uint32_t>(rows));
                std::vector<float> alone(static_cast<size_t>(rows));
                for (int64_t r = 0; r < rows; ++r) {
                    WeightMatrix row = p.w;
                    row.data = p.w.data + static_cast<size_t>(r) * p.w.row_bytes;
                    row.rows = 1;
                    matmul_with(k, row, p.x.data(), 1, &alone[static_cast<size_t>(r)], one);
                }
                for (ThreadPool* pool : {&one, &two}) {
                    std::vector<float> y(alone.size(), std::nanf(""));
                    matmul_with(k, p.w, p.x.data(), 1, y.data(), *pool);
                    ASSERT_EQ(std::memcmp(y.data(), alone.data(), y.size() * sizeof(float)), 0)
                        << gguf::type_name(type) << " " << isa_name(isa) << " rows " << rows << " threads " << pool->size();
                    ++cases;
                }
            }
        }
    }
    std::printf("matmul: %d one-token calls, every row bit-identical to itself alone\n", cases);
}

// Products over a shared input (q/k/v, gate/up, of different types and heights) run
// in one parallel pass over an activation quantized once: each must equal one
// single-threaded matmul(), bit for bit, whatever the thread count.
TEST(Matmul, SharedInputMatchesSeparateProducts) {
    ThreadPool one(1), two(2), three(3);
    int cases = 0;
    for (Isa isa : runnable_isas()) {
        const CpuKernels& k = *cpu_kernels_for(isa);
        for (int64_t n_tokens : {1, 2, 7, 8, 19}) {
            const uint32_t seed = 500 + static_cast<uint32_t>(n_tokens);
            const Problem a = make_problem(GgmlType::Q4_K, 300, 512, n_tokens, seed);
            const Problem b = make_problem(GgmlType::Q8_0, 37, 512, n_tokens, seed + 1);
            Problem c = make_problem(GgmlType::F16, 1000, 512, n_tokens, seed + 2);
            c.x = a.x;
            std::vector<std::vector<float>> want;
            for (const Problem* p : {&a, &b, static_cast<const Problem*>(&c)}) {
                want.emplace_back(static_cast<size_t>(p->rows * n_tokens));
                matmul_with(k, p->w, a.x.data(), n_tokens, want.back().data(), one);
            }
            for (ThreadPool* pool : {&two, &three}) {
                std::vector<std::vector<float>> got;
                for (const auto& w : want) got.emplace_back(w.size(), std::nanf(""));
                const MatmulOutput outs[] = {{&a.w, got[0].data()}, {&b.w, got[1].data()}, {&c.w, got[2].data()}};
                matmul_shared_input_with(k, outs, a.x.data(), n_tokens, *pool);
                for (size_t i = 0; i < want.size(); ++i) {
                    ASSERT_EQ(std::memcmp(want[i].data(), got[i].data(), want[i].size() * sizeof(float)), 0)
                        << isa_name(isa) << " output " << i << " tokens " << n_tokens << " threads " << pool->size();
                }
                ++cases;
            }
        }
    }
    std::printf("matmul: %d shared-input calls, all bit-identical to separate products\n", cases);
}

// Q4_K in 16-row panels (q4_k_panels.h): the layout gives back the file's bytes, and
// every kernel that reads it agrees with the reference and with the same ISA's
// one-row kernels for every token remainder, whatever the thread count, and gives each
// token the same result bit for bit alone or in any batch.
TEST(Matmul, Q4KPanelsMatchRowKernels) {
    ThreadPool one(1), three(3);
    int cases = 0;
    for (int64_t rows : {16, 48, 160}) {
        for (int64_t cols : {256, 1024}) {
            Problem base = make_problem(GgmlType::Q4_K, rows, cols, 1, static_cast<uint32_t>(rows * 3 + cols));
            ASSERT_TRUE(q4_k_panels_fit(base.w));
            std::vector<uint8_t> panels(base.bytes.size()), back(base.bytes.size());
            pack_q4_k_panels(base.w, panels.data());
            ASSERT_NE(std::memcmp(panels.data(), base.bytes.data(), panels.size()), 0);
            unpack_q4_k_panels(base.w, panels.data(), back.data());
            ASSERT_EQ(std::memcmp(back.data(), base.bytes.data(), back.size()), 0) << "rows " << rows << " cols " << cols;
            for (Isa isa : runnable_isas()) {
                const CpuKernels& k = *cpu_kernels_for(isa);
                if (k.gemm_q4_k_panels == nullptr) continue;
                for (int64_t n_tokens : {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47}) {
                    Problem p = make_problem(GgmlType::Q4_K, rows, cols, n_tokens, static_cast<uint32_t>(rows * 3 + cols));
                    ASSERT_EQ(p.bytes, base.bytes);
                    WeightMatrix packed = p.w;
                    packed.panels = panels.data();
                    std::vector<float> ref(static_cast<size_t>(rows * n_tokens)), row_kernels(ref.size()),
                        got(ref.size(), std::nanf("")), got3(ref.size(), std::nanf(""));
                    matmul_reference(p.w, p.x.data(), n_tokens, ref.data());
                    matmul_with(k, p.w, p.x.data(), n_tokens, row_kernels.data(), one);
                    matmul_with(k, packed, p.x.data(), n_tokens, got.data(), one);
                    matmul_with(k, packed, p.x.data(), n_tokens, got3.data(), three);
                    ASSERT_LE(max_rel_error(p, got, ref), 1e-2) << isa_name(isa) << " rows " << rows << " cols " << cols << " tokens " << n_tokens;
                    ASSERT_LE(max_rel_error(p, got, row_kernels), 2e-6) << isa_name(isa) << " rows " << rows << " cols " << cols << " tokens " << n_tokens;
                    ASSERT_EQ(std::memcmp(got.data(), got3.data(), got.size() * sizeof(float)), 0) << "tokens " << n_tokens;
                    // A token's result does not depend on the batch it came in (tile or prefill).
                    for (int64_t t = 0; t < n_tokens; t += 3) {
                        std::vector<float> alone(static_cast<size_t>(rows), std::nanf(""));
                        matmul_with(k, packed, p.x.data() + t * cols, 1, alone.data(), one);
                        ASSERT_EQ(std::memcmp(alone.data(), got.data() + t * rows, alone.size() * sizeof(float)), 0)
                            << isa_name(isa) << " token " << t << " of " << n_tokens << " rows " << rows << " cols " << cols;
                    }
                    ++cases;
                }
            }
        }
    }
    std::printf("matmul: %d Q4_K panel cases\n", cases);
}

TEST(Matmul, PackForMatmulOnlyWhereKernelsTakeIt) {
    Problem q4 = make_problem(GgmlType::Q4_K, 32, 512, 1, 3);
    Problem odd = make_problem(GgmlType::Q4_K, 37, 512, 1, 4);
    Problem q8 = make_problem(GgmlType::Q8_0, 32, 512, 1, 5);
    EXPECT_FALSE(q4_k_panels_fit(odd.w));
    EXPECT_FALSE(q4_k_panels_fit(q8.w));
    EXPECT_FALSE(pack_for_matmul(odd.w).bytes);
    EXPECT_FALSE(pack_for_matmul(q8.w).bytes);
    EXPECT_EQ(odd.w.panels, nullptr);
    const PackedWeights p = pack_for_matmul(q4.w);
    if (cpu_kernels().gemm_q4_k_panels == nullptr) {
        EXPECT_FALSE(p.bytes);
        EXPECT_EQ(q4.w.panels, nullptr);
        GTEST_SKIP() << "the preferred kernels (" << isa_name(cpu_kernels().isa) << ") take Q4_K as stored";
    }
    ASSERT_TRUE(p.bytes);
    EXPECT_EQ(q4.w.panels, p.bytes.get());
    EXPECT_EQ(p.size, q4.bytes.size());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(q4.w.panels) % 64, 0u);
    std::vector<uint8_t> back(q4.bytes.size());
    unpack_q4_k_panels(q4.w, q4.w.panels, back.data());
    EXPECT_EQ(back, q4.bytes);
}

TEST(Matmul, DefaultEntryUsesPreferredKernels) {
    ThreadPool pool(2);
    const Problem p = make_problem(GgmlType::Q4_K, 20, 512, 5, 5);
    std::vector<float> a(100), b(100);
    matmul(p.w, p.x.data(), 5, a.data(), pool);
    matmul_with(cpu_kernels(), p.w, p.x.data(), 5, b.data(), pool);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace hearth::kernels
