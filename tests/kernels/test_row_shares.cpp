#include "kernels/cpu/row_shares.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

namespace hearth::kernels {
namespace {

constexpr int64_t kAlign = 16;

// Marks [r0, r1) taken in `seen`; the range must be aligned, inside [0, rows) and new.
void take(std::vector<int>& seen, int64_t r0, int64_t r1) {
    ASSERT_LT(r0, r1);
    ASSERT_EQ(r0 % kAlign, 0);
    ASSERT_TRUE(r1 % kAlign == 0 || r1 == static_cast<int64_t>(seen.size()));
    ASSERT_LE(r1, static_cast<int64_t>(seen.size()));
    for (int64_t r = r0; r < r1; ++r) seen[static_cast<size_t>(r)]++;
}

TEST(RowShares, OwnersTakeMostOfTheirShareFirstThenTheRestOnce) {
    const int64_t rows = 4096;
    RowShares s(rows, 2, kAlign);
    std::vector<int> seen(rows);
    int64_t r0 = 0, r1 = 0;
    ASSERT_TRUE(s.take_front(0, true, r0, r1));
    EXPECT_EQ(r0, 0);
    EXPECT_EQ(r1, 2048 - 128);  // all but a 1/16 tail of the first half
    take(seen, r0, r1);
    ASSERT_TRUE(s.take_front(1, true, r0, r1));
    EXPECT_EQ(r0, 2048);
    EXPECT_EQ(r1, 4096 - 128);
    take(seen, r0, r1);
    ASSERT_TRUE(s.take_front(0, false, r0, r1));
    EXPECT_EQ(r0, 2048 - 128);
    EXPECT_EQ(r1, 2048 - 64);  // then halves
    take(seen, r0, r1);
    while (s.take_front(0, false, r0, r1)) take(seen, r0, r1);
    // Thread 0 is done with its share: it takes from the back of thread 1's.
    ASSERT_TRUE(s.take_back(0, r0, r1));
    EXPECT_EQ(r1, 4096);
    EXPECT_EQ(r0, 4096 - 64);
    take(seen, r0, r1);
    while (s.take_back(0, r0, r1)) take(seen, r0, r1);
    EXPECT_FALSE(s.take_front(1, false, r0, r1));
    for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(seen[static_cast<size_t>(r)], 1) << "row " << r;
}

// Any order of takes by any threads gives every row to exactly one of them.
TEST(RowShares, EveryRowTakenOnceInAnyOrder) {
    std::mt19937 rng(7);
    for (int64_t rows : {16, 48, 304, 1024, 4096, 151936}) {
        for (int n_threads : {2, 3, 4}) {
            for (int trial = 0; trial < 20; ++trial) {
                RowShares s(rows, n_threads, kAlign);
                std::vector<int> seen(static_cast<size_t>(rows));
                std::vector<bool> first(static_cast<size_t>(n_threads), true), own_done(static_cast<size_t>(n_threads), false);
                int64_t r0 = 0, r1 = 0;
                for (;;) {
                    bool any = false;
                    for (int t = 0; t < n_threads; ++t) {
                        if (rng() % 2) continue;  // this thread is slow this round
                        const auto i = static_cast<size_t>(t);
                        if (!own_done[i] && s.take_front(t, first[i], r0, r1)) {
                            first[i] = false;
                        } else if (own_done[i] = true; !s.take_back(t, r0, r1)) {
                            continue;
                        }
                        take(seen, r0, r1);
                        any = true;
                    }
                    if (!any) {  // nothing taken this round: done when no thread finds rows
                        bool left = false;
                        for (int t = 0; t < n_threads && !left; ++t) {
                            left = s.take_front(t, false, r0, r1) || s.take_back(t, r0, r1);
                            if (left) take(seen, r0, r1);
                        }
                        if (!left) break;
                    }
                }
                for (int64_t r = 0; r < rows; ++r) {
                    ASSERT_EQ(seen[static_cast<size_t>(r)], 1) << "rows " << rows << " threads " << n_threads << " row " << r;
                }
            }
        }
    }
}

// Threads racing for the same shares still take every row once.
TEST(RowShares, RacingThreadsTakeEveryRowOnce) {
    const int64_t rows = 16 * 4096;
    for (int round = 0; round < 50; ++round) {
        RowShares s(rows, 3, kAlign);
        std::vector<std::vector<std::pair<int64_t, int64_t>>> got(3);
        std::vector<std::thread> threads;
        for (int t = 0; t < 3; ++t) {
            threads.emplace_back([&, t] {
                int64_t r0 = 0, r1 = 0;
                for (bool first = true; s.take_front(t, first, r0, r1); first = false) got[static_cast<size_t>(t)].push_back({r0, r1});
                while (s.take_back(t, r0, r1)) got[static_cast<size_t>(t)].push_back({r0, r1});
            });
        }
        for (auto& th : threads) th.join();
        std::vector<int> seen(static_cast<size_t>(rows));
        for (const auto& g : got) {
            for (auto [a, b] : g) take(seen, a, b);
        }
        for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(seen[static_cast<size_t>(r)], 1) << "row " << r;
    }
}

}  // namespace
}  // namespace hearth::kernels
