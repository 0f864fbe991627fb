#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "kernels/cpu/matmul.h"
#include "kernels/kv_cache.h"

namespace hearth::kernels {

struct RopeParams {
    int64_t n_dims = 0;        // rotated dimensions of each head (the rest pass through)
    float theta_base = 10000;  // rope.freq_base
    float freq_scale = 1;      // 1 / linear scaling factor
    bool neox = false;         // pairs (i, i + n_dims/2) instead of (2i, 2i+1)
    const float* freq_factors = nullptr;  // n_dims/2 divisors of the frequencies (llama 3.1), or null
};

struct AttentionParams {
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t head_dim = 0;
    float scale = 1;  // usually 1/sqrt(head_dim)
};

// The operations a decoder-only transformer needs, at the level a GPU backend would
// implement them too. Activation pointers are row-major f32 in the backend's memory.
class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    virtual int n_threads() const = 0;

    // y = x · Wᵀ (see kernels::matmul).
    virtual void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y) = 0;
    // Several products of the same x (see kernels::matmul_shared_input): a backend can
    // prepare x once. The default runs one matmul() per output.
    virtual void matmul_shared_input(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens) {
        for (const MatmulOutput& o : outs) matmul(*o.w, x, n_tokens, o.y);
    }
    // out[i] = row ids[i] of the table, as f32.
    virtual void get_rows(const WeightMatrix& table, const int32_t* ids, int64_t n, float* out) = 0;
    // y = x / rms(x) * weight, per row of `dim` (x and y may alias).
    virtual void rms_norm(const float* x, const float* weight, float* y, int64_t n_rows, int64_t dim, float eps) = 0;
    // Rotates each head of each token in place; x is n_tokens × n_heads × head_dim.
    virtual void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* positions,
                      const RopeParams& p) = 0;
    // x[r] += bias for each row r of `dim`.
    virtual void add_bias(float* x, const float* bias, int64_t n_rows, int64_t dim) = 0;
    // x += y elementwise.
    virtual void add(float* x, const float* y, int64_t n) = 0;
    // gate = silu(gate) * up elementwise.
    virtual void swiglu(float* gate, const float* up, int64_t n) = 0;
    // Writes k and v (n_tokens × kv_dim) into the cache at each token's (seq, pos).
    virtual void store_kv(KvCache& cache, int64_t layer, const float* k, const float* v, int64_t n_tokens,
                          const int32_t* seq_ids, const int32_t* positions) = 0;
    // Causal attention of each query token over positions 0..pos of its sequence in the cache.
    // q and out are n_tokens × n_head × head_dim.
    virtual void attention(const KvCache& cache, int64_t layer, const float* q, int64_t n_tokens,
                           const int32_t* seq_ids, const int32_t* positions, const AttentionParams& p,
                           float* out) = 0;
};

// The CPU backend with `n_threads` threads (0: all cores).
std::unique_ptr<Backend> make_cpu_backend(int n_threads);

}  // namespace hearth::kernels
