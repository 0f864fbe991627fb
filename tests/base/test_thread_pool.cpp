#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <vector>

#include "base/thread_pool.h"

namespace hearth {
namespace {

TEST(ThreadPool, EveryThreadRunsEachTaskOnce) {
    for (int n : {1, 2, 3, 8}) {
        ThreadPool pool(n);
        EXPECT_EQ(pool.size(), n);
        for (int round = 0; round < 200; ++round) {
            std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
            pool.run([&](int thread, int n_threads) {
                EXPECT_EQ(n_threads, n);
                hits[static_cast<size_t>(thread)].fetch_add(1);
            });
            for (auto& h : hits) {
                ASSERT_EQ(h.load(), 1) << "threads " << n << " round " << round;
            }
        }
    }
}

TEST(ThreadPool, ChunksCoverTheRangeExactlyOnce) {
    for (int64_t n : {0, 1, 7, 64, 1000, 1001}) {
        for (int threads : {1, 2, 3, 7}) {
            for (int64_t align : {1, 16}) {
                std::vector<int> covered(static_cast<size_t>(n), 0);
                int64_t prev_end = 0;
                for (int t = 0; t < threads; ++t) {
                    int64_t b, e;
                    ThreadPool::chunk(n, t, threads, b, e, align);
                    EXPECT_EQ(b, prev_end);
                    if (b < n && align > 1) {
                        EXPECT_EQ(b % align, 0);
                    }
                    for (int64_t i = b; i < e; ++i) ++covered[static_cast<size_t>(i)];
                    prev_end = e;
                }
                EXPECT_EQ(prev_end, n);
                for (int c : covered) {
                    EXPECT_EQ(c, 1);
                }
            }
        }
    }
}

TEST(ThreadPool, ParallelSumIsCorrect) {
    ThreadPool pool(4);
    std::vector<int64_t> data(100000);
    std::iota(data.begin(), data.end(), 0);
    std::vector<int64_t> partial(4, 0);
    pool.run([&](int t, int nt) {
        int64_t b, e;
        ThreadPool::chunk(static_cast<int64_t>(data.size()), t, nt, b, e);
        for (int64_t i = b; i < e; ++i) partial[static_cast<size_t>(t)] += data[static_cast<size_t>(i)];
    });
    EXPECT_EQ(std::accumulate(partial.begin(), partial.end(), int64_t{0}), 4999950000);
}

}  // namespace
}  // namespace hearth
