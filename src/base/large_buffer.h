#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace hearth {

// Memory for large buffers that are streamed end to end (weights re-laid out at load,
// the bandwidth probe's buffer): aligned to 2 MiB and, on Linux, offered to the kernel
// for transparent huge pages, so a read of hundreds of MB walks a few hundred page
// table entries instead of a hundred thousand. Where huge pages are off it is ordinary
// memory. Null when the allocation fails.
struct LargeBufferFree {
    void operator()(uint8_t* p) const;
};
using LargeBuffer = std::unique_ptr<uint8_t[], LargeBufferFree>;
LargeBuffer allocate_large_buffer(size_t bytes);

}  // namespace hearth
