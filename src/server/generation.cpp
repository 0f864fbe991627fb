#include "server/generation.h"

namespace hearth::server {

Generation::Generation(asio::any_io_executor executor) : bell_(executor, 1) {}

Generation::~Generation() = default;

void Generation::ring() {
    // One pending post is enough: the handler drains everything when it wakes.
    if (rung_.exchange(true)) return;
    gate_->post(bell_.get_executor(), [self = shared_from_this()] { self->bell_.try_send(error_code{}); });
}

std::variant<std::shared_ptr<Generation>, ApiError> Generation::start(const std::shared_ptr<LoadedModel>& model,
                                                                      llm::CompletionRequest request,
                                                                      asio::any_io_executor executor,
                                                                      std::shared_ptr<PostGate> gate) {
    std::shared_ptr<Generation> g(new Generation(std::move(executor)));
    g->gate_ = std::move(gate);
    g->engine_ = model->engine.get();
    // The callbacks own the generation, so late events reach a live object after the
    // handler returned; the engine drops them after on_done.
    request.on_token = [g](const llm::TokenEvent& ev) {
        if (g->cancelled_.load(std::memory_order_relaxed)) return false;
        {
            std::lock_guard lock(g->mutex_);
            g->tokens_.push_back(ev);
        }
        g->ring();
        return true;
    };
    request.on_done = [g](const llm::CompletionResult& r) {
        {
            std::lock_guard lock(g->mutex_);
            g->result_ = r;
        }
        g->ring();
    };
    auto submitted = g->engine_->submit(std::move(request));
    if (auto* ok = std::get_if<llm::ServingEngine::Submitted>(&submitted)) {
        g->id_ = ok->id;
        return g;
    }
    // Failure: the engine dropped the callbacks without calling them.
    const auto& f = std::get<llm::SubmitFailure>(submitted);
    switch (f.kind) {
        case llm::SubmitError::QueueFull:
            return server_error(503, "The server is busy (request queue full); retry later: " + f.message,
                                "queue_full");
        case llm::SubmitError::PromptTooLong:
            return bad_request(f.message, "messages", "context_length_exceeded");
        case llm::SubmitError::InvalidRequest:
            return bad_request(f.message);
        case llm::SubmitError::ShuttingDown:
            return server_error(503, "The server is shutting down", "shutting_down");
    }
    return server_error(500, f.message);
}

void Generation::notify() {
    notified_.store(true);
    ring();
}

void Generation::cancel() {
    if (!cancelled_.exchange(true)) engine_->cancel(id_);
}

asio::awaitable<Generation::Batch> Generation::next(HttpConnection& conn,
                                                    std::chrono::steady_clock::time_point deadline) {
    Batch batch;
    for (;;) {
        rung_.store(false);
        {
            std::lock_guard lock(mutex_);
            batch.tokens.assign(std::make_move_iterator(tokens_.begin()), std::make_move_iterator(tokens_.end()));
            tokens_.clear();
            if (result_ && !done_) {
                batch.result = std::move(result_);
                done_ = true;
            }
        }
        if (!batch.tokens.empty() || batch.result || notified_.exchange(false)) co_return batch;
        const auto w = co_await conn.wait(bell_, deadline);
        if (w == HttpConnection::WaitResult::ClientGone) {
            if (!done_) cancel();
            batch.end = Batch::End::ClientGone;
            co_return batch;
        }
        if (w == HttpConnection::WaitResult::Deadline) {
            if (!done_) cancel();
            batch.end = Batch::End::Timeout;
            co_return batch;
        }
    }
}

}  // namespace hearth::server
