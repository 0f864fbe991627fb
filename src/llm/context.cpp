#include "llm/context.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>
#include <string>

namespace hearth::llm {

namespace {

std::string gib(double bytes) {
    char s[32];
    std::snprintf(s, sizeof s, "%.1f GiB", bytes / (1u << 30));
    return s;
}

}  // namespace

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
    const Model& m = *ctx->model_;
    std::vector<int64_t> per_stage(m.devices().size(), 0);
    for (int64_t l = 0; l < h.n_layer; ++l) ctx->stage_layer_.push_back(per_stage[static_cast<size_t>(m.layer_device(l))]++);
    ctx->stages_.resize(m.devices().size());
    for (size_t i = 0; i < m.devices().size(); ++i) {
        if (auto s = ctx->create_stage(*m.devices()[i], static_cast<int>(i), per_stage[i], o); !s) return s.error();
    }
    return ctx;
}

// A backend on the device with the KV cache of the device's layers and activations for
// one ubatch. A cache beyond the device's memory is an error, not an abort in the
// allocator (or the OOM killer); a GPU's memory also holds the model's weights.
Result<void> InferenceContext::create_stage(kernels::Device& device, int index, int64_t n_layers,
                                           const ContextOptions& o) {
    const HyperParams& h = model_->hparams();
    Stage& st = stages_[static_cast<size_t>(index)];
    auto backend = device.make_backend(o.n_threads);
    if (!backend) return backend.error();
    st.backend = std::move(backend).value();
    const kernels::KvCacheShape shape{n_layers, n_seq_, n_ctx_, h.n_head_kv, h.head_dim, o.kv_type};
    const kernels::DeviceInfo& info = device.info();
    const bool gpu = info.kind != "cpu";
    const double weights = gpu ? static_cast<double>(model_->device_weight_bytes(index)) : 0.0;
    const double room = static_cast<double>(info.memory_bytes) - weights;
    std::string why = "the KV cache for " + std::to_string(n_ctx_) + " positions x " + std::to_string(n_seq_) +
                      " sequences needs " + gib(shape.bytes());
    if (model_->devices().size() > 1) why += " on " + info.name;
    if (info.memory_bytes > 0 && shape.bytes() > room) {
        why += gpu ? ", more than the " + gib(room) + " that " + info.name + " has beside the model's " + gib(weights) +
                         " (a smaller --ctx-size or fewer --gpu-layers fit)"
                   : ", more than the " + gib(room) + " of memory here";
        return make_error(why);
    }
    if (auto kv = st.backend->allocate_kv_cache(shape); !kv) return make_error(why + ": " + kv.error().message);
    const int64_t nb = n_batch_, q_dim = h.n_head * h.head_dim, kv_dim = h.n_head_kv * h.head_dim;
    const std::pair<std::unique_ptr<kernels::Buffer>*, int64_t> buffers[] = {
        {&st.x, nb * h.n_embd}, {&st.h, nb * h.n_embd},   {&st.q, nb * q_dim},      {&st.k, nb * kv_dim},
        {&st.v, nb * kv_dim},   {&st.attn, nb * q_dim}, {&st.gate, nb * h.n_ff}, {&st.up, nb * h.n_ff}};
    for (const auto& [buffer, n] : buffers) {
        auto b = st.backend->allocate(n);
        if (!b) return make_error("activations for batches of " + std::to_string(nb) + " tokens: " + b.error().message);
        *buffer = std::move(b).value();
    }
    return {};
}

size_t InferenceContext::kv_cache_bytes() const {
    size_t bytes = 0;
    for (const Stage& st : stages_) bytes += st.backend->kv_cache_bytes();
    return bytes;
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
        const size_t len = std::min(n - start, static_cast<size_t>(n_batch_));
        const auto wanted = std::count(b.want_logits.begin() + static_cast<std::ptrdiff_t>(start),
                                       b.want_logits.begin() + static_cast<std::ptrdiff_t>(start + len), 1);
        if (auto room = reserve_logit_rows(wanted); !room) return room.error();
        const kernels::BatchView view{std::span(b.tokens).subspan(start, len), std::span(b.positions).subspan(start, len),
                                      std::span(b.seq_ids).subspan(start, len), std::span(b.want_logits).subspan(start, len)};
        for (Stage& st : stages_) st.backend->begin_batch(view);
        auto outs = forward(static_cast<int64_t>(len));
        if (!outs) return outs.error();
        const auto n_values = static_cast<size_t>(*outs) * static_cast<size_t>(n_vocab);
        if (n_values > 0) {
            kernels::Backend& out = *stages_[static_cast<size_t>(model_->output_device())].backend;
            auto read = out.read(*out_rows_, 0, std::span(logits_).subspan(out_index * static_cast<size_t>(n_vocab), n_values));
            if (!read) return read.error();
        }
        out_index += static_cast<size_t>(*outs);
    }
    for (Stage& st : stages_) {
        if (auto done = st.backend->synchronize(); !done) return done.error();
    }
    return {};
}

