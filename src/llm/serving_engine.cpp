#include "llm/serving_engine.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "llm/context.h"
#include "llm/serving_request.h"

namespace hearth::llm {

namespace {

// One sequence of the context. `kv_tokens` are the tokens whose K/V the cache holds at
// positions 0..size-1 (kept after the request leaves: the prefix cache); the next
// token of the sequence is evaluated at position kv_tokens.size().
struct Slot {
    std::vector<int32_t> kv_tokens;
    std::unique_ptr<RunningRequest> request;
    uint64_t admitted_order = 0;  // prompt chunks go to the longest-waiting admission first
};

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace

class ServingEngine::Impl {
public:
    Impl(std::shared_ptr<const Model> model, std::shared_ptr<const tokenizer::Tokenizer> tok, ServingOptions options,
         std::unique_ptr<InferenceContext> ctx)
        : model_(std::move(model)), tok_(std::move(tok)), options_(options), ctx_(std::move(ctx)) {
        slots_.resize(static_cast<size_t>(options_.n_parallel));
        thread_ = std::thread([this] { run(); });
    }

    ~Impl() { shutdown(); }

    // Stops the engine thread after it has reported every request; callbacks running
    // meanwhile may still use the engine (submit() then answers ShuttingDown).
    void shutdown() {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    std::variant<Submitted, SubmitFailure> submit(CompletionRequest request);
    void cancel(uint64_t id) {
        {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            cancels_.insert(id);
        }
        cv_.notify_all();
    }
    ServingStats stats() const {
        std::lock_guard lock(mu_);
        ServingStats s = stats_;
        s.active = n_active_;
        s.queued = static_cast<int>(queue_.size());
        return s;
    }

    int64_t n_ctx() const { return ctx_->n_ctx(); }
    int n_parallel() const { return options_.n_parallel; }
    const Model& model() const { return *model_; }
    const tokenizer::Tokenizer& tokenizer() const { return *tok_; }

private:
    void run();
    bool wait_for_work(std::vector<QueuedRequest>& admitted, std::vector<QueuedRequest>& cancelled_queued,
                       std::vector<uint64_t>& cancelled_running);
    void admit(QueuedRequest q);
    void step();
    // Frees the slot and reports the request's result.
    void release(Slot& slot);
    // Publishes the slots' K/V token count to stats(); call under mu_ after the slots changed.
    void count_kv_tokens_locked();
    void fail_all(const std::string& message);

    std::shared_ptr<const Model> model_;
    std::shared_ptr<const tokenizer::Tokenizer> tok_;
    ServingOptions options_;
    std::unique_ptr<InferenceContext> ctx_;  // used by the engine thread only

    // Shared with submit()/cancel()/stats(), under mu_.
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<QueuedRequest> queue_;
    std::unordered_set<uint64_t> cancels_;
    bool stopping_ = false;
    uint64_t next_id_ = 1;
    int n_active_ = 0;
    ServingStats stats_;

    // Engine thread only.
    std::vector<Slot> slots_;
    uint64_t admissions_ = 0;
    Batch batch_;
    std::thread thread_;
};

std::variant<ServingEngine::Submitted, SubmitFailure> ServingEngine::Impl::submit(CompletionRequest request) {
    const auto invalid = [](std::string message) { return SubmitFailure{SubmitError::InvalidRequest, std::move(message)}; };
    if (request.prompt.empty()) return invalid("the prompt is empty (no tokens)");
    const int64_t n_vocab = model_->hparams().n_vocab;
    for (int32_t t : request.prompt)
        if (t < 0 || t >= n_vocab)
            return invalid("token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(n_vocab) + " tokens");
    if (request.top_logprobs < 0 || request.top_logprobs > 20)
        return invalid("top_logprobs must be between 0 and 20, not " + std::to_string(request.top_logprobs));
    if (static_cast<int64_t>(request.prompt.size()) + 1 > ctx_->n_ctx())
        return SubmitFailure{SubmitError::PromptTooLong,
                             "prompt has " + std::to_string(request.prompt.size()) + " tokens but the context holds " +
                                 std::to_string(ctx_->n_ctx()) + " per sequence"};
    uint64_t id = 0;
    {
        std::lock_guard lock(mu_);
        if (stopping_) return SubmitFailure{SubmitError::ShuttingDown, "the server is shutting down"};
        // Requests that free slots will take right away do not count as waiting.
        const auto free_slots = static_cast<size_t>(std::max(0, options_.n_parallel - n_active_));
        if (queue_.size() >= static_cast<size_t>(std::max(0, options_.max_queue)) + free_slots)
            return SubmitFailure{SubmitError::QueueFull,
                                 "the queue is full (" + std::to_string(queue_.size()) + " requests waiting)"};
        id = next_id_++;
        queue_.push_back(QueuedRequest{id, std::move(request), ServingClock::now()});
    }
    cv_.notify_all();
    return Submitted{id};
}

// Sleeps until there is something to do; takes queued requests into free slots and
// collects cancellations. Returns false when the engine stops.
bool ServingEngine::Impl::wait_for_work(std::vector<QueuedRequest>& admitted, std::vector<QueuedRequest>& cancelled_queued,
                                        std::vector<uint64_t>& cancelled_running) {
    std::unique_lock lock(mu_);
    const bool busy = n_active_ > 0;
    cv_.wait(lock, [&] { return busy || stopping_ || !queue_.empty() || !cancels_.empty(); });
    if (stopping_) return false;
    for (uint64_t id : cancels_) {
        auto it = std::find_if(queue_.begin(), queue_.end(), [&](const QueuedRequest& q) { return q.id == id; });
        if (it != queue_.end()) {
            cancelled_queued.push_back(std::move(*it));
            queue_.erase(it);
        } else {
            cancelled_running.push_back(id);  // or unknown/finished: ignored by the caller
        }
    }
    cancels_.clear();
    while (n_active_ < options_.n_parallel && !queue_.empty()) {
        admitted.push_back(std::move(queue_.front()));
        queue_.pop_front();
        ++n_active_;
    }
    return true;
}

// Puts the request into the free slot whose cached tokens share the longest prefix
// with its prompt (ties: the slot caching the least, to keep long caches for others).
void ServingEngine::Impl::admit(QueuedRequest q) {
    Slot* best = nullptr;
    size_t best_prefix = 0;
    for (Slot& s : slots_) {
        if (s.request) continue;
        const size_t prefix = common_prefix(s.kv_tokens, q.request.prompt);
        if (!best || prefix > best_prefix || (prefix == best_prefix && s.kv_tokens.size() < best->kv_tokens.size())) {
            best = &s;
            best_prefix = prefix;
        }
    }
    // Always re-evaluate the last prompt token: its logits start the generation.
    const size_t n_cached = std::min(best_prefix, q.request.prompt.size() - 1);
    best->kv_tokens.resize(n_cached);
    best->request = std::make_unique<RunningRequest>(std::move(q), *tok_, static_cast<int>(n_cached), ServingClock::now());
    best->admitted_order = admissions_++;
    std::lock_guard lock(mu_);
    stats_.cached_prompt_tokens += n_cached;
    count_kv_tokens_locked();  // the prefix may have been cut
}

void ServingEngine::Impl::count_kv_tokens_locked() {
    // Summed over at most 256 slots once per step: cheaper than tracking every change.
    int64_t n = 0;
    for (const Slot& s : slots_) n += static_cast<int64_t>(s.kv_tokens.size());
    stats_.kv_tokens = n;
}

void ServingEngine::Impl::release(Slot& slot) {
    std::unique_ptr<RunningRequest> r = std::move(slot.request);
    {
        std::lock_guard lock(mu_);
        --n_active_;
        ++stats_.requests_done;
    }
    r->report_done();
}

void ServingEngine::Impl::fail_all(const std::string& message) {
    for (Slot& s : slots_) {
        if (!s.request) continue;
        s.request->finish(FinishReason::Error, message);
        s.kv_tokens.clear();  // the cache's state is unknown now
        release(s);
    }
    std::lock_guard lock(mu_);
    count_kv_tokens_locked();
}

void ServingEngine::Impl::run() {
    std::vector<QueuedRequest> admitted, cancelled_queued;
    std::vector<uint64_t> cancelled_running;
    while (true) {
        admitted.clear();
        cancelled_queued.clear();
        cancelled_running.clear();
        if (!wait_for_work(admitted, cancelled_queued, cancelled_running)) break;
        for (QueuedRequest& q : cancelled_queued) {
            RunningRequest r(std::move(q), *tok_, 0, ServingClock::now());
            r.finish(FinishReason::Cancelled, "cancelled while queued");
            {
                std::lock_guard lock(mu_);
                ++stats_.requests_done;
            }
            r.report_done();
        }
        for (uint64_t id : cancelled_running) {
            for (Slot& s : slots_) {
                if (s.request && s.request->id() == id) {
                    s.request->finish(FinishReason::Cancelled, "cancelled");
                    release(s);
                }
            }
        }
        for (QueuedRequest& q : admitted) admit(std::move(q));
        step();
    }
    // Shutting down: everything still queued or running ends as cancelled.
    std::deque<QueuedRequest> left;
    {
        std::lock_guard lock(mu_);
        left.swap(queue_);
    }
    for (Slot& s : slots_) {
        if (!s.request) continue;
        s.request->finish(FinishReason::Cancelled, "server shutting down");
        release(s);
    }
    for (QueuedRequest& q : left) {
        RunningRequest r(std::move(q), *tok_, 0, ServingClock::now());
        r.finish(FinishReason::Cancelled, "server shutting down");
        {
            std::lock_guard lock(mu_);
            ++stats_.requests_done;
        }
        r.report_done();
    }
}

// One forward pass: the pending token of every generating sequence, then prompt chunks
// of newly admitted ones up to n_batch tokens in all; then one sampling step for each
// sequence that got logits.
void ServingEngine::Impl::step() {
    batch_.clear();
    struct Entry {
        Slot* slot;
        size_t n_tokens;   // batch entries of this slot
        bool has_logits;
        size_t logits_index;
        bool prompt;
    };
    std::vector<Entry> entries;
    size_t n_logits = 0;
    for (size_t s = 0; s < slots_.size(); ++s) {
        Slot& slot = slots_[s];
        if (!slot.request || !slot.request->has_pending()) continue;
        batch_.add(slot.request->pending(), static_cast<int32_t>(slot.kv_tokens.size()), static_cast<int32_t>(s), true);
        entries.push_back({&slot, 1, true, n_logits++, false});
    }
    std::vector<size_t> prefilling;
    for (size_t s = 0; s < slots_.size(); ++s)
        if (slots_[s].request && !slots_[s].request->prompt_done()) prefilling.push_back(s);
    std::sort(prefilling.begin(), prefilling.end(),
              [&](size_t a, size_t b) { return slots_[a].admitted_order < slots_[b].admitted_order; });
    // Prompts get what the decodes leave of n_batch, but at least a quarter of it, so
    // new requests progress even when more sequences generate than n_batch holds.
    const auto n_batch = static_cast<size_t>(std::max<int64_t>(1, options_.n_batch));
    size_t prompt_budget = std::max(n_batch > batch_.size() ? n_batch - batch_.size() : 0, std::max<size_t>(1, n_batch / 4));
    for (size_t s : prefilling) {
        if (prompt_budget == 0) break;
        Slot& slot = slots_[s];
        const std::vector<int32_t>& prompt = slot.request->prompt();
        const size_t begin = slot.request->n_prompt_done;
        const size_t n = std::min(prompt.size() - begin, prompt_budget);
        prompt_budget -= n;
        const bool last = begin + n == prompt.size();
        for (size_t i = begin; i < begin + n; ++i)
            batch_.add(prompt[i], static_cast<int32_t>(i), static_cast<int32_t>(s), last && i + 1 == prompt.size());
        entries.push_back({&slot, n, last, last ? n_logits : 0, true});
        if (last) ++n_logits;
    }
    if (batch_.size() == 0) return;

    const auto t0 = ServingClock::now();
    auto ok = ctx_->decode(batch_);
    const double seconds = std::chrono::duration<double>(ServingClock::now() - t0).count();
    if (!ok) {
        fail_all("forward pass failed: " + ok.error().message);
        return;
    }
    uint64_t n_prompt_tokens = 0;
    size_t offset = 0;
    for (const Entry& e : entries) {
        Slot& slot = *e.slot;
        slot.kv_tokens.insert(slot.kv_tokens.end(), batch_.tokens.begin() + static_cast<std::ptrdiff_t>(offset),
                              batch_.tokens.begin() + static_cast<std::ptrdiff_t>(offset + e.n_tokens));
        offset += e.n_tokens;
        if (e.prompt) {
            slot.request->n_prompt_done += e.n_tokens;
            n_prompt_tokens += e.n_tokens;
        } else {
            slot.request->clear_pending();
        }
    }
    {
        std::lock_guard lock(mu_);
        stats_.forward_passes += 1;
        stats_.busy_seconds += seconds;
        stats_.prompt_tokens += n_prompt_tokens;
        count_kv_tokens_locked();
    }
    for (const Entry& e : entries) {
        if (!e.has_logits) continue;
        Slot& slot = *e.slot;
        const size_t before = slot.request->n_generated();
        const bool done = slot.request->step(ctx_->logits(e.logits_index), static_cast<int64_t>(slot.kv_tokens.size()),
                                             ctx_->n_ctx());
        if (const size_t n = slot.request->n_generated() - before; n > 0) {
            std::lock_guard lock(mu_);  // before on_done, so a finished request's tokens are counted
            stats_.generated_tokens += n;
        }
        if (done) release(slot);
    }
}

Result<std::unique_ptr<ServingEngine>> ServingEngine::create(std::shared_ptr<const Model> model,
                                                             std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                                             const ServingOptions& options) {
    if (!model) return make_error("no model");
    if (!tokenizer) return make_error("no tokenizer");
    if (options.n_parallel < 1 || options.n_parallel > 256)
        return make_error("n_parallel must be between 1 and 256, not " + std::to_string(options.n_parallel));
    if (options.n_batch < 1) return make_error("n_batch must be at least 1, not " + std::to_string(options.n_batch));
    if (options.n_ctx_per_seq < 0)
        return make_error("n_ctx_per_seq must not be negative (" + std::to_string(options.n_ctx_per_seq) + ")");
    if (options.max_queue < 0) return make_error("max_queue must not be negative (" + std::to_string(options.max_queue) + ")");
    if (static_cast<int64_t>(tokenizer->n_vocab()) > model->hparams().n_vocab)
        return make_error("the tokenizer has " + std::to_string(tokenizer->n_vocab()) + " tokens but the model only " +
                          std::to_string(model->hparams().n_vocab));
    ContextOptions co;
    co.n_ctx = options.n_ctx_per_seq;
    co.n_seq = options.n_parallel;
    co.n_threads = options.n_threads;
    co.n_batch = options.n_batch;
    co.kv_type = options.kv_type;
    auto ctx = InferenceContext::create(model, co);
    if (!ctx) return ctx.error();
    auto impl = std::make_unique<Impl>(std::move(model), std::move(tokenizer), options, std::move(ctx).value());
    return std::unique_ptr<ServingEngine>(new ServingEngine(std::move(impl)));
}

ServingEngine::ServingEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServingEngine::~ServingEngine() {
    if (impl_) impl_->shutdown();
}

std::variant<ServingEngine::Submitted, SubmitFailure> ServingEngine::submit(CompletionRequest request) {
    return impl_->submit(std::move(request));
}
void ServingEngine::cancel(uint64_t id) { impl_->cancel(id); }
ServingStats ServingEngine::stats() const { return impl_->stats(); }
int64_t ServingEngine::n_ctx_per_seq() const { return impl_->n_ctx(); }
int ServingEngine::n_parallel() const { return impl_->n_parallel(); }
const Model& ServingEngine::model() const { return impl_->model(); }
const tokenizer::Tokenizer& ServingEngine::tokenizer() const { return impl_->tokenizer(); }

}  // namespace hearth::llm
