#pragma once

#include "base/thread_pool.h"

namespace hearth::kernels {

// Measured read bandwidth of main memory in GB/s with the pool's threads (best of a
// few passes over a buffer far larger than the caches). Decoding a token reads every
// weight once, so weight bytes / this is the floor on time per token. 0 when the
// buffer cannot be allocated.
double measure_read_bandwidth(ThreadPool& pool, size_t buffer_bytes = size_t{1} << 30);

}  // namespace hearth::kernels