// The output head's buffer grows to the most rows of logits a ubatch has asked for.
Result<void> InferenceContext::reserve_logit_rows(int64_t rows) {
    const int64_t n_vocab = model_->hparams().n_vocab;
    if (rows == 0 || (out_rows_ && out_rows_->size() >= rows * n_vocab)) return {};
    kernels::Backend& out = *stages_[static_cast<size_t>(model_->output_device())].backend;
    if (auto done = out.synchronize(); !done) return done.error();  // nothing in flight reads the old one
    out_rows_.reset();
    auto buffer = out.allocate(rows * n_vocab);
    if (!buffer) return make_error("logits of " + std::to_string(rows) + " tokens: " + buffer.error().message);
    out_rows_ = std::move(buffer).value();
    return {};
}

std::span<const float> InferenceContext::logits(size_t i) const {
    const auto n_vocab = static_cast<size_t>(model_->hparams().n_vocab);
    return {logits_.data() + i * n_vocab, n_vocab};
}

Result<int64_t> InferenceContext::forward(int64_t n) {
    const Model& m = *model_;
    const HyperParams& h = m.hparams();
    const ArchTraits& arch = m.traits();
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
    const kernels::AttentionParams attn_params{h.n_head, h.n_head_kv, hd, 1.0f / std::sqrt(static_cast<float>(hd))};

    int stage = m.embedding_device();
    stages_[static_cast<size_t>(stage)].backend->get_rows(m.token_embd(), *stages_[static_cast<size_t>(stage)].x);
    for (int64_t l = 0; l < h.n_layer; ++l) {
        if (m.layer_device(l) != stage) {
            const int next = m.layer_device(l);
            if (auto moved = hand_over(stages_[static_cast<size_t>(stage)], stages_[static_cast<size_t>(next)], n); !moved)
                return moved.error();
            stage = next;
        }
        Stage& st = stages_[static_cast<size_t>(stage)];
        kernels::Backend& be = *st.backend;
        const LayerWeights& L = m.layers()[static_cast<size_t>(l)];
        const int64_t kv_layer = stage_layer_[static_cast<size_t>(l)];
        be.rms_norm(*st.x, *L.attn_norm, *st.h, n, d, eps);
        const kernels::MatmulProduct qkv[] = {{L.attn_q, st.q.get()}, {L.attn_k, st.k.get()}, {L.attn_v, st.v.get()}};
        be.matmul_shared_input(qkv, *st.h, n);
        if (L.q_bias) be.add_bias(*st.q, *L.q_bias, n, q_dim);
        if (L.k_bias) be.add_bias(*st.k, *L.k_bias, n, kv_dim);
        if (L.v_bias) be.add_bias(*st.v, *L.v_bias, n, kv_dim);
        if (L.q_norm) be.rms_norm(*st.q, *L.q_norm, *st.q, n * h.n_head, hd, eps);
        if (L.k_norm) be.rms_norm(*st.k, *L.k_norm, *st.k, n * h.n_head_kv, hd, eps);
        be.rope(*st.q, h.n_head, hd, rope);
        be.rope(*st.k, h.n_head_kv, hd, rope);
        be.store_kv(kv_layer, *st.k, *st.v);
        be.attention(kv_layer, *st.q, attn_params, *st.attn);
        be.matmul(*L.attn_output, *st.attn, n, *st.h);
        be.add(*st.x, *st.h, n * d);
        be.rms_norm(*st.x, *L.ffn_norm, *st.h, n, d, eps);
        const kernels::MatmulProduct gate_up[] = {{L.ffn_gate, st.gate.get()}, {L.ffn_up, st.up.get()}};
        be.matmul_shared_input(gate_up, *st.h, n);
        be.swiglu(*st.gate, *st.up, n * h.n_ff);
        be.matmul(*L.ffn_down, *st.gate, n, *st.h);
        be.add(*st.x, *st.h, n * d);
    }
    // Only the rows that asked for logits go through the output head.
    Stage& st = stages_[static_cast<size_t>(stage)];
    const int64_t n_out = st.backend->gather_logit_rows(*st.x, d, *st.h);
    if (n_out == 0) return n_out;
    st.backend->rms_norm(*st.h, m.output_norm(), *st.h, n_out, d, eps);
    st.backend->matmul(m.output(), *st.h, n_out, *out_rows_);
    return n_out;
}

Result<void> InferenceContext::hand_over(const Stage& from, Stage& to, int64_t n) {
    const auto values = static_cast<size_t>(n * model_->hparams().n_embd);
    handed_.resize(values);
    if (auto r = from.backend->read(*from.x, 0, handed_); !r) return r.error();
    to.backend->write(*to.x, handed_);
    return {};
}

}  // namespace hearth::llm
