#include "llm/context.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>
#include <string>

namespace hearth::llm {

Result<std::unique_ptr<InferenceContext>> InferenceContext::create(std::shared_ptr<const Model> model,
                                                                   const ContextOptions& o) {
    if (!model) return make_error("no model");
    const HyperParams& h = model->hparams();
    auto ctx = std::unique_ptr<InferenceContext>(new InferenceContext());
    ctx->n_ctx_ = o.n_ctx > 0 ? o.n_ctx : std::min<int64_t>(h.n_ctx_train > 0 ? h.n_ctx_train : 4096, 4096);
    if (ctx->n_ctx_ > (1 << 24)) return make_error("context length " + std::to_string(ctx->n_ctx_) + " is too large");
    ctx->n_seq_ = std::max(1, o.n_seq);
    ctx->n_batch_ = std::clamp<int64_t>(o.n_batch, 1, 1 << 16);
    ctx->model_ = std::move(model);
    ctx->backend_ = kernels::make_cpu_backend(o.n_threads);
    const int64_t kv_dim = h.n_head_kv * h.head_dim;
    // A context far beyond memory is an error, not an abort in the allocator (or the OOM killer).
    const double kv_bytes = kernels::KvCache::bytes_per_position(h.n_layer, h.n_head_kv, h.head_dim, o.kv_type) *
                            static_cast<double>(ctx->n_seq_) * static_cast<double>(ctx->n_ctx_);
    const double ram = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
    char need[160];
    std::snprintf(need, sizeof need, "the KV cache for %lld positions x %d sequences needs %.1f GiB",
                  static_cast<long long>(ctx->n_ctx_), ctx->n_seq_, kv_bytes / (1u << 30));
    std::string why = need;
    if (ram > 0 && kv_bytes > ram) {
        char more[80];
        std::snprintf(more, sizeof more, ", more than the %.1f GiB of memory here", ram / (1u << 30));
        why += more;
        return make_error(why);
    }
    try {
        ctx->cache_ = std::make_unique<kernels::KvCache>(h.n_layer, ctx->n_seq_, ctx->n_ctx_, h.n_head_kv, h.head_dim,
                                                         o.kv_type);
    } catch (const std::bad_alloc&) {
        why += ", which could not be allocated";
        return make_error(why);
    }
    const auto nb = static_cast<size_t>(ctx->n_batch_);
    const auto q_dim = static_cast<size_t>(h.n_head * h.head_dim);
    ctx->x_.resize(nb * static_cast<size_t>(h.n_embd));
    ctx->h_.resize(nb * static_cast<size_t>(h.n_embd));
    ctx->q_.resize(nb * q_dim);
    ctx->k_.resize(nb * static_cast<size_t>(kv_dim));
    ctx->v_.resize(nb * static_cast<size_t>(kv_dim));
    ctx->attn_.resize(nb * q_dim);
    ctx->gate_.resize(nb * static_cast<size_t>(h.n_ff));
    ctx->up_.resize(nb * static_cast<size_t>(h.n_ff));
    return ctx;
}

Result<void> InferenceContext::decode(const Batch& b) {
    const size_t n = b.tokens.size();
    if (b.positions.size() != n || b.seq_ids.size() != n || b.want_logits.size() != n)
        return make_error("batch arrays differ in length");
    const int64_t n_vocab = model_->hparams().n_vocab;
    for (size_t i = 0; i < n; ++i) {
        if (b.tokens[i] < 0 || b.tokens[i] >= n_vocab)
            return make_error("token id " + std::to_string(b.tokens[i]) + " is outside the vocabulary of " +
                              std::to_string(n_vocab));
        if (b.positions[i] < 0 || b.positions[i] >= n_ctx_)
            return make_error("position " + std::to_string(b.positions[i]) + " exceeds the context length of " +
                              std::to_string(n_ctx_) + " tokens");
        if (b.seq_ids[i] < 0 || b.seq_ids[i] >= n_seq_)
            return make_error("sequence id " + std::to_string(b.seq_ids[i]) + " is out of range");
    }
    n_outputs_ = static_cast<size_t>(std::count(b.want_logits.begin(), b.want_logits.end(), 1));
    logits_.resize(n_outputs_ * static_cast<size_t>(n_vocab));
    size_t out_index = 0;
    for (size_t start = 0; start < n; start += static_cast<size_t>(n_batch_)) {
        const auto len = static_cast<int64_t>(std::min(n - start, static_cast<size_t>(n_batch_)));
        forward(b.tokens.data() + start, b.positions.data() + start, b.seq_ids.data() + start,
                b.want_logits.data() + start, len);
        // forward() leaves this ubatch's logits at the front of out_rows_.
        const auto outs = static_cast<size_t>(std::count(b.want_logits.begin() + static_cast<std::ptrdiff_t>(start),
                                                         b.want_logits.begin() + static_cast<std::ptrdiff_t>(start) + len, 1));
        std::copy_n(out_rows_.begin(), outs * static_cast<size_t>(n_vocab),
                    logits_.begin() + static_cast<std::ptrdiff_t>(out_index * static_cast<size_t>(n_vocab)));
        out_index += outs;
    }
    return {};
}

std::span<const float> InferenceContext::logits(size_t i) const {
    const auto n_vocab = static_cast<size_t>(model_->hparams().n_vocab);
    return {logits_.data() + i * n_vocab, n_vocab};
}

void InferenceContext::forward(const int32_t* tokens, const int32_t* positions, const int32_t* seq_ids,
                               const uint8_t* want, int64_t n) {
    const Model& m = *model_;
    const HyperParams& h = m.hparams();
    const ArchTraits& arch = m.traits();
    kernels::Backend& be = *backend_;
    const int64_t d = h.n_embd, hd = h.head_dim, q_dim = h.n_head * hd, kv_dim = h.n_head_kv * hd;
    const auto eps = static_cast<float>(h.rms_eps);

    kernels::RopeParams rope;
    rope.n_dims = h.rope_dim;
    rope.theta_base = static_cast<float>(h.rope_theta);
    rope.freq_scale = h.rope_scaling == "linear" && h.rope_scaling_factor > 0
                          ? static_cast<float>(1.0 / h.rope_scaling_factor)
                          : 1.0f;
    rope.neox = arch.neox_rope;
    rope.freq_factors = m.rope_freqs();
    kernels::AttentionParams attn{h.n_head, h.n_head_kv, hd, 1.0f / std::sqrt(static_cast<float>(hd))};

    float* x = x_.data();
    be.get_rows(m.token_embd(), tokens, n, x);
    for (int64_t l = 0; l < h.n_layer; ++l) {
        const LayerWeights& L = m.layers()[static_cast<size_t>(l)];
        be.rms_norm(x, L.attn_norm, h_.data(), n, d, eps);
        const kernels::MatmulOutput qkv[] = {{&L.attn_q, q_.data()}, {&L.attn_k, k_.data()}, {&L.attn_v, v_.data()}};
        be.matmul_shared_input(qkv, h_.data(), n);
        if (L.q_bias) be.add_bias(q_.data(), L.q_bias, n, q_dim);
        if (L.k_bias) be.add_bias(k_.data(), L.k_bias, n, kv_dim);
        if (L.v_bias) be.add_bias(v_.data(), L.v_bias, n, kv_dim);
        if (L.q_norm) be.rms_norm(q_.data(), L.q_norm, q_.data(), n * h.n_head, hd, eps);
        if (L.k_norm) be.rms_norm(k_.data(), L.k_norm, k_.data(), n * h.n_head_kv, hd, eps);
        be.rope(q_.data(), n, h.n_head, hd, positions, rope);
        be.rope(k_.data(), n, h.n_head_kv, hd, positions, rope);
        be.store_kv(*cache_, l, k_.data(), v_.data(), n, seq_ids, positions);
        be.attention(*cache_, l, q_.data(), n, seq_ids, positions, attn, attn_.data());
        be.matmul(L.attn_output, attn_.data(), n, h_.data());
        be.add(x, h_.data(), n * d);
        be.rms_norm(x, L.ffn_norm, h_.data(), n, d, eps);
        const kernels::MatmulOutput gate_up[] = {{&L.ffn_gate, gate_.data()}, {&L.ffn_up, up_.data()}};
        be.matmul_shared_input(gate_up, h_.data(), n);
        be.swiglu(gate_.data(), up_.data(), n * h.n_ff);
        be.matmul(L.ffn_down, gate_.data(), n, h_.data());
        be.add(x, h_.data(), n * d);
    }
    // Only the rows that asked for logits go through the output head.
    int64_t n_out = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (!want[i]) continue;
        std::copy_n(x + i * d, d, h_.data() + n_out * d);
        ++n_out;
    }
    if (n_out == 0) return;
    be.rms_norm(h_.data(), m.output_norm(), h_.data(), n_out, d, eps);
    out_rows_.resize(static_cast<size_t>(n_out * h.n_vocab));
    be.matmul(m.output(), h_.data(), n_out, out_rows_.data());
}

}  // namespace hearth::llm
