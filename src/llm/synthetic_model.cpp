#include "llm/synthetic_model.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "llm/model_spec.h"
#include "tensor/quant.h"

namespace hearth::llm {
namespace {

using gguf::GgmlType;
using gguf::Value;

// splitmix64: tiny, fast and identical on every platform (std:: distributions are not).
class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    float uniform() { return static_cast<float>(next() >> 40) * (2.0f / 16777216.0f) - 1.0f; }  // [-1, 1)

private:
    uint64_t state_;
};

void add_builtin_vocab(gguf::Metadata& md) {
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<float> scores = {0, 0, 0};
    std::vector<int32_t> types = {2, 3, 3};  // unknown, control, control
    for (int b = 0; b < 256; ++b) {
        char piece[8];
        std::snprintf(piece, sizeof piece, "<0x%02X>", b);
        tokens.emplace_back(piece);
        scores.push_back(0);
        types.push_back(6);  // byte
    }
    md.set("tokenizer.ggml.model", Value::str("llama"));
    md.set("tokenizer.ggml.tokens", Value::strings(tokens));
    md.set("tokenizer.ggml.scores", Value::floats(scores));
    md.set("tokenizer.ggml.token_type", Value::ints(types));
    md.set("tokenizer.ggml.bos_token_id", Value::u32(1));
    md.set("tokenizer.ggml.eos_token_id", Value::u32(2));
    md.set("tokenizer.ggml.unknown_token_id", Value::u32(0));
}

// Appends user-defined "[PADn]" tokens (as GPT-NeoX vocabularies have) up to n tokens.
void pad_vocab(gguf::Metadata& md, int64_t n) {
    auto tokens = *md.get_array("tokenizer.ggml.tokens");
    const auto* types = md.get_array("tokenizer.ggml.token_type");
    const auto* scores = md.get_array("tokenizer.ggml.scores");
    gguf::ArrayValue new_types = types ? *types : gguf::ArrayValue{gguf::ValueType::I32, {}};
    gguf::ArrayValue new_scores = scores ? *scores : gguf::ArrayValue{gguf::ValueType::F32, {}};
    for (auto i = static_cast<int64_t>(tokens.items.size()); i < n; ++i) {
        tokens.items.push_back(Value::str("[PAD" + std::to_string(i) + "]"));
        if (types) new_types.items.push_back(Value::i32(4));  // user-defined
        if (scores) new_scores.items.push_back(Value::f32(0));
    }
    md.set("tokenizer.ggml.tokens", Value::array(std::move(tokens)));
    if (types) md.set("tokenizer.ggml.token_type", Value::array(std::move(new_types)));
    if (scores) md.set("tokenizer.ggml.scores", Value::array(std::move(new_scores)));
}

Result<void> copy_vocab(const std::string& path, gguf::Metadata& md) {
    auto vocab = gguf::GgufFile::open(path);
    if (!vocab) return vocab.error();
    bool any = false;
    for (const auto& [key, value] : vocab->metadata().entries()) {
        if (key.rfind("tokenizer.", 0) == 0) {
            md.set(key, value);
            any = true;
        }
    }
    if (!any || !md.find("tokenizer.ggml.tokens")) return make_error(path + " has no tokenizer.ggml.tokens");
    return {};
}

}  // namespace

Result<GgmlType> mix_type(const std::string& mix, const std::string& name, int layer, int n_layer) {
    GgmlType base, more;
    if (mix == "Q4_K_M") {
        base = GgmlType::Q4_K;
        more = GgmlType::Q6_K;
    } else if (mix == "Q5_K_M") {
        base = GgmlType::Q5_K;
        more = GgmlType::Q6_K;
    } else {
        return make_error("unknown quantization mix '" + mix + "' (Q4_K_M, Q5_K_M)");
    }
    if (name == "output.weight") return more;
    // The layers llama.cpp gives more bits: the first and last eighth, and every third between.
    const bool more_bits = layer >= 0 && (layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2);
    if ((name == "attn_v.weight" || name == "ffn_down.weight") && more_bits) return more;
    return base;
}

std::vector<float> llama3_rope_freq_factors(int64_t rope_dim, double theta, double factor, double low_freq_factor,
                                            double high_freq_factor, double original_context) {
    // Long wavelengths are stretched by `factor`, short ones kept, the band between blended.
    const double pi = 3.14159265358979323846;
    const double low_wavelen = original_context / low_freq_factor, high_wavelen = original_context / high_freq_factor;
    std::vector<float> out;
    for (int64_t i = 0; i < rope_dim / 2; ++i) {
        const double freq = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(rope_dim));
        const double wavelen = 2 * pi / freq;
        double divisor = 1;
        if (wavelen > low_wavelen) {
            divisor = factor;
        } else if (wavelen >= high_wavelen) {
            const double smooth = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
            divisor = 1 / ((1 - smooth) / factor + smooth);
        }
        out.push_back(static_cast<float>(divisor));
    }
    return out;
}

