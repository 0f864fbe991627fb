#include "base/thread_pool.h"

#include <unistd.h>

#include <algorithm>

namespace hearth {
namespace {

// Long enough to bridge the gap between two kernels of one forward pass, short enough
// not to starve other processes when the machine is oversubscribed.
constexpr int kSpinIterations = 1 << 11;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
    workers_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    generation_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run(const Task& task) {
    if (n_threads_ == 1) {
        task(0, 1);
        return;
    }
    task_ = &task;
    pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    task(0, n_threads_);
    for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
        if (spins < kSpinIterations) cpu_relax();
        else std::this_thread::yield();
    }
    task_ = nullptr;
}

void ThreadPool::worker(int index) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t now = generation_.load(std::memory_order_acquire);
        for (int spins = 0; now == seen && spins < kSpinIterations; ++spins) {
            cpu_relax();
            now = generation_.load(std::memory_order_acquire);
        }
        if (now == seen) {
            generation_.wait(seen, std::memory_order_acquire);
            continue;
        }
        seen = now;
        if (stop_.load(std::memory_order_acquire)) return;
        (*task_)(index, n_threads_);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::chunk(int64_t n, int thread, int n_threads, int64_t& begin, int64_t& end, int64_t align) {
    const int64_t units = (n + align - 1) / align;
    const int64_t per = units / n_threads, extra = units % n_threads;
    const int64_t first = thread * per + std::min<int64_t>(thread, extra);
    const int64_t count = per + (thread < extra ? 1 : 0);
    begin = std::min(n, first * align);
    end = std::min(n, (first + count) * align);
}

int ThreadPool::default_threads() {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace hearth
