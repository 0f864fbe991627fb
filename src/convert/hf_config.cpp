#include "convert/hf_config.h"

#include <nlohmann/json.hpp>

namespace hearth::convert {
namespace {

using json = nlohmann::json;

Result<int64_t> positive_int(const json& j, const char* key, std::optional<int64_t> fallback = std::nullopt) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (fallback) return *fallback;
        return make_error(std::string("config.json: '") + key + "' is missing");
    }
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > (int64_t{1} << 40))
        return make_error(std::string("config.json: '") + key + "' must be a positive integer");
    return it->get<int64_t>();
}

double number_or(const json& j, const char* key, double fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

Result<std::string> gguf_arch_for(const json& j, std::string* hf_class) {
    auto it = j.find("architectures");
    if (it == j.end() || !it->is_array() || it->empty() || !(*it)[0].is_string())
        return make_error("config.json has no \"architectures\" list");
    *hf_class = (*it)[0].get<std::string>();
    if (*hf_class == "LlamaForCausalLM" || *hf_class == "MistralForCausalLM") return std::string("llama");
    if (*hf_class == "Qwen2ForCausalLM") return std::string("qwen2");
    if (*hf_class == "Qwen3ForCausalLM") return std::string("qwen3");
    return make_error("architecture " + *hf_class + " is not supported (supported: " + std::string(kSupportedHfClasses) +
                      ")");
}

Result<void> read_rope_scaling(const json& j, HfModelConfig& c) {
    auto it = j.find("rope_scaling");
    if (it == j.end() || it->is_null()) return {};
    if (!it->is_object()) return make_error("config.json: 'rope_scaling' must be an object");
    const json& r = *it;
    std::string type = r.contains("rope_type") && r["rope_type"].is_string() ? r["rope_type"].get<std::string>()
                       : r.contains("type") && r["type"].is_string()     ? r["type"].get<std::string>()
                                                                          : "";
    if (type == "default" || type.empty()) return {};
    const double factor = number_or(r, "factor", 0);
    if (!(factor > 0)) return make_error("config.json: rope_scaling needs a positive 'factor'");
    if (type == "linear") {
        c.linear_rope_factor = factor;
        return {};
    }
    if (type == "llama3") {
        Llama3RopeScaling s;
        s.factor = factor;
        s.low_freq_factor = number_or(r, "low_freq_factor", 1);
        s.high_freq_factor = number_or(r, "high_freq_factor", 4);
        s.original_context = number_or(r, "original_max_position_embeddings", 8192);
        if (!(s.high_freq_factor > s.low_freq_factor) || !(s.original_context > 0))
            return make_error("config.json: llama3 rope_scaling needs high_freq_factor > low_freq_factor");
        c.llama3_rope = s;
        return {};
    }
    return make_error("config.json: rope_scaling type '" + type + "' is not supported (linear, llama3)");
}

}  // namespace

Result<HfModelConfig> parse_hf_config(std::string_view config_json) {
    const json j = json::parse(config_json, nullptr, false);
    if (!j.is_object()) return make_error("config.json is not a JSON object");
    HfModelConfig c;
    auto arch = gguf_arch_for(j, &c.hf_class);
    if (!arch) return arch.error();
    c.gguf_arch = *arch;
    auto vocab = positive_int(j, "vocab_size");
    auto embd = positive_int(j, "hidden_size");
    auto layers = positive_int(j, "num_hidden_layers");
    auto heads = positive_int(j, "num_attention_heads");
    auto ff = positive_int(j, "intermediate_size");
    auto ctx = positive_int(j, "max_position_embeddings", 4096);
    for (const auto* r : {&vocab, &embd, &layers, &heads, &ff, &ctx})
        if (!*r) return r->error();
    c.n_vocab = *vocab;
    c.n_embd = *embd;
    c.n_layer = *layers;
    c.n_head = *heads;
    c.n_ff = *ff;
    c.n_ctx = *ctx;
    auto kv_heads = positive_int(j, "num_key_value_heads", c.n_head);
    if (!kv_heads) return kv_heads.error();
    c.n_head_kv = *kv_heads;
    auto head_dim = positive_int(j, "head_dim", c.n_embd / c.n_head);
    if (!head_dim) return head_dim.error();
    c.head_dim = *head_dim;
    if (c.n_head % c.n_head_kv != 0)
        return make_error("config.json: num_attention_heads " + std::to_string(c.n_head) +
                          " is not a multiple of num_key_value_heads " + std::to_string(c.n_head_kv));
    if (c.head_dim % 2 != 0) return make_error("config.json: the head dimension must be even");
    c.rms_eps = number_or(j, "rms_norm_eps", 1e-6);
    c.rope_theta = number_or(j, "rope_theta", 10000);
    if (!(c.rms_eps > 0) || !(c.rope_theta > 0)) return make_error("config.json: rms_norm_eps and rope_theta must be positive");
    c.tied_embeddings = j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean() &&
                        j["tie_word_embeddings"].get<bool>();
    if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"].get<std::string>();
    if (auto ok = read_rope_scaling(j, c); !ok) return ok.error();
    return c;
}

}  // namespace hearth::convert
