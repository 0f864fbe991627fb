// CpuBackend::attention against a double-precision softmax over the cache contents:
// prefill-sized batches (which take the attend_rows kernel where the CPU has AVX2 or
// AVX-512), several sequences in one batch, GQA groups, both cache types, and head
// sizes with and without a kernel; then each ISA's attend_rows on its own.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/half.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_kernels.h"
#include "runnable_isas.h"
#include "support/random_data.h"

namespace hearth::kernels {
namespace {

struct Case {
    int64_t n_head, n_head_kv, head_dim;
    KvType kv;
};

float cached(const KvCache& c, const uint8_t* p, int64_t i) {
    if (c.type() == KvType::F16) return fp16_to_fp32(reinterpret_cast<const uint16_t*>(p)[i]);
    return reinterpret_cast<const float*>(p)[i];
}

TEST(Attention, MatchesDoublePrecisionSoftmax) {
    const Case cases[] = {{16, 8, 128, KvType::F16}, {32, 8, 64, KvType::F16}, {4, 4, 64, KvType::F32},
                          {6, 2, 128, KvType::F32},  {8, 2, 32, KvType::F16}};
    auto be = make_cpu_backend(2);
    int checked = 0;
    double worst = 0;
    for (const Case& c : cases) {
        const int64_t kv_dim = c.n_head_kv * c.head_dim, q_dim = c.n_head * c.head_dim;
        KvCache cache(1, 2, 128, kv_dim, c.kv);
        // Sequence 1 already holds positions 0..4; the batch is 45 tokens of sequence 0
        // (positions 0..44), then 11 of sequence 1 (positions 5..15).
        std::vector<int32_t> seq, pos;
        for (int32_t i = 0; i < 45; ++i) seq.push_back(0), pos.push_back(i);
        for (int32_t i = 5; i < 16; ++i) seq.push_back(1), pos.push_back(i);
        const auto n = static_cast<int64_t>(seq.size());
        const auto pre_k = test::random_floats(static_cast<size_t>(5 * kv_dim), 1);
        const auto pre_v = test::random_floats(static_cast<size_t>(5 * kv_dim), 2);
        const std::vector<int32_t> pre_seq(5, 1), pre_pos = {0, 1, 2, 3, 4};
        be->store_kv(cache, 0, pre_k.data(), pre_v.data(), 5, pre_seq.data(), pre_pos.data());
        const auto k = test::random_floats(static_cast<size_t>(n * kv_dim), 3);
        const auto v = test::random_floats(static_cast<size_t>(n * kv_dim), 4);
        const auto q = test::random_floats(static_cast<size_t>(n * q_dim), 5, 3.0f);
        be->store_kv(cache, 0, k.data(), v.data(), n, seq.data(), pos.data());
        const AttentionParams p{c.n_head, c.n_head_kv, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
        std::vector<float> out(static_cast<size_t>(n * q_dim), std::nanf(""));
        be->attention(cache, 0, q.data(), n, seq.data(), pos.data(), p, out.data());

        const int64_t group = c.n_head / c.n_head_kv;
        for (int64_t t = 0; t < n; ++t) {
            for (int64_t h = 0; h < c.n_head; ++h) {
                const float* qv = q.data() + (t * c.n_head + h) * c.head_dim;
                const int64_t off = (h / group) * c.head_dim;
                std::vector<double> w(static_cast<size_t>(pos[t] + 1));
                double mx = -1e300, sum = 0;
                for (int64_t j = 0; j <= pos[t]; ++j) {
                    const uint8_t* kr = cache.k(0, seq[t], j);
                    double s = 0;
                    for (int64_t d = 0; d < c.head_dim; ++d) s += static_cast<double>(qv[d]) * cached(cache, kr, off + d);
                    w[static_cast<size_t>(j)] = s * p.scale;
                    mx = std::max(mx, w[static_cast<size_t>(j)]);
                }
                for (double& x : w) sum += (x = std::exp(x - mx));
                double err = 0, norm = 0;
                for (int64_t d = 0; d < c.head_dim; ++d) {
                    double o = 0;
                    for (int64_t j = 0; j <= pos[t]; ++j) o += w[static_cast<size_t>(j)] * cached(cache, cache.v(0, seq[t], j), off + d);
                    o /= sum;
                    const double got = out[static_cast<size_t>((t * c.n_head + h) * c.head_dim + d)];
                    err = std::max(err, std::fabs(got - o));
                    norm = std::max(norm, std::fabs(o));
                }
                worst = std::max(worst, err / std::max(norm, 1e-3));
                ASSERT_LT(err, 1e-4 * std::max(norm, 1.0)) << "heads " << c.n_head << "/" << c.n_head_kv << " dim "
                                                          << c.head_dim << " token " << t << " head " << h;
                ++checked;
            }
        }
    }
    std::printf("attention (%s): %d (token, head) rows, worst relative error %.2e\n", be->name().c_str(), checked,
                worst);
}


// Each ISA's attend_rows directly (the backend test above only reaches the preferred
// one): every row count up to kAttendRows against double precision, and the tables
// that have the kernel agree bit for bit (they do the same arithmetic per element).
TEST(Attention, AttendRowsOnEveryIsa) {
    std::vector<std::vector<float>> first;  // outputs of the first ISA with the kernel, per case
    int isas = 0;
    for (Isa isa : test::runnable_isas()) {
        const CpuKernels& k = *cpu_kernels_for(isa);
        if (k.attend_rows == nullptr) continue;
        ++isas;
        size_t case_index = 0;
        for (const int64_t hd : {64, 128}) {
            for (const bool f16 : {true, false}) {
                for (const int rows : {1, 3, 17, 32}) {
                    const int64_t n_keys = 70, stride_elems = 2 * hd;  // two KV heads; use the second
                    const size_t elem = f16 ? 2 : 4;
                    const auto kf = test::random_floats(static_cast<size_t>(n_keys * stride_elems), 11 + rows);
                    const auto vf = test::random_floats(static_cast<size_t>(n_keys * stride_elems), 12 + rows);
                    const auto qf = test::random_floats(static_cast<size_t>(rows * hd), 13 + rows, 3.0f);
                    std::vector<uint8_t> kb(kf.size() * elem), vb(vf.size() * elem);
                    std::vector<float> kc(kf.size()), vc(vf.size());  // what the cache holds, as floats
                    for (size_t i = 0; i < kf.size(); ++i) {
                        if (f16) {
                            const uint16_t kh = fp32_to_fp16(kf[i]), vh = fp32_to_fp16(vf[i]);
                            std::memcpy(kb.data() + 2 * i, &kh, 2);
                            std::memcpy(vb.data() + 2 * i, &vh, 2);
                            kc[i] = fp16_to_fp32(kh);
                            vc[i] = fp16_to_fp32(vh);
                        } else {
                            std::memcpy(kb.data() + 4 * i, &kf[i], 4);
                            std::memcpy(vb.data() + 4 * i, &vf[i], 4);
                            kc[i] = kf[i];
                            vc[i] = vf[i];
                        }
                    }
                    std::vector<float> out(static_cast<size_t>(rows * hd), std::nanf(""));
                    AttendRows a;
                    a.n_rows = rows;
                    for (int m = 0; m < rows; ++m) {
                        a.q[m] = qf.data() + m * hd;
                        a.out[m] = out.data() + m * hd;
                        a.pos[m] = static_cast<int32_t>((m * 37 + 5) % n_keys);  // unordered, some at 0
                    }
                    a.k = kb.data() + hd * elem;
                    a.v = vb.data() + hd * elem;
                    a.kv_stride = stride_elems * elem;
                    a.f16 = f16;
                    a.head_dim = hd;
                    a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
                    int32_t max_pos = 0;
                    for (int m = 0; m < rows; ++m) max_pos = std::max(max_pos, a.pos[m]);
                    std::vector<float> scratch(attend_rows_scratch(hd, max_pos));
                    k.attend_rows(a, scratch.data());
                    for (int m = 0; m < rows; ++m) {
                        std::vector<double> w(static_cast<size_t>(a.pos[m] + 1));
                        double mx = -1e300, sum = 0;
                        for (int64_t j = 0; j <= a.pos[m]; ++j) {
                            double s = 0;
                            for (int64_t d = 0; d < hd; ++d) s += static_cast<double>(a.q[m][d]) * kc[static_cast<size_t>(j * stride_elems + hd + d)];
                            w[static_cast<size_t>(j)] = s * a.scale;
                            mx = std::max(mx, w[static_cast<size_t>(j)]);
                        }
                        for (double& x : w) sum += (x = std::exp(x - mx));
                        for (int64_t d = 0; d < hd; ++d) {
                            double o = 0;
                            for (int64_t j = 0; j <= a.pos[m]; ++j) o += w[static_cast<size_t>(j)] * vc[static_cast<size_t>(j * stride_elems + hd + d)];
                            ASSERT_NEAR(a.out[m][d], o / sum, 1e-4) << isa_name(isa) << " dim " << hd << " f16 " << f16
                                                                    << " rows " << rows << " row " << m << " d " << d;
                        }
                    }
                    if (isas == 1) {
                        first.push_back(out);
                    } else {
                        ASSERT_EQ(std::memcmp(out.data(), first[case_index].data(), out.size() * 4), 0)
                            << isa_name(isa) << " differs from the first ISA, dim " << hd << " rows " << rows;
                    }
                    ++case_index;
                }
            }
        }
    }
    std::printf("attend_rows checked on %d instruction set(s)\n", isas);
    if (isas == 0) GTEST_SKIP() << "no ISA with an attend_rows kernel on this CPU";
}

}  // namespace
}  // namespace hearth::kernels
