#include "gateway/wait_queue.h"

namespace hearth::gateway {

using namespace asio::experimental::awaitable_operators;

namespace {

// A wake can only be lost to a bug; waiters look again this often regardless.
constexpr auto kRecheck = std::chrono::milliseconds(250);

}  // namespace

std::unique_ptr<WaitQueue::Ticket> WaitQueue::enter(const std::string& model, asio::any_io_executor ex) {
    std::lock_guard lock(mutex_);
    if (static_cast<int>(waiters_.size()) >= limit_) return nullptr;
    const uint64_t seq = next_seq_++;
    waiters_.emplace(seq, Waiter{model, ex, std::make_shared<asio::steady_timer>(ex), false});
    return std::unique_ptr<Ticket>(new Ticket(this, seq));
}

void WaitQueue::leave(uint64_t seq) {
    {
        std::lock_guard lock(mutex_);
        waiters_.erase(seq);
    }
    notify_all();  // the next waiter of that model is first now
}

void WaitQueue::notify_all() {
    std::lock_guard lock(mutex_);
    for (auto& [seq, w] : waiters_) {
        w.woken = true;
        // Timers are not thread-safe: cancel on the waiter's own strand.
        asio::post(w.ex, [timer = w.timer] { timer->cancel(); });
    }
}

int WaitQueue::size() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(waiters_.size());
}

WaitQueue::Ticket::~Ticket() { queue_->leave(seq_); }

bool WaitQueue::Ticket::first() const {
    std::lock_guard lock(queue_->mutex_);
    const auto me = queue_->waiters_.find(seq_);
    for (auto it = queue_->waiters_.begin(); it != me; ++it) {
        if (it->second.model == me->second.model) return false;
    }
    return true;
}

asio::awaitable<bool> WaitQueue::Ticket::wait(net::HttpConnection& conn, std::chrono::steady_clock::time_point deadline) {
    std::shared_ptr<asio::steady_timer> timer;
    {
        std::lock_guard lock(queue_->mutex_);
        auto& w = queue_->waiters_.at(seq_);
        if (std::exchange(w.woken, false)) co_return true;
        timer = w.timer;
    }
    // No suspension between the check above and the wait: a wake posted to this strand
    // in between runs only once the wait is pending, and cancels it.
    timer->expires_at(std::min(deadline, std::chrono::steady_clock::now() + kRecheck));
    auto r = co_await (timer->async_wait(use_tuple) || conn.peer_closed());
    {
        std::lock_guard lock(queue_->mutex_);
        queue_->waiters_.at(seq_).woken = false;
    }
    co_return r.index() == 0;
}

}  // namespace hearth::gateway
