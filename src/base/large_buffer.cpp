#include "base/large_buffer.h"

#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace hearth {

void LargeBufferFree::operator()(uint8_t* p) const { std::free(p); }

LargeBuffer allocate_large_buffer(size_t bytes) {
    constexpr size_t kHugePage = size_t{2} << 20;
    const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    LargeBuffer buf(static_cast<uint8_t*>(std::aligned_alloc(kHugePage, size)));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Before the first touch: the pages are then faulted in as huge pages. Failure
    // (huge pages disabled) leaves ordinary pages, which work the same.
    if (buf) ::madvise(buf.get(), size, MADV_HUGEPAGE);
#endif
    return buf;
}

}  // namespace hearth
