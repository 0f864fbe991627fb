// Per-request state of the serving engine (internal to src/llm): what one request in a
// slot needs between forward passes — its sampler, token stream (llm/token_stream.h),
// constraint, logprobs and the result it reports. The engine (serving_engine.cpp) owns
// the slots and the batch; this file knows nothing of the KV cache or the queue.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "llm/generate.h"
#include "llm/sampler.h"
#include "llm/serving_engine.h"
#include "llm/token_stream.h"
#include "tokenizer/tokenizer.h"

namespace hearth::llm {

using ServingClock = std::chrono::steady_clock;

// A request waiting in the queue.
struct QueuedRequest {
    uint64_t id = 0;
    CompletionRequest request;
    ServingClock::time_point submitted;
};

// Log-softmax of `logits` at `token`, and the `top_n` most likely tokens (most likely
// first, ties by lower id) with their pieces (special tokens rendered).
float token_logprob(std::span<const float> logits, int32_t token, int top_n, const tokenizer::Tokenizer& tok,
                    std::vector<TokenLogprob>* top);

// A request admitted to a slot: samples from its logits and streams its text.
class RunningRequest {
public:
    RunningRequest(QueuedRequest queued, const tokenizer::Tokenizer& tok, int n_cached,
                   ServingClock::time_point admitted);

    uint64_t id() const { return id_; }
    const std::vector<int32_t>& prompt() const { return request_.prompt; }
    int n_cached() const { return result_.n_cached; }

    // Sampled token not yet evaluated (its K/V are not in the cache yet).
    bool has_pending() const { return has_pending_; }
    int32_t pending() const { return pending_; }
    void clear_pending() { has_pending_ = false; }

    // Prompt tokens whose K/V are in the cache (cached ones included).
    size_t n_prompt_done = 0;
    bool prompt_done() const { return n_prompt_done >= request_.prompt.size(); }

    // One step after the logits of the last evaluated token: samples, streams the token
    // and decides whether the request is done. `next_pos` is where a sampled token
    // would be evaluated. Returns true when the request finished (result() is final).
    bool step(std::span<const float> logits, int64_t next_pos, int64_t n_ctx);

    // Ends the request now with this reason (Cancelled, Error); no further callbacks
    // but on_done.
    void finish(FinishReason reason, std::string error = {});
    bool finished() const { return finished_; }

    // Calls on_done with the result (exactly once, by the engine, after the slot is freed).
    void report_done();
    size_t n_generated() const { return result_.tokens.size(); }

private:
    // Ends normally, `rest` (text that was held back) going out as a last event.
    void finish_releasing(FinishReason reason, std::string rest);
    bool emit(TokenEvent& event);  // false: the client cancelled

    const tokenizer::Tokenizer* tok_;
    uint64_t id_;
    CompletionRequest request_;
    ServingClock::time_point submitted_;
    Sampler sampler_;
    TokenStream stream_;
    std::vector<int32_t> history_;  // prompt + generated, for the sampler's penalties
    std::vector<float> work_;       // logits the constraint may edit
    CompletionResult result_;
    bool has_pending_ = false;
    int32_t pending_ = 0;
    bool first_token_ = true;
    bool finished_ = false;
    bool done_reported_ = false;
};

}  // namespace hearth::llm
