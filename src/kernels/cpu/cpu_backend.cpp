// The CPU implementation of Backend: thread-pool parallel loops over the per-ISA
// kernels of cpu_kernels().
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "tensor/quant.h"

namespace hearth::kernels {
namespace {

// Element counts up to which a row-wise op runs on the calling thread.
constexpr int64_t kInlineElements = 4096;

float* values(Buffer& b) { return static_cast<CpuBuffer&>(b).values.data(); }
const float* values(const Buffer& b) { return static_cast<const CpuBuffer&>(b).values.data(); }

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int n_threads)
        : pool_(n_threads > 0 ? n_threads : ThreadPool::default_threads()), k_(cpu_kernels()) {
        scratch_.resize(static_cast<size_t>(pool_.size()));
    }

    std::string name() const override { return "cpu-" + std::string(isa_name(k_.isa)); }
    int n_threads() const override { return pool_.size(); }

    Result<std::unique_ptr<Buffer>> allocate(int64_t n_floats) override {
        try {
            return std::unique_ptr<Buffer>(std::make_unique<CpuBuffer>(n_floats));
        } catch (const std::bad_alloc&) {
            return make_error("out of memory: " + std::to_string(n_floats * 4) + " bytes of activations");
        }
    }

    Result<void> allocate_kv_cache(const KvCacheShape& s) override {
        try {
            cache_ = std::make_unique<KvCache>(s.n_layer, s.n_seq, s.n_ctx, s.n_head_kv, s.head_dim, s.type);
        } catch (const std::bad_alloc&) {
            return make_error("the KV cache's " + std::to_string(static_cast<uint64_t>(s.bytes())) +
                              " bytes could not be allocated");
        }
        return {};
    }

    size_t kv_cache_bytes() const override { return cache_ ? cache_->bytes() : 0; }

    void write(Buffer& dst, std::span<const float> v) override { std::copy(v.begin(), v.end(), values(dst)); }

    Result<void> read(const Buffer& src, int64_t offset, std::span<float> out) override {
        if (offset < 0 || offset + static_cast<int64_t>(out.size()) > src.size()) return make_error("read past a buffer");
        std::copy_n(values(src) + offset, out.size(), out.begin());
        return {};
    }

    Result<void> synchronize() override { return {}; }

    void begin_batch(const BatchView& b) override { batch_ = b; }

    void matmul(const Weights& w, const Buffer& x, int64_t n_tokens, Buffer& y) override {
        kernels::matmul(cpu_weights(w).matrix, values(x), n_tokens, values(y), pool_);
    }

    void matmul_shared_input(std::span<const MatmulProduct> outs, const Buffer& x, int64_t n_tokens) override {
        MatmulOutput products[8];
        if (outs.size() > std::size(products)) {
            for (const MatmulProduct& o : outs) matmul(*o.w, x, n_tokens, *o.y);
            return;
        }
        for (size_t i = 0; i < outs.size(); ++i) products[i] = {&cpu_weights(*outs[i].w).matrix, values(*outs[i].y)};
        kernels::matmul_shared_input(std::span(products, outs.size()), values(x), n_tokens, pool_);
    }

    void get_rows(const Weights& weights, Buffer& out_buffer) override {
        const WeightMatrix& table = cpu_weights(weights).matrix;
        const int32_t* ids = batch_.tokens.data();
        const int64_t n = batch_.size();
        float* out = values(out_buffer);
        const DequantizeRowFn fn = k_.dequantize(table.type);
        for (int64_t i = 0; i < n; ++i) {
            const uint8_t* row = table.data + static_cast<size_t>(ids[i]) * table.row_bytes;
            float* dst = out + i * table.cols;
            if (table.type == gguf::GgmlType::F32) std::memcpy(dst, row, static_cast<size_t>(table.cols) * 4);
            else if (fn) fn(row, dst, table.cols);
            else (void)tensor::dequantize_row(table.type, row, dst, table.cols);
        }
    }

