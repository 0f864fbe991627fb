#include "kernels/cpu/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace hearth::kernels {

double measure_read_bandwidth(ThreadPool& pool, size_t buffer_bytes) {
    const int64_t n = static_cast<int64_t>(buffer_bytes / sizeof(uint64_t));
    std::vector<uint64_t> buf(static_cast<size_t>(n), 1);  // touched, so pages are resident
    std::vector<uint64_t> sinks(static_cast<size_t>(pool.size()) * 8);
    double best = 0;
    for (int pass = 0; pass < 4; ++pass) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int thread, int n_threads) {
            int64_t b, e;
            ThreadPool::chunk(n, thread, n_threads, b, e, 64);
            // A plain sum with independent lanes: nothing but loads on the critical path.
            // (A float dot product measured 30% less here: its add chain throttles the
            // loads, and we want the ceiling, not one kernel's speed.)
            uint64_t s[8] = {};
            for (int64_t i = b; i + 8 <= e; i += 8) {
                for (int j = 0; j < 8; ++j) s[j] += buf[static_cast<size_t>(i + j)];
            }
            uint64_t total = 0;
            for (uint64_t v : s) total += v;
            sinks[static_cast<size_t>(thread) * 8] = total;
        });
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (pass > 0) best = std::max(best, static_cast<double>(n) * sizeof(uint64_t) / sec / 1e9);  // first pass warms up
    }
    volatile uint64_t sink = sinks[0];
    (void)sink;
    return best;
}

}  // namespace hearth::kernels
