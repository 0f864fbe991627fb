#include "llm/model_spec.h"

namespace hearth::llm {

std::optional<Arch> arch_from_name(std::string_view name) {
    if (name == "llama") return Arch::Llama;
    if (name == "qwen2") return Arch::Qwen2;
    if (name == "qwen3") return Arch::Qwen3;
    return std::nullopt;
}

std::string_view arch_name(Arch arch) {
    switch (arch) {
        case Arch::Llama: return "llama";
        case Arch::Qwen2: return "qwen2";
        case Arch::Qwen3: return "qwen3";
    }
    return "?";
}

std::string block_tensor(int layer, std::string_view name) {
    return "blk." + std::to_string(layer) + "." + std::string(name);
}

Result<HyperParams> read_hyper_params(const gguf::GgufFile& file) {
    const gguf::Metadata& md = file.metadata();
    HyperParams hp;
    hp.architecture = file.architecture();
    if (hp.architecture.empty()) return make_error("general.architecture is missing");
    hp.supported = arch_from_name(hp.architecture).has_value();
    const std::string p = hp.architecture + ".";
    auto get = [&](const char* key) { return md.get_int(p + key).value_or(0); };
    hp.n_ctx_train = get("context_length");
    hp.n_embd = get("embedding_length");
    hp.n_layer = get("block_count");
    hp.n_ff = get("feed_forward_length");
    hp.n_head = get("attention.head_count");
    hp.n_head_kv = md.get_int(p + "attention.head_count_kv").value_or(hp.n_head);
    hp.head_dim = md.get_int(p + "attention.key_length").value_or(hp.n_head > 0 ? hp.n_embd / hp.n_head : 0);
    hp.rope_dim = md.get_int(p + "rope.dimension_count").value_or(hp.head_dim);
    hp.rope_theta = md.get_float(p + "rope.freq_base").value_or(10000.0);
    hp.rms_eps = md.get_float(p + "attention.layer_norm_rms_epsilon").value_or(1e-5);
    hp.rope_scaling = md.get_string(p + "rope.scaling.type").value_or("");
    hp.rope_scaling_factor = md.get_float(p + "rope.scaling.factor").value_or(1.0);

    if (const gguf::ArrayValue* tokens = md.get_array("tokenizer.ggml.tokens")) {
        hp.n_vocab = static_cast<int64_t>(tokens->items.size());
    } else if (auto n = md.get_int(p + "vocab_size")) {
        hp.n_vocab = *n;
    } else if (const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight"); embd && embd->shape.size() == 2) {
        hp.n_vocab = embd->shape[1];
    }
    hp.tied_embeddings = file.find_tensor("output.weight") == nullptr && file.find_tensor("token_embd.weight") != nullptr;

    if (hp.n_head < 0 || hp.n_head_kv < 0 || (hp.n_head_kv > 0 && hp.n_head % hp.n_head_kv != 0))
        return make_error("attention.head_count " + std::to_string(hp.n_head) +
                          " is not a multiple of attention.head_count_kv " + std::to_string(hp.n_head_kv));
    return hp;
}

}  // namespace hearth::llm