    void rms_norm(const Buffer& xb, const Weights& w, Buffer& yb, int64_t n_rows, int64_t dim, float eps) override {
        const float* x = values(xb);
        const float* weight = cpu_weights(w).values;
        float* y = values(yb);
        for_rows(n_rows, dim, [&](int64_t r) { k_.rms_norm(x + r * dim, weight, y + r * dim, dim, eps); });
    }

    void rope(Buffer& xb, int64_t n_heads, int64_t head_dim, const RopeParams& p) override {
        float* x = values(xb);
        const int64_t n_tokens = batch_.size();
        const int32_t* positions = batch_.positions.data();
        const int64_t half = p.n_dims / 2;
        const std::vector<float>& inv_freq = rope_frequencies(p);
        auto angles = [&](int32_t position, float* cosv, float* sinv) {
            const float pos = static_cast<float>(position);
            for (int64_t i = 0; i < half; ++i) {
                const float theta = pos * inv_freq[static_cast<size_t>(i)];
                cosv[i] = std::cos(theta);
                sinv[i] = std::sin(theta);
            }
        };
        auto turn = [&](int64_t t, const float* cosv, const float* sinv) {
            for (int64_t h = 0; h < n_heads; ++h) {
                float* v = x + (t * n_heads + h) * head_dim;
                for (int64_t i = 0; i < half; ++i) {
                    const int64_t a = p.neox ? i : 2 * i, b = p.neox ? i + half : 2 * i + 1;
                    const float x0 = v[a], x1 = v[b];
                    v[a] = x0 * cosv[i] - x1 * sinv[i];
                    v[b] = x0 * sinv[i] + x1 * cosv[i];
                }
            }
        };
        if (n_tokens == 1) {
            // One decode token: q and k of every layer turn by the same angles, so their
            // cosines and sines (a few microseconds on the one thread between the pool's
            // matmuls) are computed once per position, not twice per layer.
            if (rope_angles_.empty() || positions[0] != rope_angle_pos_) {
                rope_angles_.resize(static_cast<size_t>(2 * half));
                angles(positions[0], rope_angles_.data(), rope_angles_.data() + half);
                rope_angle_pos_ = positions[0];
            }
            turn(0, rope_angles_.data(), rope_angles_.data() + half);
            return;
        }
        for_rows(n_tokens, n_heads * head_dim, [&](int64_t t) {
            float cs[2 * 512];
            float* cosv = cs;
            float* sinv = cs + 512;
            std::vector<float> big;
            if (half > 512) {
                big.resize(static_cast<size_t>(2 * half));
                cosv = big.data();
                sinv = big.data() + half;
            }
            angles(positions[t], cosv, sinv);
            turn(t, cosv, sinv);
        });
    }

    void add_bias(Buffer& xb, const Weights& b, int64_t n_rows, int64_t dim) override {
        float* x = values(xb);
        const float* bias = cpu_weights(b).values;
        for (int64_t r = 0; r < n_rows; ++r) {
            float* xr = x + r * dim;
            for (int64_t i = 0; i < dim; ++i) xr[i] += bias[i];
        }
    }

    void add(Buffer& xb, const Buffer& yb, int64_t n) override {
        float* x = values(xb);
        const float* y = values(yb);
        for (int64_t i = 0; i < n; ++i) x[i] += y[i];
    }

    void swiglu(Buffer& gate_buffer, const Buffer& up_buffer, int64_t n) override {
        float* gate = values(gate_buffer);
        const float* up = values(up_buffer);
        // One decode token's n_ff values take about a microsecond: not worth a pool round trip.
        for_range(n, 16384, [&](int64_t b, int64_t e) { k_.swiglu(gate + b, up + b, e - b); });
    }

