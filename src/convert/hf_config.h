// A Hugging Face model's config.json, read into what GGUF metadata needs: the architecture
// (as llama.cpp names it), the shapes, the norms' epsilon and RoPE with its scaling.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace hearth::convert {

// Llama 3.1-style RoPE scaling: frequency divisors written as a rope_freqs tensor.
struct Llama3RopeScaling {
    double factor = 8;
    double low_freq_factor = 1;
    double high_freq_factor = 4;
    double original_context = 8192;
};

struct HfModelConfig {
    std::string hf_class;   // "LlamaForCausalLM", ...
    std::string gguf_arch;  // "llama" (also Mistral), "qwen2", "qwen3"
    int64_t n_vocab = 0;
    int64_t n_embd = 0;
    int64_t n_layer = 0;
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t n_ff = 0;
    int64_t head_dim = 0;
    int64_t n_ctx = 0;
    double rms_eps = 1e-6;
    double rope_theta = 10000;
    double linear_rope_factor = 0;  // "linear" scaling: positions divided by it; 0: none
    std::optional<Llama3RopeScaling> llama3_rope;
    bool tied_embeddings = false;
    std::string torch_dtype;  // as declared ("bfloat16", ...), for the output type "auto"

    // llama.cpp's llama architecture rotates interleaved pairs, HF's rotates halves: its Q
    // and K rows are permuted on the way in. Qwen (NeoX-style in llama.cpp too) is not.
    bool permute_qk() const { return gguf_arch == "llama"; }
};

// Architectures `hearth convert` takes, for messages.
inline constexpr std::string_view kSupportedHfClasses =
    "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM";

Result<HfModelConfig> parse_hf_config(std::string_view config_json);

}  // namespace hearth::convert
