#include "kernels/cpu/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace hearth::kernels {

ReadBandwidthProbe::ReadBandwidthProbe(size_t buffer_bytes) {
    const size_t bytes = buffer_bytes / 64 * 64;
    // The same kind of memory as the weights the decode reads (pack_for_matmul).
    buf_ = allocate_large_buffer(bytes);
    if (!buf_) return;
    bytes_ = bytes;
    std::fill_n(buf_.get(), bytes_, uint8_t{1});  // touched, so pages are resident
}

double ReadBandwidthProbe::measure(ThreadPool& pool, int passes) {
    if (!buf_) return 0;
    const auto n_lines = static_cast<int64_t>(bytes_ / 64);
    // The widest loads this CPU has: a plain scalar sum measured 8 of the 15 GB/s one
    // Xeon core reads, a ceiling the decode matmul then "exceeded".
    const ReadSumFn read_sum = cpu_kernels().read_sum;
    std::vector<uint64_t> sinks(static_cast<size_t>(pool.size()) * 8);
    double best = 0;
    for (int pass = 0; pass <= passes; ++pass) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int thread, int n_threads) {
            int64_t b, e;
            ThreadPool::chunk(n_lines, thread, n_threads, b, e, 64);
            sinks[static_cast<size_t>(thread) * 8] = read_sum(buf_.get() + 64 * b, static_cast<size_t>(e - b) * 64);
        });
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (pass > 0) best = std::max(best, static_cast<double>(bytes_) / sec / 1e9);  // the first pass warms up
    }
    volatile uint64_t sink = sinks[0];
    (void)sink;
    return best;
}

}  // namespace hearth::kernels
