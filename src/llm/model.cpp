#include "llm/model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

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
    if (auto placed = model->place_layers(options); !placed) return placed.error();
    if (auto ok = model->bind_weights(); !ok) return ok.error();
    return std::shared_ptr<const Model>(std::move(model));
}

namespace {

std::string gib(double bytes) {
    char s[32];
    std::snprintf(s, sizeof s, "%.2f GiB", bytes / 1073741824.0);
    return s;
}

}  // namespace

// Which device holds each layer. A GPU holds the first gpu_layers layers (auto: as many
// as fit with their share of the KV cache in 90% of its memory, the rest kept for
// activations), the CPU the others. The token embedding lives with the first layer,
// the output head with the last. A count that does not fit is an error naming both
// sizes, before anything is uploaded.
Result<void> Model::place_layers(const LoadOptions& options) {
    const std::shared_ptr<kernels::Device> device = options.device ? options.device : kernels::cpu_device();
    const int64_t n_layer = hp_.n_layer;
    devices_ = {device};
    layer_device_.assign(static_cast<size_t>(n_layer), 0);
    device_bytes_.assign(1, 0);
    const kernels::DeviceInfo& d = device->info();
    if (d.kind == "cpu" || d.memory_bytes == 0) return {};
    // Bytes of each layer's tensors, and of what sits outside the layers.
    std::vector<uint64_t> layer_bytes(static_cast<size_t>(n_layer), 0);
    uint64_t outside = 0;
    for (const gguf::TensorInfo& t : file_.tensors()) {
        int layer = -1;
        if (t.name.rfind("blk.", 0) == 0) layer = std::atoi(t.name.c_str() + 4);
        if (layer >= 0 && layer < n_layer) layer_bytes[static_cast<size_t>(layer)] += t.n_bytes;
        else outside += t.n_bytes;
    }
    auto gpu_bytes = [&](int64_t n) {
        uint64_t b = n > 0 ? outside : 0;  // the embedding and output head go with their layers
        for (int64_t l = 0; l < n; ++l) b += layer_bytes[static_cast<size_t>(l)];
        return b;
    };
    const int64_t kv_ctx = options.kv_ctx > 0 ? options.kv_ctx
                                              : std::min<int64_t>(hp_.n_ctx_train > 0 ? hp_.n_ctx_train : 4096, 4096);
    const double kv_per_layer = kernels::KvCacheShape::bytes_per_position(1, hp_.n_head_kv, hp_.head_dim, options.kv_type) *
                                static_cast<double>(kv_ctx) * std::max(1, options.kv_seq);
    int64_t n_gpu = options.gpu_layers < 0 ? n_layer : std::min<int64_t>(options.gpu_layers, n_layer);
    if (options.gpu_layers < 0) {
        while (n_gpu > 0 && static_cast<double>(gpu_bytes(n_gpu)) + kv_per_layer * static_cast<double>(n_gpu) >
                                0.9 * static_cast<double>(d.memory_bytes))
            --n_gpu;
    } else if (gpu_bytes(n_gpu) > d.memory_bytes) {
        return make_error(std::to_string(n_gpu) + " layers need " + gib(static_cast<double>(gpu_bytes(n_gpu))) + " but " +
                          d.name + " has " + gib(static_cast<double>(d.memory_bytes)) +
                          " of memory: give fewer --gpu-layers (or auto)");
    }
    if (n_gpu == n_layer) return {};
    if (n_gpu == 0) {
        devices_ = {kernels::cpu_device()};
        if (options.gpu_layers < 0)
            placement_note_ = " (not one layer fits in " + d.name + "'s " + gib(static_cast<double>(d.memory_bytes)) +
                              " beside its KV cache)";
        return {};
    }
    devices_.push_back(kernels::cpu_device());
    device_bytes_.assign(2, 0);
    for (int64_t l = n_gpu; l < n_layer; ++l) layer_device_[static_cast<size_t>(l)] = 1;
    return {};
}

std::string Model::placement() const {
    const int64_t n = hp_.n_layer;
    const kernels::DeviceInfo& first = devices_.front()->info();
    if (devices_.size() == 1) return "all " + std::to_string(n) + " layers on " + first.name + placement_note_;
    const auto on_first = std::count(layer_device_.begin(), layer_device_.end(), 0);
    return "layers 0-" + std::to_string(on_first - 1) + " on " + first.name + ", " + std::to_string(on_first) + "-" +
           std::to_string(n - 1) + " and the output on " + devices_.back()->info().name;
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
                                              const kernels::PrepareOptions& o, int device) {
    auto v = view(name, cols, rows);
    if (!v) return v.error();
    return place(name, *v, o, device);
}

Result<const kernels::Weights*> Model::place(const std::string& name, const kernels::WeightView& v,
                                             const kernels::PrepareOptions& o, int device, bool release) {
    auto w = devices_[static_cast<size_t>(device)]->prepare_matrix(v, o);
    if (!w) return make_error("tensor '" + name + "': " + w.error().message);
    device_bytes_[static_cast<size_t>(device)] += v.bytes();
    // The file's pages stay while another device may still prepare the same tensor (tied).
    if (!(*w)->reads_host_bytes() && release) file_.release({v.data, v.bytes()});
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

Result<const kernels::Weights*> Model::prepared_vector(const std::string& name, int64_t n, int device, bool required) {
    auto v = vector(name, n, required);
    if (!v) return v.error();
    if (*v == nullptr) return static_cast<const kernels::Weights*>(nullptr);
    auto w = devices_[static_cast<size_t>(device)]->prepare_vector(*v, n);
    if (w) device_bytes_[static_cast<size_t>(device)] += static_cast<uint64_t>(n) * 4;
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
    const int first = embedding_device(), last = output_device();
    if (tied_) {
        // One matrix for both: the output multiplies it, get_rows reads the embedding's rows
        // (a copy on each device where the two sit apart).
        auto out = place("token_embd.weight", token_embd_view_, multiplied, last, first == last);
        if (!out) return out.error();
        output_ = token_embd_ = *out;
        if (first != last) {
            auto embd = place("token_embd.weight", token_embd_view_, {.multiplied = false, .copy = copy_}, first);
            if (!embd) return embd.error();
            token_embd_ = *embd;
        }
    } else {
        auto out = matrix("output.weight", h.n_embd, h.n_vocab, multiplied, last);
        if (!out) return out.error();
        output_ = *out;
        // An untied token embedding is only read row by row (get_rows), never multiplied.
        auto embd = place("token_embd.weight", token_embd_view_, {.multiplied = false, .copy = copy_}, first);
        if (!embd) return embd.error();
        token_embd_ = *embd;
    }
    auto norm = prepared_vector("output_norm.weight", h.n_embd, last);
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
            auto w = matrix(block_tensor(l, m.name), m.cols, m.rows, multiplied, layer_device(l));
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
            auto w = prepared_vector(block_tensor(l, v.name), v.n, layer_device(l), v.required);
            if (!w) return w.error();
            *v.dst = *w;
        }
    }
    return {};
}

}  // namespace hearth::llm
