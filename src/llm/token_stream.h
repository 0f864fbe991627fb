// One generation step after sampling, the same for `hearth run` (llm::generate) and the
// server's engine (RunningRequest): end-of-generation tokens, detokenization that holds
// back incomplete UTF-8, stop strings, max_tokens and the end of the context decide what
// text is final and when the generation is over.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llm/stop_matcher.h"
#include "tokenizer/tokenizer.h"

namespace hearth::llm {

enum class FinishReason { Stop, Length, Cancelled, Error };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "cancelled", "error"

struct TokenStreamOptions {
    int max_tokens = 128;           // < 0: until the context is full
    std::vector<std::string> stop;  // generation ends before any of these strings
    bool stop_at_eog = true;        // end-of-generation tokens (EOS, EOT, ...) end it too
};

class TokenStream {
public:
    TokenStream(const tokenizer::Tokenizer& tok, const TokenStreamOptions& options);

    struct Step {
        bool kept = false;    // the token is part of the output (not an end-of-generation token)
        std::string text;     // text that is now final: never part of a stop string
        std::optional<FinishReason> finish;  // set when the generation ends here
    };
    // A sampled token. `room`: whether it could still be evaluated for a next one (its
    // position is inside the context); `complete`: something else (a grammar) says the
    // output is whole with this token.
    Step push(int32_t id, bool room, bool complete = false);

    // Whether max_tokens was reached before sampling (max_tokens 0).
    bool exhausted() const;
    // Ends the generation before another token (max_tokens, a grammar complete,
    // cancellation): the text still held back, and the reason, which becomes Stop when
    // that text completes a stop string.
    std::string finish(FinishReason& reason);

    int n_tokens() const { return n_tokens_; }

private:
    const tokenizer::Tokenizer* tok_;
    TokenStreamOptions options_;
    tokenizer::StreamingDetokenizer detok_;
    StopMatcher stops_;
    int n_tokens_ = 0;
};

}  // namespace hearth::llm
