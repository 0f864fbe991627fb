#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "kernels/backend.h"
#include "llm/generate.h"
#include "llm/model.h"
#include "llm/token_constraint.h"
#include "tokenizer/tokenizer.h"

namespace hearth::llm {

// Continuous batching over one model: up to n_parallel sequences share every forward
// pass (the decode steps of all active sequences go through one batched matmul per
// layer; prompts of newly admitted requests are evaluated in the same passes, split
// into chunks); requests join between steps and leave when finished or cancelled.
// One engine thread owns the InferenceContext; submit()/cancel() are thread-safe.
// Each slot keeps the tokens its K/V cache holds after a request leaves; a new request
// goes to the free slot sharing the longest prefix with its prompt and evaluates only
// the rest (n_cached). Greedy output does not depend on the other requests in the
// batch as far as the matmul kernels give batch-independent rows (see the tests).
struct ServingOptions {
    int n_parallel = 4;            // sequence slots
    int64_t n_ctx_per_seq = 0;     // 0: the model's training context, capped at 4096
    int max_queue = 64;            // waiting requests beyond the free slots; more -> QueueFull
    int n_threads = 0;             // 0: all cores
    int64_t n_batch = 512;         // tokens per forward pass
    kernels::KvType kv_type = kernels::KvType::F16;
};

struct TokenLogprob {
    int32_t token = 0;
    std::string text;  // the token's piece (special tokens rendered)
    float logprob = 0;
};

// One sampled token, reported as soon as it is sampled.
struct TokenEvent {
    int32_t token = 0;
    std::string text;                   // newly releasable text (complete UTF-8, never part of a
                                        // stop string; may be empty while text is held back)
    float logprob = 0;                  // of the sampled token (filled when logprobs requested)
    std::vector<TokenLogprob> top;      // top_logprobs alternatives, most likely first
    // True for the one event that may follow the last sampled token when a request ends
    // with text still held back (a partial stop-string match or an incomplete UTF-8
    // character before end-of-generation): token is -1, there is no logprob, and only
    // `text` matters. Concatenating every event's text always gives the result's text.
    bool release_only = false;
};

struct CompletionResult {
    FinishReason finish = FinishReason::Stop;
    std::string error;           // when finish == Error
    std::string text;            // all generated text (stop string excluded)
    std::vector<int32_t> tokens; // generated ids
    int n_prompt = 0;
    int n_cached = 0;            // prompt tokens reused from the slot's prefix cache
    double queue_seconds = 0;    // submit -> admitted to a slot
    double ttft_seconds = 0;     // submit -> first token
    double total_seconds = 0;    // submit -> done
};

struct CompletionRequest {
    std::vector<int32_t> prompt;
    GenerateOptions options;                     // max_tokens, stop strings, stop_at_eog, sampling
    bool logprobs = false;
    int top_logprobs = 0;                        // 0..20
    // Optional: apply() before each sampling, accept() with each sampled token (not with
    // an end-of-generation token that ends the request); complete() ends it with Stop.
    std::shared_ptr<TokenConstraint> constraint;
    // Both are called on the engine thread and must not block for long.
    // on_token returns false to cancel the request (e.g. the client went away).
    std::function<bool(const TokenEvent&)> on_token;
    std::function<void(const CompletionResult&)> on_done;  // exactly once per accepted request
};

enum class SubmitError { QueueFull, PromptTooLong, InvalidRequest, ShuttingDown };

struct SubmitFailure {
    SubmitError kind;
    std::string message;
};

struct ServingStats {
    int active = 0;            // sequences in slots
    int queued = 0;            // waiting for a slot
    int64_t kv_tokens = 0;     // tokens whose K/V the slots hold now (running requests and prefix caches)
    uint64_t requests_done = 0;
    uint64_t prompt_tokens = 0;      // evaluated (cache hits excluded)
    uint64_t cached_prompt_tokens = 0;
    uint64_t generated_tokens = 0;
    uint64_t forward_passes = 0;
    double busy_seconds = 0;         // time spent in forward passes
};

class ServingEngine {
public:
    static Result<std::unique_ptr<ServingEngine>> create(std::shared_ptr<const Model> model,
                                                         std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                                         const ServingOptions& options);
    // Stops the engine thread; requests still queued or running finish with
    // FinishReason::Cancelled ("server shutting down").
    ~ServingEngine();

    // Queues the request. On success returns its id; on_done will be called exactly once.
    // On failure neither callback is ever called.
    struct Submitted {
        uint64_t id = 0;
    };
    std::variant<Submitted, SubmitFailure> submit(CompletionRequest request);

    // Cancels a queued or running request (its on_done reports Cancelled). Unknown ids are ignored.
    void cancel(uint64_t id);

    ServingStats stats() const;
    int64_t n_ctx_per_seq() const;
    int n_parallel() const;
    const Model& model() const;
    const tokenizer::Tokenizer& tokenizer() const;

    class Impl;

private:
    explicit ServingEngine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::llm