    void store_kv(int64_t layer, const Buffer& kb, const Buffer& vb) override {
        KvCache& cache = *cache_;
        const float* k = values(kb);
        const float* v = values(vb);
        const int64_t n_tokens = batch_.size();
        const int32_t* seq_ids = batch_.seq_ids.data();
        const int32_t* positions = batch_.positions.data();
        const int64_t d = cache.kv_dim(), hd = cache.head_dim();
        for (int64_t t = 0; t < n_tokens; ++t) {
            for (int64_t h = 0; h < cache.n_head_kv(); ++h) {
                uint8_t* kd = cache.k(layer, seq_ids[t], h, positions[t]);
                uint8_t* vd = cache.v(layer, seq_ids[t], h, positions[t]);
                const float* ks = k + t * d + h * hd;
                const float* vs = v + t * d + h * hd;
                if (cache.type() == KvType::F16) {
                    k_.f32_to_f16(ks, reinterpret_cast<uint16_t*>(kd), hd);
                    k_.f32_to_f16(vs, reinterpret_cast<uint16_t*>(vd), hd);
                } else {
                    std::memcpy(kd, ks, static_cast<size_t>(hd) * 4);
                    std::memcpy(vd, vs, static_cast<size_t>(hd) * 4);
                }
            }
        }
    }

    void attention(int64_t layer, const Buffer& qb, const AttentionParams& p, Buffer& out_buffer) override {
        const KvCache& cache = *cache_;
        const float* q = values(qb);
        float* out = values(out_buffer);
        const int64_t n_tokens = batch_.size();
        const int32_t* seq_ids = batch_.seq_ids.data();
        const int32_t* positions = batch_.positions.data();
        const int64_t group = p.n_head / p.n_head_kv;
        const int64_t hd = p.head_dim;
        const bool f16 = cache.type() == KvType::F16;
        if (attention_blocks(cache, layer, q, n_tokens, seq_ids, positions, p, out)) return;
        if (attention_groups(cache, layer, q, n_tokens, seq_ids, positions, p, out)) return;
        const int64_t n_pairs = n_tokens * p.n_head;
        pool_.run([&](int thread, int n_threads) {
            int64_t begin, end;
            ThreadPool::chunk(n_pairs, thread, n_threads, begin, end);
            std::vector<float>& scores = scratch(thread);
            for (int64_t pair = begin; pair < end; ++pair) {
                const int64_t t = pair / p.n_head, h = pair % p.n_head, kvh = h / group;
                const int64_t seq = seq_ids[t], n_keys = positions[t] + 1;
                if (static_cast<int64_t>(scores.size()) < n_keys) scores.resize(static_cast<size_t>(n_keys));
                const float* qv = q + (t * p.n_head + h) * hd;
                float max_score = -INFINITY;
                for (int64_t j = 0; j < n_keys; ++j) {
                    const uint8_t* kr = cache.k(layer, seq, kvh, j);
                    const float s = (f16 ? k_.dot_f16_f32(reinterpret_cast<const uint16_t*>(kr), qv, hd)
                                         : k_.dot_f32(reinterpret_cast<const float*>(kr), qv, hd)) *
                                    p.scale;
                    scores[static_cast<size_t>(j)] = s;
                    max_score = std::max(max_score, s);
                }
                double sum = 0;
                for (int64_t j = 0; j < n_keys; ++j) {
                    const float e = std::exp(scores[static_cast<size_t>(j)] - max_score);
                    scores[static_cast<size_t>(j)] = e;
                    sum += e;
                }
                const float inv = static_cast<float>(1.0 / sum);
                float* o = out + (t * p.n_head + h) * hd;
                std::fill(o, o + hd, 0.0f);
                for (int64_t j = 0; j < n_keys; ++j) {
                    const uint8_t* vr = cache.v(layer, seq, kvh, j);
                    const float w = scores[static_cast<size_t>(j)] * inv;
                    if (f16) k_.axpy_f16(o, w, reinterpret_cast<const uint16_t*>(vr), hd);
                    else k_.axpy_f32(o, w, reinterpret_cast<const float*>(vr), hd);
                }
            }
        });
    }

