// Qwen2 / Qwen2.5: NeoX-style RoPE and biases on the q, k and v projections.
#include "llm/model.h"

namespace hearth::llm {

extern const ArchTraits kQwen2Traits;
const ArchTraits kQwen2Traits{Arch::Qwen2, /*neox_rope=*/true, /*qkv_bias=*/true, /*qk_norm=*/false};

}  // namespace hearth::llm
