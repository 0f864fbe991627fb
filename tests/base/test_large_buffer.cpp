// Large streamed buffers: 2 MiB aligned (so they can be backed by huge pages) and fully
// usable for the size asked, including sizes that are not a multiple of a huge page.
#include <gtest/gtest.h>

#include <cstdint>

#include "base/large_buffer.h"

namespace hearth {
namespace {

TEST(LargeBuffer, AlignedToHugePagesAndWritableToTheEnd) {
    for (size_t bytes : {size_t{1}, size_t{3} << 20, (size_t{5} << 20) + 12345}) {
        LargeBuffer buf = allocate_large_buffer(bytes);
        ASSERT_NE(buf, nullptr) << bytes;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(buf.get()) % (size_t{2} << 20), 0u) << bytes;
        for (size_t i = 0; i < bytes; ++i) buf[i] = static_cast<uint8_t>(i * 7);
        uint64_t sum = 0, want = 0;
        for (size_t i = 0; i < bytes; ++i) sum += buf[i], want += static_cast<uint8_t>(i * 7);
        EXPECT_EQ(sum, want) << bytes;
    }
}

}  // namespace
}  // namespace hearth
