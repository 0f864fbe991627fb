#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "llm/context.h"
#include "llm/sampler.h"
#include "llm/token_stream.h"
#include "tokenizer/tokenizer.h"

namespace hearth::llm {

// When generation ends (max_tokens, stop strings, end-of-generation: TokenStreamOptions)
// and how each token is sampled.
struct GenerateOptions : TokenStreamOptions {
    SamplingParams sampling;
};

struct GenerateResult {
    std::vector<int32_t> tokens;  // generated ids (the prompt excluded)
    std::string text;             // generated text, without the stop string
    FinishReason finish = FinishReason::Length;  // Stop or Length
    int n_prompt = 0;
    double prompt_seconds = 0;
    double generate_seconds = 0;  // from the first sampled token to the end
};

// Called with each piece of text as soon as it is final (never part of a stop string).
using TextCallback = std::function<void(std::string_view)>;

// Evaluates the prompt in one batch in sequence `seq` from position 0, then samples
// until a stop condition. Errors (e.g. a prompt longer than the context) are values.
Result<GenerateResult> generate(InferenceContext& ctx, const tokenizer::Tokenizer& tok,
                                const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                const TextCallback& on_text = {}, int seq = 0);

}  // namespace hearth::llm
