#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace hearth {

// A fixed set of worker threads for data-parallel kernels. run() hands the same task
// to every thread (the caller is thread 0) and returns when all have finished.
// Workers spin briefly before sleeping, so back-to-back calls in a decode step cost
// microseconds, not a thread wake-up each; no thread is created after construction.
class ThreadPool {
public:
    using Task = std::function<void(int thread, int n_threads)>;

    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }
    void run(const Task& task);

    // Splits [0, n) into one contiguous chunk per thread, rounded to multiples of `align`.
    static void chunk(int64_t n, int thread, int n_threads, int64_t& begin, int64_t& end, int64_t align = 1);

    // The number of threads worth using by default: physical cores, or online CPUs.
    static int default_threads();

private:
    void worker(int index);

    int n_threads_;
    std::vector<std::thread> workers_;
    const Task* task_ = nullptr;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
};

}  // namespace hearth
