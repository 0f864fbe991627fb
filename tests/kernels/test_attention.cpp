// The CPU's KV cache layout, and each ISA's attention kernels (attend_rows for prefill,
// attend_group for decode) on their own; the backend op itself, on every device, is in
// test_backend_ops.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/half.h"
#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/cpu_kernels.h"
#include "runnable_isas.h"
#include "support/random_data.h"

namespace hearth::kernels {
namespace {

// Every (layer, sequence, head, position) slot is its own head_dim elements inside the
// buffer, one head's positions pos_stride() apart (the kernels walk them that way):
// writing a distinct pattern into each slot and reading all of them back catches
// overlapping or out-of-range offsets, which the attention tests (reading through the
// same accessors) would not.
TEST(KvCache, SlotsAreDisjointAndHeadMajor) {
    for (const KvType type : {KvType::F16, KvType::F32}) {
        KvCache c(3, 2, 5, 4, 8, type);
        const size_t slot = c.pos_stride();
        ASSERT_EQ(slot, 8 * c.element_size());
        ASSERT_EQ(c.bytes(), 2 * 3 * 2 * 5 * 4 * slot);
        auto each = [&](auto f) {
            int id = 0;
            for (int64_t l = 0; l < 3; ++l)
                for (int64_t s = 0; s < 2; ++s)
                    for (int64_t h = 0; h < 4; ++h)
                        for (int64_t p = 0; p < 5; ++p) f(l, s, h, p, id++);
        };
        const uint8_t* base_k = c.k(0, 0, 0, 0);
        each([&](int64_t l, int64_t s, int64_t h, int64_t p, int id) {
            ASSERT_GE(c.k(l, s, h, p), base_k);
            ASSERT_LE(c.k(l, s, h, p) + slot, base_k + c.bytes() / 2);
            if (p > 0) {
                ASSERT_EQ(c.k(l, s, h, p) - c.k(l, s, h, p - 1), static_cast<std::ptrdiff_t>(slot));
            }
            std::memset(c.k(l, s, h, p), id, slot);
            std::memset(c.v(l, s, h, p), 255 - id, slot);
        });
        each([&](int64_t l, int64_t s, int64_t h, int64_t p, int id) {
            for (size_t i = 0; i < slot; ++i) {
                ASSERT_EQ(c.k(l, s, h, p)[i], static_cast<uint8_t>(id)) << l << " " << s << " " << h << " " << p;
                ASSERT_EQ(c.v(l, s, h, p)[i], static_cast<uint8_t>(255 - id));
            }
        });
    }
}

// One KV head's keys and values as a kernel reads them (f16 or f32, the second of two
// heads, so rows are kv_stride apart) and as floats for the reference.
struct HeadCache {
    int64_t hd, n_keys;
    bool f16;
    std::vector<uint8_t> kb, vb;
    std::vector<float> kc, vc;  // what the cache holds, as floats (n_keys × 2hd)

