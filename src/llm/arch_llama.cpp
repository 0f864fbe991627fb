// Llama 2/3.x and Mistral (which ships as "llama"): adjacent-pair RoPE (the GGUF
// converter permutes q/k to it), no biases, optional rope_freqs for Llama 3.1 scaling.
#include "llm/model.h"

namespace hearth::llm {

extern const ArchTraits kLlamaTraits;
const ArchTraits kLlamaTraits{Arch::Llama, /*neox_rope=*/false, /*qkv_bias=*/false, /*qk_norm=*/false};

}  // namespace hearth::llm
