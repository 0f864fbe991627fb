// Requests waiting at the gateway for room on a node. Waiters for one model go in
// arrival order: a waiter tries for a node only while no earlier waiter for its model is
// still waiting. Room that appears (a request finished, a probe, a join) wakes every
// waiter at once, so none polls.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/net.h"

namespace hearth::gateway {

class WaitQueue {
public:
    explicit WaitQueue(int limit) : limit_(limit) {}

    // A place in the queue; leaving it (destruction) lets the next waiter of its model on.
    class Ticket {
    public:
        ~Ticket();
        // Whether no earlier waiter for the same model is still waiting.
        bool first() const;
        // Until room may have appeared, the deadline, or the client leaving (false).
        asio::awaitable<bool> wait(net::HttpConnection& conn, std::chrono::steady_clock::time_point deadline);

    private:
        friend class WaitQueue;
        Ticket(WaitQueue* queue, uint64_t seq) : queue_(queue), seq_(seq) {}
        WaitQueue* queue_;
        uint64_t seq_;
    };

    // Null when `limit` requests already wait. `ex` is the waiter's strand.
    std::unique_ptr<Ticket> enter(const std::string& model, asio::any_io_executor ex);
    // Wakes every waiter; from any thread.
    void notify_all();
    int size() const;

private:
    struct Waiter {
        std::string model;
        asio::any_io_executor ex;
        std::shared_ptr<asio::steady_timer> timer;
        bool woken = false;  // a wake that came while the waiter was not yet asleep
    };
    void leave(uint64_t seq);

    const int limit_;
    mutable std::mutex mutex_;
    std::map<uint64_t, Waiter> waiters_;  // by arrival
    uint64_t next_seq_ = 0;
};

}  // namespace hearth::gateway
