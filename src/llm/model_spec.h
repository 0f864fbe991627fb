// hearth/llm — language models: what an architecture's GGUF tensors and
// hyper-parameters mean (the model spec, kept apart from the runtime that executes
// it), and a generator of synthetic llama-family models for tests and benchmarks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gguf/gguf_file.h"

namespace hearth::llm {

enum class Arch { Llama, Qwen2, Qwen3 };

std::optional<Arch> arch_from_name(std::string_view name);  // general.architecture value
std::string_view arch_name(Arch arch);

// Hyper-parameters read from `<arch>.*` metadata keys. Works for any architecture
// that follows the common key names, so `hearth inspect` can show models hearth
// does not run yet; `supported` says whether it runs them.
struct HyperParams {
    std::string architecture;
    bool supported = false;
    int64_t n_vocab = 0;
    int64_t n_ctx_train = 0;
    int64_t n_embd = 0;
    int64_t n_layer = 0;
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t n_ff = 0;
    int64_t head_dim = 0;  // attention.key_length, else n_embd / n_head
    int64_t rope_dim = 0;  // rope.dimension_count, else head_dim
    double rope_theta = 10000.0;
    double rms_eps = 1e-5;
    std::string rope_scaling;  // "" when none
    double rope_scaling_factor = 1.0;
    bool tied_embeddings = false;  // no output.weight: the token embedding is reused
};

Result<HyperParams> read_hyper_params(const gguf::GgufFile& file);

// GGUF tensor names of the llama family.
std::string block_tensor(int layer, std::string_view name);  // "blk.3.attn_q.weight"

}  // namespace hearth::llm