uint32_t file_type_for(GgmlType type) {
    switch (type) {
        case GgmlType::F32: return 0;
        case GgmlType::F16: return 1;
        case GgmlType::Q4_0: return 2;
        case GgmlType::Q8_0: return 7;
        case GgmlType::Q4_K: return 14;  // Q4_K_S
        case GgmlType::Q5_K: return 16;  // Q5_K_S
        case GgmlType::Q6_K: return 18;
        case GgmlType::BF16: return 32;
        default: return 0;
    }
}

Result<gguf::GgufWriter> build_synthetic_model(const SyntheticModelOptions& o) {
    const bool mistral = o.arch == "mistral";
    const std::string arch = mistral ? "llama" : o.arch;
    const auto kind = arch_from_name(arch);
    if (!kind) return make_error("unknown architecture '" + o.arch + "' (llama, mistral, qwen2, qwen3)");
    if (!o.mix.empty()) {
        if (auto t = mix_type(o.mix, "", -1, 1); !t) return t.error();
    }
    if (!tensor::is_compute_type(o.weight_type))
        return make_error("weight type " + std::string(gguf::type_name(o.weight_type)) + " is not supported");
    if (o.n_embd <= 0 || o.n_layer <= 0 || o.n_head <= 0 || o.n_head_kv <= 0 || o.n_ff <= 0 ||
        o.n_head % o.n_head_kv != 0)
        return make_error("invalid model dimensions");
    const int64_t head_dim = o.head_dim > 0 ? o.head_dim : o.n_embd / o.n_head;
    if (head_dim <= 0 || head_dim % 2 != 0) return make_error("head dimension must be even and positive");
    const int64_t q_dim = head_dim * o.n_head, kv_dim = head_dim * o.n_head_kv;

    gguf::GgufWriter w;
    gguf::Metadata& md = w.metadata();
    const std::string p = arch + ".";
    md.set("general.architecture", Value::str(arch));
    md.set("general.name", Value::str("hearth-synthetic-" + o.arch));
    md.set("general.file_type",
           Value::u32(o.mix == "Q4_K_M" ? 15 : o.mix == "Q5_K_M" ? 17 : file_type_for(o.weight_type)));
    md.set(p + "context_length", Value::u32(static_cast<uint32_t>(o.n_ctx)));
    md.set(p + "embedding_length", Value::u32(static_cast<uint32_t>(o.n_embd)));
    md.set(p + "block_count", Value::u32(static_cast<uint32_t>(o.n_layer)));
    md.set(p + "feed_forward_length", Value::u32(static_cast<uint32_t>(o.n_ff)));
    md.set(p + "attention.head_count", Value::u32(static_cast<uint32_t>(o.n_head)));
    md.set(p + "attention.head_count_kv", Value::u32(static_cast<uint32_t>(o.n_head_kv)));
    md.set(p + "attention.layer_norm_rms_epsilon", Value::f32(*kind == Arch::Llama ? 1e-5f : 1e-6f));
    const double theta = o.rope_theta > 0 ? o.rope_theta : (*kind == Arch::Llama && !mistral ? 10000.0 : 1000000.0);
    md.set(p + "rope.freq_base", Value::f32(static_cast<float>(theta)));
    if (*kind == Arch::Llama) md.set(p + "rope.dimension_count", Value::u32(static_cast<uint32_t>(head_dim)));
    if (*kind == Arch::Qwen3 || head_dim != o.n_embd / o.n_head) {
        md.set(p + "attention.key_length", Value::u32(static_cast<uint32_t>(head_dim)));
        md.set(p + "attention.value_length", Value::u32(static_cast<uint32_t>(head_dim)));
    }
    if (o.vocab_gguf.empty()) {
        add_builtin_vocab(md);
    } else if (auto ok = copy_vocab(o.vocab_gguf, md); !ok) {
        return ok.error();
    }
    if (o.pad_vocab_to > 0) pad_vocab(md, o.pad_vocab_to);
    const auto n_vocab = static_cast<int64_t>(md.get_array("tokenizer.ggml.tokens")->items.size());
    md.set(p + "vocab_size", Value::u32(static_cast<uint32_t>(n_vocab)));

    Rng rng(o.seed);
    // Weights of a matrix are uniform with std 1/sqrt(fan_in), so activations keep their scale.
    auto add = [&](const std::string& name, std::vector<int64_t> shape, float std_dev, float mean,
                   GgmlType type) -> Result<void> {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        std::vector<float> values(static_cast<size_t>(n));
        const float a = std_dev * std::sqrt(3.0f);
        for (float& v : values) v = mean + a * rng.uniform();
        // Rows that do not fill whole blocks of `type` fall back to Q8_0 or F32, as llama.cpp's quantizer does.
        if (shape[0] % gguf::type_traits(type).block_size != 0)
            type = shape[0] % 32 == 0 ? GgmlType::Q8_0 : GgmlType::F32;
        auto bytes = tensor::quantize(type, values, shape[0]);
        if (!bytes) return bytes.error();
        return w.add_tensor(name, std::move(shape), type, std::move(bytes).value());
    };
    // Matrices are named without their "blk.N." prefix so the mix can tell them apart.
    auto matrix = [&](int layer, const std::string& name, int64_t in, int64_t out) -> Result<void> {
        GgmlType type = o.weight_type;
        if (!o.mix.empty()) type = *mix_type(o.mix, name, layer, static_cast<int>(o.n_layer));
        const std::string full = layer >= 0 ? block_tensor(layer, name) : name;
        return add(full, {in, out}, 1.0f / std::sqrt(static_cast<float>(in)), 0.0f, type);
    };
    auto norm = [&](const std::string& name, int64_t n) { return add(name, {n}, 0.05f, 1.0f, GgmlType::F32); };

    std::vector<Result<void>> results;
    results.push_back(add("token_embd.weight", {o.n_embd, n_vocab}, 1.0f, 0.0f,
                          o.mix.empty() ? o.weight_type : *mix_type(o.mix, "token_embd.weight", -1, 1)));
    for (int l = 0; l < o.n_layer; ++l) {
        results.push_back(norm(block_tensor(l, "attn_norm.weight"), o.n_embd));
        results.push_back(matrix(l, "attn_q.weight", o.n_embd, q_dim));
        results.push_back(matrix(l, "attn_k.weight", o.n_embd, kv_dim));
        results.push_back(matrix(l, "attn_v.weight", o.n_embd, kv_dim));
        if (*kind == Arch::Qwen2) {
            results.push_back(add(block_tensor(l, "attn_q.bias"), {q_dim}, 0.1f, 0.0f, GgmlType::F32));
            results.push_back(add(block_tensor(l, "attn_k.bias"), {kv_dim}, 0.1f, 0.0f, GgmlType::F32));
            results.push_back(add(block_tensor(l, "attn_v.bias"), {kv_dim}, 0.1f, 0.0f, GgmlType::F32));
        }
        if (*kind == Arch::Qwen3) {
            results.push_back(norm(block_tensor(l, "attn_q_norm.weight"), head_dim));
            results.push_back(norm(block_tensor(l, "attn_k_norm.weight"), head_dim));
        }
        results.push_back(matrix(l, "attn_output.weight", q_dim, o.n_embd));
        results.push_back(norm(block_tensor(l, "ffn_norm.weight"), o.n_embd));
        results.push_back(matrix(l, "ffn_gate.weight", o.n_embd, o.n_ff));
        results.push_back(matrix(l, "ffn_up.weight", o.n_embd, o.n_ff));
        results.push_back(matrix(l, "ffn_down.weight", o.n_ff, o.n_embd));
    }
    results.push_back(norm("output_norm.weight", o.n_embd));
    if (o.llama3_rope_original_context > 0) {
        const auto factors = llama3_rope_freq_factors(head_dim, theta, 8, 1, 4, o.llama3_rope_original_context);
        std::vector<uint8_t> bytes(factors.size() * 4);
        std::memcpy(bytes.data(), factors.data(), bytes.size());
        results.push_back(w.add_tensor("rope_freqs.weight", {static_cast<int64_t>(factors.size())}, GgmlType::F32,
                                       std::move(bytes)));
    }
    if (!o.tied_embeddings) results.push_back(matrix(-1, "output.weight", o.n_embd, n_vocab));
    for (const auto& r : results) {
        if (!r) return r.error();
    }
    return w;
}

Result<void> write_synthetic_model(const SyntheticModelOptions& options, const std::string& path) {
    auto w = build_synthetic_model(options);
    if (!w) return w.error();
    return w->write(path);
}

}  // namespace hearth::llm
