#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_writer.h"

namespace hearth::llm {

// A llama-family model with deterministic random weights, for tests and benchmarks.
// The same options and seed always give the same bytes.
struct SyntheticModelOptions {
    std::string arch = "llama";  // llama, mistral (stored as llama), qwen2, qwen3
    int64_t n_embd = 64;
    int64_t n_layer = 2;
    int64_t n_head = 4;
    int64_t n_head_kv = 2;
    int64_t n_ff = 128;
    int64_t head_dim = 0;  // 0: n_embd / n_head
    int64_t n_ctx = 512;
    gguf::GgmlType weight_type = gguf::GgmlType::F32;  // of every 2-D weight; norms stay F32
    // A llama.cpp quantization mix instead of one type: "Q4_K_M" or "Q5_K_M" (more
    // bits for output, and attn_v / ffn_down of some layers). Empty: weight_type.
    std::string mix;
    bool tied_embeddings = false;
    // Llama 3.1-style RoPE scaling: a rope_freqs.weight tensor of frequency divisors
    // (factor 8, low/high frequency factors 1 and 4) for this original context; 0: none.
    // Llama 3.1 uses 8192; tests use a short one so the scaling shows within a few tokens.
    double llama3_rope_original_context = 0;
    double rope_theta = 0;  // 0: the architecture's usual value
    uint64_t seed = 1;
    // GGUF whose tokenizer.* keys are copied (e.g. a ggml-vocab-*.gguf). Empty: a
    // built-in byte-fallback SentencePiece vocabulary of 259 tokens.
    std::string vocab_gguf;
    // Pads the vocabulary with "[PADn]" tokens up to this many (0: no padding), so a
    // benchmark model has the embedding and output sizes of the real one.
    int64_t pad_vocab_to = 0;
};

Result<gguf::GgufWriter> build_synthetic_model(const SyntheticModelOptions& options);
Result<void> write_synthetic_model(const SyntheticModelOptions& options, const std::string& path);

// llama.cpp's general.file_type value for a model whose weights are mostly `type`.
uint32_t file_type_for(gguf::GgmlType type);

// The type of a weight under a quantization mix (see SyntheticModelOptions::mix):
// `name` without the "blk.N." prefix, `layer` < 0 for non-block tensors.
// Llama 3.1's RoPE frequency divisors for head dimension `rope_dim` and base `theta`.
std::vector<float> llama3_rope_freq_factors(int64_t rope_dim, double theta, double factor = 8,
                                            double low_freq_factor = 1, double high_freq_factor = 4,
                                            double original_context = 8192);

Result<gguf::GgmlType> mix_type(const std::string& mix, const std::string& name, int layer, int n_layer);

}  // namespace hearth::llm
