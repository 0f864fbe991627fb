#include "llm/model.h"

#include <cstdlib>
#include <cstring>

#include "tensor/quant.h"

namespace hearth::llm {

extern const ArchTraits kLlamaTraits;
extern const ArchTraits kQwen2Traits;
extern const ArchTraits kQwen3Traits;

const ArchTraits& arch_traits(Arch arch) {
    switch (arch) {
        case Arch::Llama: return kLlamaTraits;
        case Arch::Qwen2: return kQwen2Traits;
        case Arch::Qwen3: return kQwen3Traits;
    }
    return kLlamaTraits;
}

Result<std::shared_ptr<const Model>> Model::load(const std::string& path, const LoadOptions& options) {
    auto file = gguf::GgufFile::open(path);
    if (!file) return file.error();
    auto model = from_file(std::move(file).value(), options);
    if (!model) return make_error(path + ": " + model.error().message);
    return model;
}

Result<std::shared_ptr<const Model>> Model::from_file(gguf::GgufFile file, const LoadOptions& options) {
    auto model = std::shared_ptr<Model>(new Model());
    model->file_ = std::move(file);
    auto hp = read_hyper_params(model->file_);
    if (!hp) return hp.error();
    model->hp_ = std::move(hp).value();
    const auto arch = arch_from_name(model->hp_.architecture);
    if (!arch) return make_error("architecture '" + model->hp_.architecture + "' is not supported (llama, qwen2, qwen3)");
    model->traits_ = &arch_traits(*arch);
    const HyperParams& h = model->hp_;
    if (h.n_embd <= 0 || h.n_layer <= 0 || h.n_head <= 0 || h.n_head_kv <= 0 || h.n_ff <= 0 || h.head_dim <= 0 ||
        h.n_vocab <= 0)
        return make_error("model hyper-parameters are missing or invalid");
    if (h.rope_dim <= 0 || h.rope_dim > h.head_dim || h.rope_dim % 2 != 0)
        return make_error("rope dimension " + std::to_string(h.rope_dim) + " does not fit head dimension " +
                          std::to_string(h.head_dim));
    if (!h.rope_scaling.empty() && h.rope_scaling != "none" && h.rope_scaling != "linear")
        return make_error("rope scaling '" + h.rope_scaling + "' is not supported");
    if (auto ok = model->bind_weights(); !ok) return ok.error();
    model->pack_weights(options);
    return std::shared_ptr<const Model>(std::move(model));
}

Result<kernels::WeightMatrix> Model::matrix(const std::string& name, int64_t cols, int64_t rows) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) return make_error("tensor '" + name + "' is missing");
    if (t->shape.size() != 2 || t->shape[0] != cols || t->shape[1] != rows)
        return make_error("tensor '" + name + "' has shape " + t->shape_string() + ", expected [" +
                          std::to_string(cols) + ", " + std::to_string(rows) + "]");
    if (!kernels::matmul_supported(t->type))
        return make_error("tensor '" + name + "' has type " + std::string(gguf::type_name(t->type)) +
                          ", which hearth cannot compute with yet");
    weight_bytes_ += t->n_bytes;
    return kernels::WeightMatrix{t->type, file_.tensor_data(*t).data(), rows, cols,
                                 static_cast<size_t>(t->n_bytes / static_cast<uint64_t>(rows))};
}

Result<const float*> Model::vector(const std::string& name, int64_t n, bool required) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) {
        if (required) return make_error("tensor '" + name + "' is missing");
        return static_cast<const float*>(nullptr);
    }
    if (t->n_elements != n)
        return make_error("tensor '" + name + "' has shape " + t->shape_string() + ", expected " + std::to_string(n) +
                          " elements");
    weight_bytes_ += t->n_bytes;
    const auto bytes = file_.tensor_data(*t);
    if (t->type == gguf::GgmlType::F32 && reinterpret_cast<uintptr_t>(bytes.data()) % alignof(float) == 0)
        return reinterpret_cast<const float*>(bytes.data());
    auto values = tensor::dequantize(t->type, bytes, n);
    if (!values) return make_error("tensor '" + name + "': " + values.error().message);
    converted_.push_back(std::move(values).value());
    return static_cast<const float*>(converted_.back().data());
}

