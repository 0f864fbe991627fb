// The blocked sgemm against a double-precision reference: edge tiles, strides (transposes),
// accumulation and threading.
#include <gtest/gtest.h>

#include <cmath>

#include "onnx/gemm.h"
#include "support/random_data.h"

using namespace hearth;
using namespace hearth::onnx;

TEST(OnnxGemm, MatchesReference) {
    ThreadPool pool2(2);
    struct Size {
        int64_t m, n, k;
    };
    for (Size sz : {Size{1, 1, 1}, Size{7, 33, 5}, Size{6, 32, 256}, Size{13, 70, 300}, Size{100, 517, 64}, Size{73, 1100, 260},
                    Size{1, 300, 2}, Size{300, 3, 9}}) {
        for (int trans = 0; trans < 4; ++trans) {
            const bool ta = trans & 1, tb = trans & 2;
            const auto a = test::random_floats(static_cast<size_t>(sz.m * sz.k), 1);
            const auto b = test::random_floats(static_cast<size_t>(sz.k * sz.n), 2);
            auto c0 = test::random_floats(static_cast<size_t>(sz.m * sz.n), 3);
            const GemmA ga = ta ? GemmA{a.data(), 1, sz.m} : GemmA{a.data(), sz.k, 1};
            const StridedSource gb = tb ? StridedSource(b.data(), 1, sz.k) : StridedSource(b.data(), sz.n, 1);
            for (int accumulate = 0; accumulate < 2; ++accumulate)
                for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool2}) {
                    std::vector<float> c = c0;
                    sgemm(sz.m, sz.n, sz.k, ga, gb, c.data(), sz.n, accumulate, pool);
                    double worst = 0;
                    for (int64_t i = 0; i < sz.m; ++i)
                        for (int64_t j = 0; j < sz.n; ++j) {
                            double ref = accumulate ? c0[static_cast<size_t>(i * sz.n + j)] : 0.0;
                            for (int64_t k = 0; k < sz.k; ++k) {
                                const double av = ta ? a[static_cast<size_t>(k * sz.m + i)] : a[static_cast<size_t>(i * sz.k + k)];
                                const double bv = tb ? b[static_cast<size_t>(j * sz.k + k)] : b[static_cast<size_t>(k * sz.n + j)];
                                ref += av * bv;
                            }
                            worst = std::max(worst, std::fabs(ref - c[static_cast<size_t>(i * sz.n + j)]));
                        }
                    EXPECT_LT(worst, 1e-4 * std::sqrt(static_cast<double>(sz.k)) + 1e-5)
                        << sz.m << "x" << sz.n << "x" << sz.k << " trans " << trans << " acc " << accumulate;
                }
        }
    }
    EXPECT_GE(gemm_tile_cols(), 8);
}