    int64_t gather_logit_rows(const Buffer& xb, int64_t dim, Buffer& out_buffer) override {
        const float* x = values(xb);
        float* out = values(out_buffer);
        int64_t n_out = 0;
        for (int64_t i = 0; i < batch_.size(); ++i) {
            if (!batch_.want_logits[static_cast<size_t>(i)]) continue;
            if (x + i * dim != out + n_out * dim) std::copy_n(x + i * dim, dim, out + n_out * dim);
            ++n_out;
        }
        return n_out;
    }

    Result<double> measure_read_bandwidth() override {
        // Read with the threads that run the ops, so the ceiling matches what decode can use.
        if (!probe_) probe_ = std::make_unique<ReadBandwidthProbe>();
        const double gbs = probe_->measure(pool_);
        if (gbs <= 0) return make_error("the bandwidth probe's 1 GiB buffer could not be allocated");
        return gbs;
    }

private:
    // The cache side of an attention kernel call: KV head kvh of one sequence's layer.
    static void bind_head(AttendRows& a, const KvCache& cache, int64_t layer, int64_t seq, int64_t kvh,
                          const AttentionParams& p) {
        a.k = cache.k(layer, seq, kvh, 0);
        a.v = cache.v(layer, seq, kvh, 0);
        a.kv_stride = cache.pos_stride();
        a.f16 = cache.type() == KvType::F16;
        a.head_dim = p.head_dim;
        a.scale = p.scale;
    }

    // Prefill: runs of tokens of one sequence, with the heads of each KV group, go
    // to the ISA's attend_rows in blocks of up to kAttendRows query rows. False
    // (nothing done) where there is no such kernel or the runs are too short.
    bool attention_blocks(const KvCache& cache, int64_t layer, const float* q, int64_t n_tokens,
                          const int32_t* seq_ids, const int32_t* positions, const AttentionParams& p, float* out) {
        const int64_t group = p.n_head / p.n_head_kv, hd = p.head_dim;
        if (k_.attend_rows == nullptr || !attend_rows_supports(hd) || group > kAttendRows || n_tokens * group < 16)
            return false;
        const int64_t per_block = kAttendRows / group;
        blocks_.clear();
        for (int64_t t = 0; t < n_tokens;) {
            int64_t e = t + 1;
            while (e < n_tokens && e - t < per_block && seq_ids[e] == seq_ids[t]) ++e;
            blocks_.push_back({t, e - t});
            t = e;
        }
        if (n_tokens < 4 * static_cast<int64_t>(blocks_.size())) return false;
        const int64_t n_items = static_cast<int64_t>(blocks_.size()) * p.n_head_kv;
        pool_.run([&](int thread, int n_threads) {
            // Round robin: later blocks see more keys, so contiguous chunks would be unbalanced.
            for (int64_t item = thread; item < n_items; item += n_threads) {
                const auto [t0, count] = blocks_[static_cast<size_t>(item / p.n_head_kv)];
                const int64_t kvh = item % p.n_head_kv, seq = seq_ids[t0];
                AttendRows a;
                a.n_rows = static_cast<int>(count * group);
                int32_t max_pos = 0;
                for (int64_t tt = 0; tt < count; ++tt) {
                    for (int64_t g = 0; g < group; ++g) {
                        const int64_t m = tt * group + g, row = (t0 + tt) * p.n_head + kvh * group + g;
                        a.q[m] = q + row * hd;
                        a.out[m] = out + row * hd;
                        a.pos[m] = positions[t0 + tt];
                    }
                    max_pos = std::max(max_pos, positions[t0 + tt]);
                }
                bind_head(a, cache, layer, seq, kvh, p);
                std::vector<float>& buf = scratch(thread);
                const size_t need = attend_rows_scratch(hd, max_pos);
                if (buf.size() < need) buf.resize(need);
                k_.attend_rows(a, buf.data());
            }
        });
        return true;
    }

