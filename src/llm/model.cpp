#include "llm/model.h"

#include <cstdio>

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
    model->device_ = options.device ? options.device : kernels::cpu_device();
    model->copy_ = !options.mmap;
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
    if (h.n_head % h.n_head_kv != 0)
        return make_error(std::to_string(h.n_head) + " attention heads do not divide into " + std::to_string(h.n_head_kv) +
                          " key/value heads");
    if (h.rope_dim <= 0 || h.rope_dim > h.head_dim || h.rope_dim % 2 != 0)
        return make_error("rope dimension " + std::to_string(h.rope_dim) + " does not fit head dimension " +
                          std::to_string(h.head_dim));
    if (!h.rope_scaling.empty() && h.rope_scaling != "none" && h.rope_scaling != "linear")
        return make_error("rope scaling '" + h.rope_scaling + "' is not supported");
    if (auto fits = model->check_fits_device(); !fits) return fits.error();
    if (auto ok = model->bind_weights(); !ok) return ok.error();
    return std::shared_ptr<const Model>(std::move(model));
}

// A GPU holds every weight in its own memory: a model larger than that is an error
// before anything is uploaded, naming both sizes.
Result<void> Model::check_fits_device() const {
    const kernels::DeviceInfo& d = device_->info();
    if (d.kind == "cpu" || d.memory_bytes == 0) return {};
    uint64_t bytes = 0;
    for (const gguf::TensorInfo& t : file_.tensors()) bytes += t.n_bytes;
    if (bytes <= d.memory_bytes) return {};
    char why[256];
    std::snprintf(why, sizeof why, "the model's weights need %.2f GiB but %s has %.2f GiB of memory", bytes / 1073741824.0,
                  d.name.c_str(), d.memory_bytes / 1073741824.0);
    return make_error(why);
}

Result<kernels::WeightView> Model::view(const std::string& name, int64_t cols, int64_t rows) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) return make_error("tensor '" + name + "' is missing");
    if (t->shape.size() != 2 || t->shape[0] != cols || t->shape[1] != rows)
        return make_error("tensor '" + name + "' has shape " + t->shape_string() + ", expected [" +
                          std::to_string(cols) + ", " + std::to_string(rows) + "]");
    if (!kernels::matmul_supported(t->type))
        return make_error("tensor '" + name + "' has type " + std::string(gguf::type_name(t->type)) +
                          ", which hearth cannot compute with yet");
    weight_bytes_ += t->n_bytes;
    return kernels::WeightView{t->type, file_.tensor_data(*t).data(), rows, cols,
                               static_cast<size_t>(t->n_bytes / static_cast<uint64_t>(rows))};
}

// The device places the matrix; the file's pages of a matrix placed elsewhere are dropped
// from the mapping, so the resident set counts the model once.
Result<const kernels::Weights*> Model::matrix(const std::string& name, int64_t cols, int64_t rows,
                                              const kernels::PrepareOptions& o) {
    auto v = view(name, cols, rows);
    if (!v) return v.error();
    return place(name, *v, o);
}

Result<const kernels::Weights*> Model::place(const std::string& name, const kernels::WeightView& v,
                                             const kernels::PrepareOptions& o) {
    auto w = device_->prepare_matrix(v, o);
    if (!w) return make_error("tensor '" + name + "': " + w.error().message);
    if (!(*w)->reads_host_bytes()) file_.release({v.data, v.bytes()});
    prepared_.push_back(std::move(w).value());
    return static_cast<const kernels::Weights*>(prepared_.back().get());
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

Result<const kernels::Weights*> Model::prepared_vector(const std::string& name, int64_t n, bool required) {
    auto v = vector(name, n, required);
    if (!v) return v.error();
    if (*v == nullptr) return static_cast<const kernels::Weights*>(nullptr);
    auto w = device_->prepare_vector(*v, n);
    if (!w) return make_error("tensor '" + name + "': " + w.error().message);
    prepared_.push_back(std::move(w).value());
    return static_cast<const kernels::Weights*>(prepared_.back().get());
}

Result<void> Model::bind_weights() {
    const HyperParams& h = hp_;
    const int64_t q_dim = h.n_head * h.head_dim, kv_dim = h.n_head_kv * h.head_dim;
    converted_.reserve(static_cast<size_t>(8 * h.n_layer + 8));  // pointers into it must stay valid
    const kernels::PrepareOptions multiplied{.multiplied = true, .copy = copy_};
    auto embd_view = view("token_embd.weight", h.n_embd, h.n_vocab);
    if (!embd_view) return embd_view.error();
    token_embd_view_ = *embd_view;
    tied_ = file_.find_tensor("output.weight") == nullptr;
    if (tied_) {
        // One matrix for both: the output multiplies it, get_rows reads the embedding's rows.
        auto out = place("token_embd.weight", token_embd_view_, multiplied);
        if (!out) return out.error();
        output_ = token_embd_ = *out;
    } else {
        auto out = matrix("output.weight", h.n_embd, h.n_vocab, multiplied);
        if (!out) return out.error();
        output_ = *out;
        // An untied token embedding is only read row by row (get_rows), never multiplied.
        auto embd = place("token_embd.weight", token_embd_view_, {.multiplied = false, .copy = copy_});
        if (!embd) return embd.error();
        token_embd_ = *embd;
    }
    auto norm = prepared_vector("output_norm.weight", h.n_embd);
    if (!norm) return norm.error();
    output_norm_ = *norm;
    auto freqs = vector("rope_freqs.weight", h.rope_dim / 2, false);
    if (!freqs) return freqs.error();
    rope_freqs_ = *freqs;

    layers_.resize(static_cast<size_t>(h.n_layer));
    for (int l = 0; l < h.n_layer; ++l) {
        LayerWeights& L = layers_[static_cast<size_t>(l)];
        struct M {
            const kernels::Weights** dst;
            const char* name;
            int64_t cols, rows;
        };
        for (const M& m : {M{&L.attn_q, "attn_q.weight", h.n_embd, q_dim}, M{&L.attn_k, "attn_k.weight", h.n_embd, kv_dim},
                           M{&L.attn_v, "attn_v.weight", h.n_embd, kv_dim},
                           M{&L.attn_output, "attn_output.weight", q_dim, h.n_embd},
                           M{&L.ffn_gate, "ffn_gate.weight", h.n_embd, h.n_ff}, M{&L.ffn_up, "ffn_up.weight", h.n_embd, h.n_ff},
                           M{&L.ffn_down, "ffn_down.weight", h.n_ff, h.n_embd}}) {
            auto w = matrix(block_tensor(l, m.name), m.cols, m.rows, multiplied);
            if (!w) return w.error();
            *m.dst = *w;
        }
        struct V {
            const kernels::Weights** dst;
            const char* name;
            int64_t n;
            bool required;
        };
        const bool bias = traits_->qkv_bias, qk = traits_->qk_norm;
        for (const V& v : {V{&L.attn_norm, "attn_norm.weight", h.n_embd, true}, V{&L.ffn_norm, "ffn_norm.weight", h.n_embd, true},
                           V{&L.q_bias, "attn_q.bias", q_dim, bias}, V{&L.k_bias, "attn_k.bias", kv_dim, bias},
                           V{&L.v_bias, "attn_v.bias", kv_dim, bias}, V{&L.q_norm, "attn_q_norm.weight", h.head_dim, qk},
                           V{&L.k_norm, "attn_k_norm.weight", h.head_dim, qk}}) {
            auto w = prepared_vector(block_tensor(l, v.name), v.n, v.required);
            if (!w) return w.error();
            *v.dst = *w;
        }
    }
    return {};
}

}  // namespace hearth::llm
