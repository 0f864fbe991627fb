#include "kernels/cpu/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace hearth::kernels {

double measure_read_bandwidth(ThreadPool& pool, size_t buffer_bytes) {
    const int64_t n = static_cast<int64_t>(buffer_bytes / sizeof(float));
    std::vector<float> buf(static_cast<size_t>(n), 1.0f);  // touched, so pages are resident
    const CpuKernels& k = cpu_kernels();
    std::vector<float> sinks(static_cast<size_t>(pool.size()));
    double best = 0;
    for (int pass = 0; pass < 4; ++pass) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int thread, int n_threads) {
            int64_t b, e;
            ThreadPool::chunk(n, thread, n_threads, b, e, 64);
            // a · a reads each cache line once.
            sinks[static_cast<size_t>(thread)] = k.dot_f32(buf.data() + b, buf.data() + b, e - b);
        });
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (pass > 0) best = std::max(best, static_cast<double>(buffer_bytes) / s / 1e9);  // first pass warms up
    }
    volatile float sink = sinks[0];
    (void)sink;
    return best;
}

}  // namespace hearth::kernels