    HeadCache(int64_t head_dim, int64_t keys, bool half, uint32_t seed) : hd(head_dim), n_keys(keys), f16(half) {
        const auto kf = test::random_floats(static_cast<size_t>(n_keys * 2 * hd), seed);
        const auto vf = test::random_floats(static_cast<size_t>(n_keys * 2 * hd), seed + 1);
        const size_t elem = f16 ? 2 : 4;
        kb.resize(kf.size() * elem), vb.resize(vf.size() * elem), kc.resize(kf.size()), vc.resize(vf.size());
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
    }
    // The kernel's view with `rows` query rows (q and out n_rows × hd); positions are the caller's.
    AttendRows view(int rows, const float* q, float* out) const {
        const size_t elem = f16 ? 2 : 4;
        AttendRows a;
        a.k = kb.data() + hd * elem;
        a.v = vb.data() + hd * elem;
        a.kv_stride = static_cast<size_t>(2 * hd) * elem;
        a.f16 = f16;
        a.head_dim = hd;
        a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
        a.n_rows = rows;
        for (int m = 0; m < rows; ++m) {
            a.q[m] = q + m * hd;
            a.out[m] = out + m * hd;
        }
        return a;
    }
    // softmax(scale · q · K[0..pos]ᵀ) · V[0..pos] in double.
    std::vector<double> attend(const float* q, int64_t pos, float scale) const {
        std::vector<double> w(static_cast<size_t>(pos + 1)), out(static_cast<size_t>(hd));
        double mx = -1e300, sum = 0;
        for (int64_t j = 0; j <= pos; ++j) {
            double s = 0;
            for (int64_t d = 0; d < hd; ++d) s += static_cast<double>(q[d]) * kc[static_cast<size_t>(j * 2 * hd + hd + d)];
            w[static_cast<size_t>(j)] = s * scale;
            mx = std::max(mx, w[static_cast<size_t>(j)]);
        }
        for (double& x : w) sum += (x = std::exp(x - mx));
        for (int64_t d = 0; d < hd; ++d) {
            double o = 0;
            for (int64_t j = 0; j <= pos; ++j) o += w[static_cast<size_t>(j)] * vc[static_cast<size_t>(j * 2 * hd + hd + d)];
            out[static_cast<size_t>(d)] = o / sum;
        }
        return out;
    }
};

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
                    const HeadCache kv(hd, 70, f16, static_cast<uint32_t>(11 + rows));
                    const auto qf = test::random_floats(static_cast<size_t>(rows * hd), 13 + rows, 3.0f);
                    std::vector<float> out(static_cast<size_t>(rows * hd), std::nanf(""));
                    AttendRows a = kv.view(rows, qf.data(), out.data());
                    for (int m = 0; m < rows; ++m) a.pos[m] = static_cast<int32_t>((m * 37 + 5) % kv.n_keys);  // unordered, some at 0
                    int32_t max_pos = 0;
                    for (int m = 0; m < rows; ++m) max_pos = std::max(max_pos, a.pos[m]);
                    std::vector<float> scratch(attend_rows_scratch(hd, max_pos));
                    k.attend_rows(a, scratch.data());
                    for (int m = 0; m < rows; ++m) {
                        const std::vector<double> want = kv.attend(a.q[m], a.pos[m], a.scale);
                        for (int64_t d = 0; d < hd; ++d) {
                            ASSERT_NEAR(a.out[m][d], want[static_cast<size_t>(d)], 1e-4)
                                << isa_name(isa) << " dim " << hd << " f16 " << f16 << " rows " << rows << " row " << m
                                << " d " << d;
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

// Each ISA's decode kernel, attend_group, against double precision: group sizes on
// both sides of its four-row register blocks, positions at 0, inside the first key
// block, past a block boundary and not a multiple of the vector width.
TEST(Attention, AttendGroupOnEveryIsa) {
    int isas = 0;
    for (Isa isa : test::runnable_isas()) {
        const CpuKernels& k = *cpu_kernels_for(isa);
        if (k.attend_group == nullptr) continue;
        ++isas;
        for (const int64_t hd : {64, 128}) {
            for (const bool f16 : {true, false}) {
                const HeadCache kv(hd, 300, f16, static_cast<uint32_t>(21 + hd));
                for (const int rows : {1, 2, 3, 4, 5, 7, 8}) {
                    for (const int32_t pos : {0, 5, 64, 70, 299}) {
                        const auto qf = test::random_floats(static_cast<size_t>(rows * hd), static_cast<uint32_t>(31 + rows + pos), 3.0f);
                        std::vector<float> out(static_cast<size_t>(rows * hd), std::nanf(""));
                        AttendRows a = kv.view(rows, qf.data(), out.data());
                        a.pos[0] = pos;
                        std::vector<float> scratch(attend_group_scratch(pos), std::nanf(""));
                        k.attend_group(a, scratch.data());
                        for (int m = 0; m < rows; ++m) {
                            const std::vector<double> want = kv.attend(a.q[m], pos, a.scale);
                            for (int64_t d = 0; d < hd; ++d) {
                                ASSERT_NEAR(a.out[m][d], want[static_cast<size_t>(d)], 1e-4)
                                    << isa_name(isa) << " dim " << hd << " f16 " << f16 << " rows " << rows << " pos "
                                    << pos << " row " << m << " d " << d;
                            }
                        }
                    }
                }
            }
        }
    }
    std::printf("attend_group checked on %d instruction set(s)\n", isas);
    if (isas == 0) GTEST_SKIP() << "no ISA with an attend_group kernel on this CPU";
}

}  // namespace
}  // namespace hearth::kernels
