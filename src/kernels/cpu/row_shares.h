// RowShares: how decode's matmul splits the rows of a call between threads (see
// matmul_shared_input_with): one share per thread that its owner reads front to back,
// and that a thread done with its own may take rows from, back to front.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "base/thread_pool.h"

namespace hearth::kernels {

// Rows [0, rows) split into one share per thread, each share a [front, back) pair in
// one atomic word: its owner takes rows from the front while a thread done with its
// own share takes them from the back. Every range taken is a multiple of `align` rows
// from 0 (rows itself a multiple of align), and every row is taken exactly once.
class RowShares {
public:
    RowShares(int64_t rows, int n_threads, int64_t align) : align_(align), shares_(static_cast<size_t>(n_threads)) {
        for (int t = 0; t < n_threads; ++t) {
            int64_t b = 0, e = 0;
            ThreadPool::chunk(rows, t, n_threads, b, e, align);
            shares_[static_cast<size_t>(t)].span.store(pack(b, e), std::memory_order_relaxed);
        }
    }

    // The owner's next rows: at first all its share but a 1/kTail tail, then half of
    // what is left.
    bool take_front(int thread, bool first, int64_t& r0, int64_t& r1) {
        std::atomic<uint64_t>& s = shares_[static_cast<size_t>(thread)].span;
        uint64_t v = s.load(std::memory_order_relaxed);
        for (;;) {  // a failed exchange reloads v
            const int64_t f = front(v), b = back(v);
            if (f >= b) return false;
            const int64_t left = b - f;
            r0 = f;
            r1 = std::min(b, f + (first ? std::max(align_, left - rounded(ceil_div(left, kTail))) : rounded(ceil_div(left, 2))));
            if (s.compare_exchange_weak(v, pack(r1, b), std::memory_order_relaxed)) return true;
        }
    }

    // Half of what another thread has left of its share, from the back.
    bool take_back(int thread, int64_t& r0, int64_t& r1) {
        const size_t n = shares_.size();
        for (size_t k = 1; k < n; ++k) {
            std::atomic<uint64_t>& s = shares_[(static_cast<size_t>(thread) + k) % n].span;
            uint64_t v = s.load(std::memory_order_relaxed);
            for (;;) {
                const int64_t f = front(v), b = back(v);
                if (f >= b) break;
                r0 = std::max(f, b - rounded(ceil_div(b - f, 2)));
                r1 = b;
                if (s.compare_exchange_weak(v, pack(f, r0), std::memory_order_relaxed)) return true;
            }
        }
        return false;
    }

    // Shares count rows in 32 bits.
    static constexpr int64_t kMaxRows = int64_t{1} << 32;

private:
    static constexpr int64_t kTail = 16;
    static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
    int64_t rounded(int64_t rows) const { return std::max(align_, ceil_div(rows, align_) * align_); }
    static uint64_t pack(int64_t f, int64_t b) { return static_cast<uint64_t>(f) << 32 | static_cast<uint64_t>(b); }
    static int64_t front(uint64_t v) { return static_cast<int64_t>(v >> 32); }
    static int64_t back(uint64_t v) { return static_cast<int64_t>(v & 0xffffffffu); }

    struct alignas(64) Share {  // a cache line each: owners write their own
        std::atomic<uint64_t> span{0};
    };
    int64_t align_;
    std::vector<Share> shares_;
};

}  // namespace hearth::kernels
