#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "kernels/backend.h"
#include "llm/model.h"

namespace hearth::llm {

struct ContextOptions {
    int64_t n_ctx = 0;    // positions per sequence; 0: the model's training context, capped at 4096
    int n_seq = 1;        // independent sequences sharing the forward passes
    int n_threads = 0;    // host threads of the backend (0: all cores)
    int64_t n_batch = 512;  // tokens per forward pass (longer batches are split)
    kernels::KvType kv_type = kernels::KvType::F16;
};

// Tokens to evaluate: each entry has a position in its sequence, and asks for
// logits or not. Entries of different sequences may be mixed (continuous batching).
struct Batch {
    std::vector<int32_t> tokens;
    std::vector<int32_t> positions;
    std::vector<int32_t> seq_ids;
    std::vector<uint8_t> want_logits;

    void add(int32_t token, int32_t position, int32_t seq_id, bool logits) {
        tokens.push_back(token);
        positions.push_back(position);
        seq_ids.push_back(seq_id);
        want_logits.push_back(logits ? 1 : 0);
    }
    void clear() {
        tokens.clear();
        positions.clear();
        seq_ids.clear();
        want_logits.clear();
    }
    size_t size() const { return tokens.size(); }
};

// The mutable state of inference over one model: a backend on the model's device, which
// owns the KV cache and the activation buffers. Not thread-safe; one context per
// serving loop.
class InferenceContext {
public:
    static Result<std::unique_ptr<InferenceContext>> create(std::shared_ptr<const Model> model,
                                                            const ContextOptions& options);

    // Evaluates the batch. Every entry's position must be < n_ctx(), and positions of a
    // sequence must continue what the cache holds (entries may overwrite later positions).
    Result<void> decode(const Batch& batch);

    // Logits of the i-th entry that asked for them in the last decode().
    std::span<const float> logits(size_t i) const;
    size_t n_outputs() const { return n_outputs_; }

    const Model& model() const { return *model_; }
    // The backend of the first layers' device (the only one unless layers are split).
    kernels::Backend& backend() { return *stages_.front().backend; }
    int64_t n_ctx() const { return n_ctx_; }
    int n_seq() const { return n_seq_; }
    size_t kv_cache_bytes() const;

private:
    InferenceContext() = default;
    // One device's share of the model (all of it unless layers are split): its backend,
    // with the KV cache of its layers, and activations for one ubatch in its memory.
    struct Stage {
        std::unique_ptr<kernels::Backend> backend;
        std::unique_ptr<kernels::Buffer> x, h, q, k, v, attn, gate, up;
    };

    Result<void> create_stage(kernels::Device& device, int index, int64_t n_layers, const ContextOptions& o);
    Result<void> reserve_logit_rows(int64_t rows);
    // Runs the model over one ubatch (begun on every backend); returns the number of rows
    // of logits it left in out_rows_.
    Result<int64_t> forward(int64_t n);
    // Moves the residual stream x of n tokens to the next stage (a split across devices).
    Result<void> hand_over(const Stage& from, Stage& to, int64_t n);

    std::shared_ptr<const Model> model_;
    std::vector<Stage> stages_;          // one per model device
    std::vector<int64_t> stage_layer_;   // per layer: its index among its stage's layers
    int64_t n_ctx_ = 0, n_batch_ = 0;
    int n_seq_ = 1;
    std::unique_ptr<kernels::Buffer> out_rows_;  // logits, on the output's stage
    std::vector<float> handed_;                  // hand_over's host copy
    std::vector<float> logits_;
    size_t n_outputs_ = 0;
};

}  // namespace hearth::llm