    // Decode: each token's GQA group of heads goes to the ISA's attend_group, which
    // reads the group's keys and values once. False where there is no such kernel.
    bool attention_groups(const KvCache& cache, int64_t layer, const float* q, int64_t n_tokens,
                          const int32_t* seq_ids, const int32_t* positions, const AttentionParams& p, float* out) {
        const int64_t group = p.n_head / p.n_head_kv, hd = p.head_dim;
        if (k_.attend_group == nullptr || !attend_rows_supports(hd) || group > kAttendRows) return false;
        const int64_t n_items = n_tokens * p.n_head_kv;
        pool_.run([&](int thread, int n_threads) {
            // Round robin: the tokens of a batch can sit at very different positions.
            for (int64_t item = thread; item < n_items; item += n_threads) {
                const int64_t t = item / p.n_head_kv, kvh = item % p.n_head_kv, seq = seq_ids[t];
                AttendRows a;
                a.n_rows = static_cast<int>(group);
                for (int64_t g = 0; g < group; ++g) {
                    const int64_t row = t * p.n_head + kvh * group + g;
                    a.q[g] = q + row * hd;
                    a.out[g] = out + row * hd;
                }
                a.pos[0] = positions[t];
                bind_head(a, cache, layer, seq, kvh, p);
                std::vector<float>& buf = scratch(thread);
                const size_t need = attend_group_scratch(positions[t]);
                if (buf.size() < need) buf.resize(need);
                k_.attend_group(a, buf.data());
            }
        });
        return true;
    }

    // f(r) for every row, on the pool unless there is too little work to share (the
    // per-head q/k norms of one decode token are a few microseconds: cheaper on this
    // thread than a round trip through the pool).
    template <class F>
    void for_rows(int64_t n_rows, int64_t row_elements, F&& f) {
        if (n_rows == 1 || n_rows * row_elements <= kInlineElements) {
            for (int64_t r = 0; r < n_rows; ++r) f(r);
            return;
        }
        pool_.run([&](int thread, int n_threads) {
            int64_t b, e;
            ThreadPool::chunk(n_rows, thread, n_threads, b, e);
            for (int64_t r = b; r < e; ++r) f(r);
        });
    }

    template <class F>
    void for_range(int64_t n, int64_t min_chunk, F&& f) {
        if (n <= min_chunk) {
            f(0, n);
            return;
        }
        pool_.run([&](int thread, int n_threads) {
            int64_t b, e;
            ThreadPool::chunk(n, thread, n_threads, b, e, 16);
            f(b, e);
        });
    }

    std::vector<float>& scratch(int thread) { return scratch_[static_cast<size_t>(thread)]; }

    // The inverse frequencies of the last RopeParams seen: a decoder ropes q and k of
    // every layer with the same parameters, so the pow() per dimension runs once.
    const std::vector<float>& rope_frequencies(const RopeParams& p) {
        if (p.n_dims != rope_key_.n_dims || p.theta_base != rope_key_.theta_base ||
            p.freq_scale != rope_key_.freq_scale || p.freq_factors != rope_key_.freq_factors || inv_freq_.empty()) {
            const int64_t half = p.n_dims / 2;
            inv_freq_.resize(static_cast<size_t>(half));
            for (int64_t i = 0; i < half; ++i) {
                float f = std::pow(p.theta_base, -2.0f * static_cast<float>(i) / static_cast<float>(p.n_dims));
                if (p.freq_factors) f /= p.freq_factors[i];
                inv_freq_[static_cast<size_t>(i)] = f * p.freq_scale;
            }
            rope_key_ = p;
            rope_angles_.clear();  // angles of the old frequencies
        }
        return inv_freq_;
    }

    ThreadPool pool_;
    const CpuKernels& k_;
    std::unique_ptr<KvCache> cache_;
    BatchView batch_;
    std::vector<std::vector<float>> scratch_;
    std::vector<std::pair<int64_t, int64_t>> blocks_;  // attention_blocks: (first token, count)
    RopeParams rope_key_;
    std::vector<float> inv_freq_;
    // cos then sin of the angles of rope_angle_pos_ under inv_freq_ (empty: none yet).
    std::vector<float> rope_angles_;
    int32_t rope_angle_pos_ = 0;
    std::unique_ptr<ReadBandwidthProbe> probe_;  // measure_read_bandwidth: made on first use
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace hearth::kernels
