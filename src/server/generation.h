#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include "llm/serving_engine.h"
#include "server/net.h"
#include "server/model_registry.h"

namespace hearth::server {

// One request running in a model's serving engine, seen from its connection. The
// engine thread appends token events and the result and rings the doorbell through
// a post to the connection's strand; the handler coroutine drains them there. The
// engine thread never blocks on the client.
// Closed at shutdown before the I/O context goes away, so engines finishing their last
// requests afterwards post nothing to it.
class PostGate {
public:
    template <class F>
    void post(const asio::any_io_executor& ex, F&& f) {
        std::lock_guard lock(mutex_);
        if (open_) asio::post(ex, std::forward<F>(f));
    }
    void close() {
        std::lock_guard lock(mutex_);
        open_ = false;
    }

private:
    std::mutex mutex_;
    bool open_ = true;
};

class Generation : public std::enable_shared_from_this<Generation> {
public:
    struct Batch {
        std::vector<llm::TokenEvent> tokens;
        std::optional<llm::CompletionResult> result;  // set once, with the last batch
        enum class End { None, ClientGone, Timeout } end = End::None;
    };

    // Submits `request` (its callbacks are replaced). Errors are HTTP errors
    // (queue full 503, prompt too long 400 context_length_exceeded, ...).
    static std::variant<std::shared_ptr<Generation>, ApiError> start(const std::shared_ptr<LoadedModel>& model,
                                                                     llm::CompletionRequest request,
                                                                     asio::any_io_executor executor,
                                                                     std::shared_ptr<PostGate> gate);
    ~Generation();

    // Waits until there are events, the end, or a notify(); cancels the request in the
    // engine when the client went away or the deadline passed. After the result was
    // handed out it keeps waiting for notify() (a batch with nothing in it), so that a
    // handler with other work in flight (speech) waits in one place.
    asio::awaitable<Batch> next(HttpConnection& conn, std::chrono::steady_clock::time_point deadline);

    // Wakes next() from any thread: the handler has other events to drain.
    void notify();

    // Cancels the request in the engine (idempotent).
    void cancel();

private:
    explicit Generation(asio::any_io_executor executor);
    void ring();

    // Not owned: the handler holds the LoadedModel while the generation runs (owning it
    // here would let the engine thread destroy its own engine).
    llm::ServingEngine* engine_ = nullptr;
    uint64_t id_ = 0;
    Doorbell bell_;
    std::shared_ptr<PostGate> gate_;
    std::mutex mutex_;
    std::deque<llm::TokenEvent> tokens_;
    std::optional<llm::CompletionResult> result_;
    std::atomic<bool> rung_{false};
    std::atomic<bool> cancelled_{false};
    std::atomic<bool> notified_{false};
    bool done_ = false;  // the result was handed out
};

}  // namespace hearth::server
