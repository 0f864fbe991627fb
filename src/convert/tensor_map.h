// Hugging Face tensor names and layouts to llama.cpp's: which GGUF tensor each safetensors
// tensor becomes, its shape in ggml order, and whether its rows are permuted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "convert/hf_config.h"

namespace hearth::convert {

struct TensorPlan {
    std::string name;            // GGUF name, e.g. "blk.3.attn_q.weight"
    std::vector<int64_t> shape;  // ggml order: the row length first
    // Q and K of llama-style RoPE: rows regrouped per head from HF's halves to llama.cpp's
    // interleaved pairs; the head count is the one of that projection.
    int64_t permute_heads = 0;
};

// The plan for one safetensors tensor; nullopt for tensors llama.cpp does not keep
// (rotary inv_freq buffers, lm_head when the embeddings are tied); an error for a tensor
// this architecture should not have or a shape that disagrees with config.json.
Result<std::optional<TensorPlan>> plan_tensor(const HfModelConfig& config, std::string_view hf_name,
                                              std::span<const int64_t> hf_shape);

// Regroups the rows of a [heads * head_dim, row_len] matrix (or a bias, row_len 1) within
// each head: HF's row (half k, index j) becomes llama.cpp's row (index j, half k).
std::vector<float> permute_rope_rows(std::span<const float> rows, int64_t heads, int64_t row_len);

}  // namespace hearth::convert
