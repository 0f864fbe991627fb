#pragma once

#include <cstddef>
#include <cstdint>

#include "base/large_buffer.h"
#include "base/thread_pool.h"

namespace hearth::kernels {

// Measures the read bandwidth of main memory in GB/s: the ceiling on decoding, which
// reads every weight once per token (weight bytes / this is the floor on time per
// token). The buffer, far larger than the caches, is kept between measurements so a
// benchmark can measure right next to each timed run: on a shared host the bandwidth
// drifts within seconds, and only a ceiling measured under the same conditions as the
// run it bounds says how close the run came to it.
class ReadBandwidthProbe {
public:
    explicit ReadBandwidthProbe(size_t buffer_bytes = size_t{1} << 30);
    ReadBandwidthProbe(const ReadBandwidthProbe&) = delete;
    ReadBandwidthProbe& operator=(const ReadBandwidthProbe&) = delete;

    // Best of `passes` reads of the whole buffer with the pool's threads, after one
    // unmeasured pass; 0 when the buffer could not be allocated.
    double measure(ThreadPool& pool, int passes = 3);

private:
    LargeBuffer buf_;
    size_t bytes_ = 0;
};

}  // namespace hearth::kernels
