// A Hugging Face model folder made from a GGUF model (the synthetic ones of tests and
// benchmarks), by this file's own reading of the conventions: HF tensor names, [out, in]
// shapes, RoPE rows in halves (llama.cpp interleaves them), config.json, a real
// tokenizer.json. `hearth convert` must turn it back into the same GGUF.
#pragma once

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "convert/safetensors.h"
#include "gguf/gguf_file.h"

namespace hearth::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

// GGUF name -> HF name, the inverse of llama.cpp's (and hearth convert's) mapping.
inline std::string hf_name(const std::string& gguf) {
    static const std::pair<const char*, const char*> kBlock[] = {
        {"attn_norm.weight", "input_layernorm.weight"},       {"ffn_norm.weight", "post_attention_layernorm.weight"},
        {"attn_q.weight", "self_attn.q_proj.weight"},         {"attn_k.weight", "self_attn.k_proj.weight"},
        {"attn_v.weight", "self_attn.v_proj.weight"},         {"attn_output.weight", "self_attn.o_proj.weight"},
        {"attn_q.bias", "self_attn.q_proj.bias"},             {"attn_k.bias", "self_attn.k_proj.bias"},
        {"attn_v.bias", "self_attn.v_proj.bias"},             {"attn_q_norm.weight", "self_attn.q_norm.weight"},
        {"attn_k_norm.weight", "self_attn.k_norm.weight"},    {"ffn_gate.weight", "mlp.gate_proj.weight"},
        {"ffn_up.weight", "mlp.up_proj.weight"},              {"ffn_down.weight", "mlp.down_proj.weight"},
    };
    if (gguf == "token_embd.weight") return "model.embed_tokens.weight";
    if (gguf == "output_norm.weight") return "model.norm.weight";
    if (gguf == "output.weight") return "lm_head.weight";
    const size_t dot = gguf.find('.', 4);
    const std::string layer = gguf.substr(4, dot - 4), rest = gguf.substr(dot + 1);
    for (const auto& [g, h] : kBlock)
        if (rest == g) return "model.layers." + layer + "." + h;
    return {};
}

// llama.cpp interleaves the two halves of each head's rows; HF keeps them apart. Undoes
// the interleave on raw rows of `row_bytes`.
inline std::vector<uint8_t> unpermute_rows(std::span<const uint8_t> bytes, int64_t heads, size_t row_bytes) {
    const size_t rows = bytes.size() / row_bytes, head_dim = rows / static_cast<size_t>(heads), half = head_dim / 2;
    std::vector<uint8_t> out(bytes.size());
    for (size_t h = 0; h < static_cast<size_t>(heads); ++h)
        for (size_t j = 0; j < half; ++j)
            for (size_t k = 0; k < 2; ++k)
                std::memcpy(out.data() + (h * head_dim + k * half + j) * row_bytes,
                            bytes.data() + (h * head_dim + j * 2 + k) * row_bytes, row_bytes);
    return out;
}

inline convert::Dtype dtype_of(gguf::GgmlType t) {
    return t == gguf::GgmlType::F32 ? convert::Dtype::F32 : t == gguf::GgmlType::F16 ? convert::Dtype::F16 : convert::Dtype::BF16;
}

// Writes `model` (a synthetic GGUF) as an HF folder in two shards with an index:
// `hf_class` names the architecture in config.json, `tokenizer_dir` holds the tokenizer.json
// and tokenizer_config.json to copy, `llama3_rope` adds Llama 3.1 rope_scaling (original
// context 32, as the generator's test models use).
inline Result<void> write_hf_folder(const gguf::GgufFile& model, const std::string& hf_class, const fs::path& tokenizer_dir,
                                    bool tied, bool llama3_rope, const fs::path& dir) {
    const auto& md = model.metadata();
    const std::string arch = model.architecture();
    const std::string p = arch + ".";
    auto num = [&](const std::string& key) { return md.get_int(p + key).value(); };
    const int64_t n_head = num("attention.head_count"), n_head_kv = num("attention.head_count_kv");
    const int64_t n_embd = num("embedding_length");
    const int64_t head_dim = md.get_int(p + "attention.key_length").value_or(n_embd / n_head);
    std::vector<convert::TensorToWrite> shards[2];
    json weight_map = json::object();
    for (const auto& t : model.tensors()) {
        if (t.name == "rope_freqs.weight") continue;  // config.json's rope_scaling says it
        convert::TensorToWrite w;
        w.name = hf_name(t.name);
        if (w.name.empty()) return make_error("no HF name for " + t.name);
        w.dtype = dtype_of(t.type);
        w.shape.assign(t.shape.rbegin(), t.shape.rend());
        const auto bytes = model.tensor_data(t);
        const bool rope = arch == "llama";
        const size_t row_bytes = t.shape.size() == 1 ? bytes.size() / static_cast<size_t>(t.shape[0]) : bytes.size() / static_cast<size_t>(t.shape[1]);
        if (rope && t.name.find("attn_q.") != std::string::npos) {
            w.bytes = unpermute_rows(bytes, n_head, row_bytes);
        } else if (rope && t.name.find("attn_k.") != std::string::npos) {
            w.bytes = unpermute_rows(bytes, n_head_kv, row_bytes);
        } else {
            w.bytes.assign(bytes.begin(), bytes.end());
        }
        const int shard = t.name.rfind("blk.0.", 0) == 0 || t.name == "token_embd.weight" ? 0 : 1;
        weight_map[w.name] = shard == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
        shards[shard].push_back(std::move(w));
    }
    for (int i = 0; i < 2; ++i) {
        const std::string name = i == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
        if (auto ok = convert::write_safetensors((dir / name).string(), shards[i]); !ok) return ok;
    }
    std::ofstream(dir / "model.safetensors.index.json") << json{{"metadata", json::object()}, {"weight_map", weight_map}}.dump();

    json config = {{"architectures", {hf_class}},
                   {"vocab_size", model.find_tensor("token_embd.weight")->shape[1]},
                   {"hidden_size", n_embd},
                   {"num_hidden_layers", num("block_count")},
                   {"num_attention_heads", n_head},
                   {"num_key_value_heads", n_head_kv},
                   {"intermediate_size", num("feed_forward_length")},
                   {"max_position_embeddings", num("context_length")},
                   {"rms_norm_eps", static_cast<double>(*md.get_float(p + "attention.layer_norm_rms_epsilon"))},
                   {"rope_theta", static_cast<double>(*md.get_float(p + "rope.freq_base"))},
                   {"tie_word_embeddings", tied},
                   {"torch_dtype", "bfloat16"}};
    if (arch == "qwen3") config["head_dim"] = head_dim;
    if (llama3_rope)
        config["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                                  {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 32}};
    std::ofstream(dir / "config.json") << config.dump(2);
    std::error_code ec;
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
        fs::copy_file(tokenizer_dir / f, dir / f, fs::copy_options::overwrite_existing, ec);
        if (ec) return make_error("cannot copy " + (tokenizer_dir / f).string() + ": " + ec.message());
    }
    return {};
}

}  // namespace hearth::test
