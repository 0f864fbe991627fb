#pragma once

#include <cstdint>
#include <span>

namespace hearth::llm {

// Restricts which tokens may be sampled next (constrained decoding, e.g. output that
// must match a JSON schema). The serving engine calls apply() on the logits before
// sampling and accept() with the token it picked; implementations live above this
// layer (src/chat) and own whatever grammar state they need.
class TokenConstraint {
public:
    virtual ~TokenConstraint() = default;
    // Sets the logits of tokens that are not allowed now to -infinity. End-of-generation
    // tokens must be left allowed only once the constrained output is complete.
    // `tokens_left` (this one included; < 0: no limit) lets an implementation steer the
    // output to completion before max_tokens or the context cut it off.
    virtual void apply(std::span<float> logits, int64_t tokens_left = -1) = 0;
    // Advances the state with the sampled token.
    virtual void accept(int32_t token) = 0;
    // True once the output is complete and nothing more may follow.
    virtual bool complete() const = 0;
};

}  // namespace hearth::llm
