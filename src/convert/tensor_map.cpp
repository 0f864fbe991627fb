#include "convert/tensor_map.h"

#include <algorithm>
#include <charconv>

namespace hearth::convert {
namespace {

struct Rename {
    std::string_view hf;    // after "model.layers.N."
    std::string_view gguf;  // after "blk.N."
};

constexpr Rename kBlockTensors[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// The HF shape ([out, in] or [n]) each GGUF tensor must have under `c`.
std::optional<std::vector<int64_t>> expected_hf_shape(const HfModelConfig& c, std::string_view gguf) {
    const int64_t q = c.n_head * c.head_dim, kv = c.n_head_kv * c.head_dim;
    if (gguf == "token_embd.weight" || gguf == "output.weight") return std::vector<int64_t>{c.n_vocab, c.n_embd};
    if (gguf == "output_norm.weight" || gguf == "attn_norm.weight" || gguf == "ffn_norm.weight")
        return std::vector<int64_t>{c.n_embd};
    if (gguf == "attn_q.weight") return std::vector<int64_t>{q, c.n_embd};
    if (gguf == "attn_k.weight" || gguf == "attn_v.weight") return std::vector<int64_t>{kv, c.n_embd};
    if (gguf == "attn_output.weight") return std::vector<int64_t>{c.n_embd, q};
    if (gguf == "attn_q.bias") return std::vector<int64_t>{q};
    if (gguf == "attn_k.bias" || gguf == "attn_v.bias") return std::vector<int64_t>{kv};
    if (gguf == "attn_q_norm.weight" || gguf == "attn_k_norm.weight") return std::vector<int64_t>{c.head_dim};
    if (gguf == "ffn_gate.weight" || gguf == "ffn_up.weight") return std::vector<int64_t>{c.n_ff, c.n_embd};
    if (gguf == "ffn_down.weight") return std::vector<int64_t>{c.n_embd, c.n_ff};
    return std::nullopt;
}

std::string shape_text(std::span<const int64_t> shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// "model.layers.12.rest" -> (12, "rest").
std::optional<std::pair<int64_t, std::string_view>> split_layer(std::string_view name) {
    constexpr std::string_view kPrefix = "model.layers.";
    if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    name.remove_prefix(kPrefix.size());
    int64_t layer = -1;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
    if (ec != std::errc() || end == name.data() + name.size() || *end != '.') return std::nullopt;
    return std::pair{layer, name.substr(static_cast<size_t>(end - name.data()) + 1)};
}

}  // namespace

Result<std::optional<TensorPlan>> plan_tensor(const HfModelConfig& c, std::string_view hf_name,
                                              std::span<const int64_t> hf_shape) {
    if (hf_name.find("rotary_emb.inv_freq") != std::string_view::npos) return std::optional<TensorPlan>();
    std::string gguf, base;
    if (hf_name == "model.embed_tokens.weight") {
        gguf = base = "token_embd.weight";
    } else if (hf_name == "model.norm.weight") {
        gguf = base = "output_norm.weight";
    } else if (hf_name == "lm_head.weight") {
        if (c.tied_embeddings) return std::optional<TensorPlan>();  // the embeddings serve as output
        gguf = base = "output.weight";
    } else if (auto layer = split_layer(hf_name)) {
        if (layer->first < 0 || layer->first >= c.n_layer)
            return make_error("tensor " + std::string(hf_name) + ": layer out of range (num_hidden_layers " +
                              std::to_string(c.n_layer) + ")");
        for (const Rename& r : kBlockTensors)
            if (layer->second == r.hf) base = r.gguf;
        gguf = "blk." + std::to_string(layer->first) + "." + base;
    }
    // (Q/K/V biases are kept for any architecture: Qwen2 has them, Llama with attention_bias too.)
    const bool qk_norm = base == "attn_q_norm.weight" || base == "attn_k_norm.weight";
    if (base.empty() || (qk_norm && c.gguf_arch != "qwen3"))
        return make_error("tensor " + std::string(hf_name) + " is not part of a " + c.hf_class +
                          " as hearth converts it");
    const auto expected = expected_hf_shape(c, base);
    if (!expected || !std::equal(expected->begin(), expected->end(), hf_shape.begin(), hf_shape.end()))
        return make_error("tensor " + std::string(hf_name) + " has shape " + shape_text(hf_shape) + ", config.json says " +
                          shape_text(expected.value_or(std::vector<int64_t>{})));
    TensorPlan plan;
    plan.name = gguf;
    plan.shape.assign(hf_shape.rbegin(), hf_shape.rend());
    if (c.permute_qk()) {
        if (base == "attn_q.weight" || base == "attn_q.bias") plan.permute_heads = c.n_head;
        if (base == "attn_k.weight" || base == "attn_k.bias") plan.permute_heads = c.n_head_kv;
    }
    return std::optional<TensorPlan>(std::move(plan));
}

std::vector<float> permute_rope_rows(std::span<const float> rows, int64_t heads, int64_t row_len) {
    const int64_t n_rows = static_cast<int64_t>(rows.size()) / row_len;
    const int64_t head_dim = n_rows / heads, half = head_dim / 2;
    std::vector<float> out(rows.size());
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t j = 0; j < half; ++j)
            for (int64_t k = 0; k < 2; ++k) {
                const float* src = rows.data() + (h * head_dim + k * half + j) * row_len;
                std::copy(src, src + row_len, out.data() + (h * head_dim + j * 2 + k) * row_len);
            }
    return out;
}

}  // namespace hearth::convert