void Model::pack_weights(const LoadOptions& options) {
    const char* panels_env = std::getenv("HEARTH_WEIGHT_PANELS");  // =0: for comparisons
    const bool panels = panels_env == nullptr || std::strcmp(panels_env, "0") != 0, copy = !options.mmap;
    // Every multiplied matrix ends up in memory of its own: packed for the kernels where
    // they want another layout, else copied as it is. Decode streams all of it once per
    // token, and anonymous huge pages read faster than the file's page cache, even
    // mapped in 2 MiB pages (2-core KVM host, Llama-1B-shape Q8_0 tg 2 threads, copy
    // against mapping in interleaved pairs: median x1.20 over 6 pairs, 1.09-1.48).
    // Without memory for a copy the matrix stays in the mapping.
    // The file's pages of a matrix placed elsewhere are dropped from the mapping, so the
    // resident set counts the model once.
    auto place = [&](kernels::WeightMatrix& w) {
        const std::span<const uint8_t> stored(w.data, static_cast<size_t>(w.rows) * w.row_bytes);
        if (panels) {
            if (auto p = kernels::pack_for_matmul(w); p.bytes) {
                packed_.push_back(std::move(p));
                file_.release(stored);
                return;
            }
        }
        if (!copy) return;
        kernels::PackedWeights c;
        c.size = stored.size();
        c.bytes = allocate_large_buffer(c.size);
        if (!c.bytes) return;
        std::memcpy(c.bytes.get(), w.data, c.size);
        w.data = c.bytes.get();
        packed_.push_back(std::move(c));
        file_.release(stored);
    };
    // An untied token embedding is only read row by row (get_rows), never multiplied.
    const bool tied = output_.data == token_embd_.data;
    place(output_);
    if (tied) {
        token_embd_.data = output_.data;
        token_embd_.panels = output_.panels;
    }
    for (LayerWeights& L : layers_) {
        for (kernels::WeightMatrix* w : {&L.attn_q, &L.attn_k, &L.attn_v, &L.attn_output, &L.ffn_gate, &L.ffn_up, &L.ffn_down})
            place(*w);
    }
}

Result<void> Model::bind_weights() {
    const HyperParams& h = hp_;
    const int64_t q_dim = h.n_head * h.head_dim, kv_dim = h.n_head_kv * h.head_dim;
    converted_.reserve(static_cast<size_t>(8 * h.n_layer + 8));  // pointers into it must stay valid
    auto embd = matrix("token_embd.weight", h.n_embd, h.n_vocab);
    if (!embd) return embd.error();
    token_embd_ = *embd;
    if (file_.find_tensor("output.weight")) {
        auto out = matrix("output.weight", h.n_embd, h.n_vocab);
        if (!out) return out.error();
        output_ = *out;
    } else {
        output_ = token_embd_;  // tied embeddings
    }
    auto norm = vector("output_norm.weight", h.n_embd);
    if (!norm) return norm.error();
    output_norm_ = *norm;
    auto freqs = vector("rope_freqs.weight", h.rope_dim / 2, false);
    if (!freqs) return freqs.error();
    rope_freqs_ = *freqs;

    layers_.resize(static_cast<size_t>(h.n_layer));
    for (int l = 0; l < h.n_layer; ++l) {
        LayerWeights& L = layers_[static_cast<size_t>(l)];
        struct M {
            kernels::WeightMatrix* dst;
            const char* name;
            int64_t cols, rows;
        };
        for (const M& m : {M{&L.attn_q, "attn_q.weight", h.n_embd, q_dim}, M{&L.attn_k, "attn_k.weight", h.n_embd, kv_dim},
                           M{&L.attn_v, "attn_v.weight", h.n_embd, kv_dim},
                           M{&L.attn_output, "attn_output.weight", q_dim, h.n_embd},
                           M{&L.ffn_gate, "ffn_gate.weight", h.n_embd, h.n_ff}, M{&L.ffn_up, "ffn_up.weight", h.n_embd, h.n_ff},
                           M{&L.ffn_down, "ffn_down.weight", h.n_ff, h.n_embd}}) {
            auto w = matrix(block_tensor(l, m.name), m.cols, m.rows);
            if (!w) return w.error();
            *m.dst = *w;
        }
        struct V {
            const float** dst;
            const char* name;
            int64_t n;
            bool required;
        };
        const bool bias = traits_->qkv_bias, qk = traits_->qk_norm;
        for (const V& v : {V{&L.attn_norm, "attn_norm.weight", h.n_embd, true}, V{&L.ffn_norm, "ffn_norm.weight", h.n_embd, true},
                           V{&L.q_bias, "attn_q.bias", q_dim, bias}, V{&L.k_bias, "attn_k.bias", kv_dim, bias},
                           V{&L.v_bias, "attn_v.bias", kv_dim, bias}, V{&L.q_norm, "attn_q_norm.weight", h.head_dim, qk},
                           V{&L.k_norm, "attn_k_norm.weight", h.head_dim, qk}}) {
            auto w = vector(block_tensor(l, v.name), v.n, v.required);
            if (!w) return w.error();
            *v.dst = *w;
        }
    }
    return {};
}

}  // namespace hearth::llm
