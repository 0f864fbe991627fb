// One conformance suite for every op of kernels::Backend, run on every device this
// machine has (the CPU with its preferred ISA, each Vulkan device): each op against a
// double-precision host reference on random data, with the shapes that trip kernels up
// (rows not a multiple of a workgroup, 1 / 7 / 64 tokens, GQA groups 1 / 4 / 8, several
// sequences in one batch).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/half.h"
#include "gguf/ggml_type.h"
#include "kernels/backend.h"
#include "support/compute_devices.h"
#include "support/random_data.h"
#include "tensor/quant.h"

namespace hearth::kernels {
namespace {

using gguf::GgmlType;

class BackendOps : public testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        auto d = open_device(GetParam());
        ASSERT_TRUE(d.ok()) << d.error().message;
        device_ = *d;
        auto b = device_->make_backend(2);
        ASSERT_TRUE(b.ok()) << b.error().message;
        be_ = std::move(b).value();
    }

    std::unique_ptr<Buffer> upload(const std::vector<float>& v) {
        auto b = be_->allocate(static_cast<int64_t>(v.size()));
        EXPECT_TRUE(b.ok()) << b.error().message;
        be_->write(**b, v);
        return std::move(b).value();
    }
    std::unique_ptr<Buffer> zeros(int64_t n) { return upload(std::vector<float>(static_cast<size_t>(n), 0.0f)); }
    std::vector<float> download(const Buffer& b, int64_t n) {
        std::vector<float> out(static_cast<size_t>(n), std::nanf(""));
        auto r = be_->read(b, 0, out);
        EXPECT_TRUE(r.ok()) << r.error().message;
        return out;
    }
    std::unique_ptr<Weights> vector_weights(const std::vector<float>& v) {
        auto w = device_->prepare_vector(v.data(), static_cast<int64_t>(v.size()));
        EXPECT_TRUE(w.ok()) << w.error().message;
        return std::move(w).value();
    }
    // Batch arrays live in the fixture: the backend reads them until the next batch.
    void begin(std::vector<int32_t> tokens, std::vector<int32_t> positions, std::vector<int32_t> seqs,
               std::vector<uint8_t> want = {}) {
        tokens_ = std::move(tokens), positions_ = std::move(positions), seqs_ = std::move(seqs);
        want_ = want.empty() ? std::vector<uint8_t>(tokens_.size(), 1) : std::move(want);
        be_->begin_batch({tokens_, positions_, seqs_, want_});
    }
    void begin_tokens(int64_t n) {
        std::vector<int32_t> zero(static_cast<size_t>(n), 0), pos(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = static_cast<int32_t>(i);
        begin(zero, pos, zero);
    }

    std::shared_ptr<Device> device_;
    std::unique_ptr<Backend> be_;
    std::vector<int32_t> tokens_, positions_, seqs_;
    std::vector<uint8_t> want_;
};

// Random weights of a type, as stored, and their dequantized values.
struct Matrix {
    std::vector<uint8_t> bytes;
    std::vector<float> values;  // rows × cols
    WeightView view;
};

Matrix random_matrix(GgmlType type, int64_t rows, int64_t cols, uint32_t seed) {
    Matrix m;
    const auto f = test::random_floats(static_cast<size_t>(rows * cols), seed);
    auto q = tensor::quantize(type, f, cols);
    EXPECT_TRUE(q.ok());
    m.bytes = std::move(q).value();
    auto d = tensor::dequantize(type, m.bytes, rows * cols);
    EXPECT_TRUE(d.ok());
    m.values = std::move(d).value();
    m.view = {type, m.bytes.data(), rows, cols, m.bytes.size() / static_cast<size_t>(rows)};
    return m;
}

// Activations that weight types quantize (Q8 per block on the CPU) lose ~1% of a dot
// product's scale; float weights keep float activations.
double matmul_tolerance(GgmlType t) {
    return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16 ? 1e-4 : 1.5e-2;
}

TEST_P(BackendOps, GetRowsDequantizesTheBatchTokensRows) {
    for (GgmlType type : tensor::compute_types()) {
        const Matrix m = random_matrix(type, 37, 512, 7);
        auto w = device_->prepare_matrix(m.view, {.multiplied = false});
        ASSERT_TRUE(w.ok()) << w.error().message;
        const std::vector<int32_t> ids = {0, 36, 5, 5, 17};
        begin(ids, {0, 1, 2, 3, 4}, {0, 0, 0, 0, 0});
        auto out = zeros(5 * 512);
        be_->get_rows(**w, *out);
        const auto got = download(*out, 5 * 512);
        for (size_t i = 0; i < ids.size(); ++i) {
            for (size_t c = 0; c < 512; ++c) {
                ASSERT_NEAR(got[i * 512 + c], m.values[static_cast<size_t>(ids[i]) * 512 + c], 1e-6)
                    << gguf::type_name(type) << " row " << ids[i] << " col " << c;
            }
        }
    }
}

// y = x · Wᵀ against double precision, scaled by the row and token norms (what a dot
// product's error grows with).
TEST_P(BackendOps, MatmulMatchesDoublePrecision) {
    for (GgmlType type : tensor::compute_types()) {
        for (const int64_t rows : {1, 33, 261}) {
            const int64_t cols = 512;
            const Matrix m = random_matrix(type, rows, cols, static_cast<uint32_t>(rows));
            auto w = device_->prepare_matrix(m.view, {});
            ASSERT_TRUE(w.ok()) << w.error().message;
            for (const int64_t n : {1, 7, 64}) {
                const auto x = test::random_floats(static_cast<size_t>(n * cols), static_cast<uint32_t>(n + 100));
                auto xb = upload(x);
                auto yb = zeros(n * rows);
                be_->matmul(**w, *xb, n, *yb);
                const auto y = download(*yb, n * rows);
                double worst = 0;
                for (int64_t t = 0; t < n; ++t) {
                    double tn = 0;
                    for (int64_t c = 0; c < cols; ++c) tn += static_cast<double>(x[static_cast<size_t>(t * cols + c)]) * x[static_cast<size_t>(t * cols + c)];
                    for (int64_t r = 0; r < rows; ++r) {
                        double s = 0, rn = 0;
                        for (int64_t c = 0; c < cols; ++c) {
                            const double wv = m.values[static_cast<size_t>(r * cols + c)];
                            s += wv * x[static_cast<size_t>(t * cols + c)];
                            rn += wv * wv;
                        }
                        const double err = std::fabs(y[static_cast<size_t>(t * rows + r)] - s) / std::max(std::sqrt(rn * tn), 1e-30);
                        worst = std::max(worst, err);
                    }
                }
                ASSERT_LE(worst, matmul_tolerance(type)) << gguf::type_name(type) << " rows " << rows << " tokens " << n;
            }
        }
    }
}

TEST_P(BackendOps, SharedInputEqualsSeparateProducts) {
    const Matrix a = random_matrix(GgmlType::Q4_K, 96, 256, 1), b = random_matrix(GgmlType::Q6_K, 40, 256, 2);
    auto wa = device_->prepare_matrix(a.view, {});
    auto wb = device_->prepare_matrix(b.view, {});
    ASSERT_TRUE(wa.ok() && wb.ok());
    for (const int64_t n : {1, 9}) {
        auto x = upload(test::random_floats(static_cast<size_t>(n * 256), 3));
        auto ya = zeros(n * 96), yb = zeros(n * 40), sa = zeros(n * 96), sb = zeros(n * 40);
        const MatmulProduct products[] = {{wa->get(), ya.get()}, {wb->get(), yb.get()}};
        be_->matmul_shared_input(products, *x, n);
        be_->matmul(**wa, *x, n, *sa);
        be_->matmul(**wb, *x, n, *sb);
        EXPECT_EQ(download(*ya, n * 96), download(*sa, n * 96)) << n;
        EXPECT_EQ(download(*yb, n * 40), download(*sb, n * 40)) << n;
    }
}

TEST_P(BackendOps, RmsNormInPlaceAndOut) {
    for (const int64_t dim : {64, 4096, 100}) {
        const int64_t rows = 5;
        const auto x = test::random_floats(static_cast<size_t>(rows * dim), 9, 4.0f);
        const auto wv = test::random_floats(static_cast<size_t>(dim), 10);
        auto w = vector_weights(wv);
        auto xb = upload(x), yb = zeros(rows * dim);
        be_->rms_norm(*xb, *w, *yb, rows, dim, 1e-5f);
        be_->rms_norm(*xb, *w, *xb, rows, dim, 1e-5f);
        const auto y = download(*yb, rows * dim), in_place = download(*xb, rows * dim);
        for (int64_t r = 0; r < rows; ++r) {
            double ss = 0;
            for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(x[static_cast<size_t>(r * dim + i)]) * x[static_cast<size_t>(r * dim + i)];
            const double inv = 1.0 / std::sqrt(ss / static_cast<double>(dim) + 1e-5);
            for (int64_t i = 0; i < dim; ++i) {
                const size_t k = static_cast<size_t>(r * dim + i);
                const double want = x[k] * inv * wv[static_cast<size_t>(i)];
                ASSERT_NEAR(y[k], want, 1e-5 * std::max(1.0, std::fabs(want))) << dim << " " << r << " " << i;
                ASSERT_EQ(in_place[k], y[k]);
            }
        }
    }
}

TEST_P(BackendOps, RopeRotatesPairsByPosition) {
    const int64_t heads = 3, hd = 64;
    std::vector<float> factors(24);
    for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + 0.25f * static_cast<float>(i % 5);
    for (const bool neox : {false, true}) {
        for (const int64_t n_dims : {int64_t{64}, int64_t{48}}) {
            RopeParams p;
            p.n_dims = n_dims;
            p.theta_base = 500000;
            p.freq_scale = 0.5f;
            p.neox = neox;
            p.freq_factors = n_dims == 48 ? factors.data() : nullptr;
            const std::vector<int32_t> pos = {0, 1, 7, 4095, 123};
            const auto n = static_cast<int64_t>(pos.size());
            begin({1, 2, 3, 4, 5}, pos, {0, 0, 1, 1, 0});
            const auto x = test::random_floats(static_cast<size_t>(n * heads * hd), 11);
            auto xb = upload(x);
            be_->rope(*xb, heads, hd, p);
            const auto got = download(*xb, n * heads * hd);
            for (int64_t t = 0; t < n; ++t) {
                for (int64_t h = 0; h < heads; ++h) {
                    const size_t base = static_cast<size_t>((t * heads + h) * hd);
                    std::vector<double> want(x.begin() + static_cast<std::ptrdiff_t>(base),
                                             x.begin() + static_cast<std::ptrdiff_t>(base + hd));
                    for (int64_t i = 0; i < n_dims / 2; ++i) {
                        double f = std::pow(static_cast<double>(p.theta_base), -2.0 * static_cast<double>(i) / static_cast<double>(n_dims));
                        if (p.freq_factors) f /= p.freq_factors[i];
                        const double th = pos[static_cast<size_t>(t)] * f * p.freq_scale;
                        const int64_t a = neox ? i : 2 * i, b = neox ? i + n_dims / 2 : 2 * i + 1;
                        const double x0 = want[static_cast<size_t>(a)], x1 = want[static_cast<size_t>(b)];
                        want[static_cast<size_t>(a)] = x0 * std::cos(th) - x1 * std::sin(th);
                        want[static_cast<size_t>(b)] = x0 * std::sin(th) + x1 * std::cos(th);
                    }
                    for (int64_t d = 0; d < hd; ++d) {
                        // float angles at position 4095 carry ~1e-3 of phase error.
                        ASSERT_NEAR(got[base + static_cast<size_t>(d)], want[static_cast<size_t>(d)], 2e-3)
                            << "neox " << neox << " n_dims " << n_dims << " token " << t << " head " << h << " d " << d;
                    }
                }
            }
        }
    }
}

TEST_P(BackendOps, ElementwiseOps) {
    const int64_t rows = 7, dim = 300, n = rows * dim;
    const auto x = test::random_floats(static_cast<size_t>(n), 21, 3.0f), y = test::random_floats(static_cast<size_t>(n), 22, 3.0f);
    const auto bias = test::random_floats(static_cast<size_t>(dim), 23);
    auto bw = vector_weights(bias);
    auto a = upload(x), b = upload(y), c = upload(x), g = upload(x);
    be_->add(*a, *b, n);
    be_->add_bias(*c, *bw, rows, dim);
    be_->swiglu(*g, *b, n);
    const auto sum = download(*a, n), biased = download(*c, n), glu = download(*g, n);
    for (int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<size_t>(i);
        ASSERT_FLOAT_EQ(sum[k], x[k] + y[k]);
        ASSERT_FLOAT_EQ(biased[k], x[k] + bias[static_cast<size_t>(i % dim)]);
        const double silu = x[k] / (1.0 + std::exp(-static_cast<double>(x[k])));
        ASSERT_NEAR(glu[k], silu * y[k], 1e-5 * std::max(1.0, std::fabs(silu * y[k])));
    }
}

TEST_P(BackendOps, GatherLogitRowsKeepsBatchOrder) {
    const int64_t dim = 33;
    const auto x = test::random_floats(static_cast<size_t>(6 * dim), 31);
    begin({1, 2, 3, 4, 5, 6}, {0, 1, 2, 0, 1, 2}, {0, 0, 0, 1, 1, 1}, {0, 1, 0, 0, 1, 1});
    auto xb = upload(x), out = zeros(6 * dim);
    ASSERT_EQ(be_->gather_logit_rows(*xb, dim, *out), 3);
    const auto got = download(*out, 3 * dim);
    const int rows[] = {1, 4, 5};
    for (int r = 0; r < 3; ++r) {
        for (int64_t d = 0; d < dim; ++d) ASSERT_EQ(got[static_cast<size_t>(r * dim + d)], x[static_cast<size_t>(rows[r] * dim + d)]);
    }
}

// store_kv then attention, against a double-precision softmax over what the cache holds
// (the inputs, rounded to f16 for an f16 cache). Sequence 1 holds `pre` positions
// before the batch.
struct Layout {
    const char* name;
    int32_t pre;
    std::vector<int32_t> seq, pos;
};

std::vector<Layout> attention_layouts() {
    Layout prefill{"prefill", 5, {}, {}};  // 45 tokens of sequence 0, then 11 of sequence 1
    for (int32_t i = 0; i < 45; ++i) prefill.seq.push_back(0), prefill.pos.push_back(i);
    for (int32_t i = 5; i < 16; ++i) prefill.seq.push_back(1), prefill.pos.push_back(i);
    return {prefill,
            {"decode", 300, {1, 0}, {300, 0}},           // one token of each sequence
            {"few tokens", 70, {1, 1, 1}, {70, 71, 72}}};  // a short run of one sequence
}

TEST_P(BackendOps, AttentionMatchesDoublePrecisionSoftmax) {
    struct Case {
        int64_t n_head, n_head_kv, head_dim;
        KvType kv;
    };
    const Case cases[] = {{16, 2, 128, KvType::F16}, {32, 8, 64, KvType::F16}, {4, 4, 64, KvType::F32},
                          {8, 1, 256, KvType::F32},  {8, 2, 32, KvType::F16}};
    double worst = 0;
    for (const Layout& lay : attention_layouts()) {
        for (const Case& c : cases) {
            const int64_t kv_dim = c.n_head_kv * c.head_dim, q_dim = c.n_head * c.head_dim, ctx = 320;
            ASSERT_TRUE(be_->allocate_kv_cache({2, 2, ctx, c.n_head_kv, c.head_dim, c.kv}).ok());
            // What each (seq, pos) of layer 1 holds, as the reference reads it.
            std::vector<float> kc(static_cast<size_t>(2 * ctx * kv_dim)), vc(kc.size());
            const bool f16 = c.kv == KvType::F16;
            auto store = [&](const std::vector<int32_t>& seq, const std::vector<int32_t>& pos, uint32_t seed) {
                const auto n = static_cast<int64_t>(seq.size());
                auto k = test::random_floats(static_cast<size_t>(n * kv_dim), seed);
                auto v = test::random_floats(static_cast<size_t>(n * kv_dim), seed + 1);
                begin(std::vector<int32_t>(seq.size(), 0), pos, seq);
                auto kb = upload(k), vb = upload(v);
                be_->store_kv(1, *kb, *vb);
                ASSERT_TRUE(be_->synchronize().ok());
                for (int64_t t = 0; t < n; ++t) {
                    for (int64_t i = 0; i < kv_dim; ++i) {
                        const size_t dst = static_cast<size_t>((seq[static_cast<size_t>(t)] * ctx + pos[static_cast<size_t>(t)]) * kv_dim + i);
                        const size_t src = static_cast<size_t>(t * kv_dim + i);
                        kc[dst] = f16 ? fp16_to_fp32(fp32_to_fp16(k[src])) : k[src];
                        vc[dst] = f16 ? fp16_to_fp32(fp32_to_fp16(v[src])) : v[src];
                    }
                }
            };
            std::vector<int32_t> pre_seq(static_cast<size_t>(lay.pre), 1), pre_pos;
            for (int32_t i = 0; i < lay.pre; ++i) pre_pos.push_back(i);
            store(pre_seq, pre_pos, 1);
            store(lay.seq, lay.pos, 3);
            const auto n = static_cast<int64_t>(lay.seq.size());
            const auto q = test::random_floats(static_cast<size_t>(n * q_dim), 5, 3.0f);
            auto qb = upload(q), out = zeros(n * q_dim);
            const AttentionParams p{c.n_head, c.n_head_kv, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
            be_->attention(1, *qb, p, *out);
            const auto got = download(*out, n * q_dim);
            const int64_t group = c.n_head / c.n_head_kv;
            for (int64_t t = 0; t < n; ++t) {
                const int64_t s = lay.seq[static_cast<size_t>(t)], last = lay.pos[static_cast<size_t>(t)];
                for (int64_t h = 0; h < c.n_head; ++h) {
                    const float* qv = q.data() + (t * c.n_head + h) * c.head_dim;
                    const int64_t kvh = h / group;
                    auto cached = [&](const std::vector<float>& cache, int64_t j, int64_t d) {
                        return static_cast<double>(cache[static_cast<size_t>((s * ctx + j) * kv_dim + kvh * c.head_dim + d)]);
                    };
                    std::vector<double> w(static_cast<size_t>(last + 1));
                    double mx = -1e300, sum = 0;
                    for (int64_t j = 0; j <= last; ++j) {
                        double dot = 0;
                        for (int64_t d = 0; d < c.head_dim; ++d) dot += qv[d] * cached(kc, j, d);
                        w[static_cast<size_t>(j)] = dot * p.scale;
                        mx = std::max(mx, w[static_cast<size_t>(j)]);
                    }
                    for (double& e : w) sum += (e = std::exp(e - mx));
                    for (int64_t d = 0; d < c.head_dim; ++d) {
                        double o = 0;
                        for (int64_t j = 0; j <= last; ++j) o += w[static_cast<size_t>(j)] * cached(vc, j, d);
                        o /= sum;
                        const double err = std::fabs(got[static_cast<size_t>((t * c.n_head + h) * c.head_dim + d)] - o);
                        worst = std::max(worst, err);
                        ASSERT_LT(err, 1e-4) << lay.name << ": heads " << c.n_head << "/" << c.n_head_kv << " dim "
                                             << c.head_dim << " token " << t << " head " << h << " d " << d;
                    }
                }
            }
        }
    }
    std::printf("attention on %s: worst absolute error %.2e\n", be_->name().c_str(), worst);
}

// Memory beyond the device is an error value, not a crash.
TEST_P(BackendOps, AllocationBeyondMemoryIsAnError) {
    auto huge = be_->allocate(int64_t{1} << 46);
    EXPECT_FALSE(huge.ok());
    EXPECT_FALSE(be_->allocate_kv_cache({1000, 64, 1 << 20, 64, 128, KvType::F32}).ok());
    // The backend still works afterwards.
    auto b = upload({1, 2, 3});
    EXPECT_EQ(download(*b, 3), (std::vector<float>{1, 2, 3}));
}

// The decode ceiling `hearth bench` reports: a plausible rate, measured between recorded
// work and a read of its result, which it must leave intact.
TEST_P(BackendOps, ReadBandwidthIsMeasured) {
    auto b = upload({1, 2, 3});
    for (int i = 0; i < 2; ++i) {  // the second time on the buffer kept from the first
        auto gbs = be_->measure_read_bandwidth();
        ASSERT_TRUE(gbs.ok()) << gbs.error().message;
        EXPECT_GT(*gbs, 0.1);
        EXPECT_LT(*gbs, 1e5);
        std::printf("read bandwidth of %s: %.1f GB/s\n", be_->name().c_str(), *gbs);
    }
    EXPECT_EQ(download(*b, 3), (std::vector<float>{1, 2, 3}));
}

INSTANTIATE_TEST_SUITE_P(Devices, BackendOps, testing::ValuesIn(test::compute_devices()),
                         [](const testing::TestParamInfo<std::string>& i) { return test::device_test_name(i.param); });

TEST(Devices, UnknownDeviceNamesAreErrors) {
    for (const char* spec : {"gpu", "vulkan:x", "vulkan:999", "cuda"}) {
        auto d = open_device(spec);
        EXPECT_FALSE(d.ok()) << spec;
        if (!d.ok()) {
            EXPECT_NE(d.error().message.find(spec), std::string::npos) << d.error().message;
        }
    }
    std::string note;
    auto cpu = open_device("cpu", &note);
    ASSERT_TRUE(cpu.ok());
    EXPECT_EQ((*cpu)->info().kind, "cpu");
    EXPECT_NE(note.find("cpu"), std::string::npos);
    // auto always opens something, and says why when it is the CPU.
    auto any = open_device("auto", &note);
    ASSERT_TRUE(any.ok());
    if ((*any)->info().kind == "cpu") {
        EXPECT_NE(note.find("no GPU used"), std::string::npos) << note;
    }
}

}  // namespace
}  // namespace hearth::kernels
