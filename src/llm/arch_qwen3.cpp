// Qwen3: NeoX-style RoPE, no biases, RMS norm of each q and k head before RoPE, and a
// head dimension (attention.key_length) that need not equal embedding / heads.
#include "llm/model.h"

namespace hearth::llm {

extern const ArchTraits kQwen3Traits;
const ArchTraits kQwen3Traits{Arch::Qwen3, /*neox_rope=*/true, /*qkv_bias=*/false, /*qk_norm=*/true};

}  // namespace hearth::llm
