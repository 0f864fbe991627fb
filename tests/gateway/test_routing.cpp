#include <gtest/gtest.h>

#include <map>
#include <set>

#include "gateway/routing.h"

namespace hearth::gateway {
namespace {

std::vector<Candidate> nodes(int n) {
    std::vector<Candidate> c;
    for (int i = 0; i < n; ++i) c.push_back({"http://10.0.0." + std::to_string(i + 1) + ":8080", 0, true, true});
    return c;
}

TEST(GatewayRouting, PrefixKeyCoversTheConversationStartOnly) {
    auto chat = [](const char* first, const char* later) {
        return nlohmann::json{{"model", "m"},
                              {"messages", {{{"role", "system"}, {"content", "be brief"}},
                                            {{"role", "user"}, {"content", first}},
                                            {{"role", "assistant"}, {"content", "ok"}},
                                            {{"role", "user"}, {"content", later}}}}};
    };
    const auto a = prefix_key("/v1/chat/completions", chat("hello", "one"));
    const auto b = prefix_key("/v1/chat/completions", chat("hello", "two"));
    const auto c = prefix_key("/v1/chat/completions", chat("other", "one"));
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(*a, *b);  // later turns of the same conversation
    EXPECT_NE(*a, *c);
    auto other_model = chat("hello", "one");
    other_model["model"] = "n";
    EXPECT_NE(*a, *prefix_key("/v1/chat/completions", other_model));
    EXPECT_FALSE(prefix_key("/v1/chat/completions", nlohmann::json{{"model", "m"}}));
    // Odd but valid JSON is keyed, not thrown on.
    const nlohmann::json odd = {{"model", 5}, {"messages", {{{"role", nullptr}, {"content", 7}}}}};
    EXPECT_TRUE(prefix_key("/v1/chat/completions", odd));
    EXPECT_FALSE(prefix_key("/v1/audio/speech", chat("hello", "one")));
    const auto p1 = prefix_key("/v1/completions", {{"model", "m"}, {"prompt", std::string(2000, 'a') + "x"}});
    const auto p2 = prefix_key("/v1/completions", {{"model", "m"}, {"prompt", std::string(2000, 'a') + "y"}});
    ASSERT_TRUE(p1 && p2);
    EXPECT_EQ(*p1, *p2);  // the first KiB decides
}

TEST(GatewayRouting, RendezvousOwnerIsStableAndOnlyALeavingNodesKeysMove) {
    std::mt19937_64 rng(1);
    auto c = nodes(4);
    std::map<uint64_t, std::string> owner;
    std::map<std::string, int> per_node;
    for (uint64_t key = 0; key < 2000; ++key) {
        auto i = choose(c, fnv1a(std::to_string(key)), 4, rng);
        ASSERT_TRUE(i);
        owner[key] = c[*i].id;
        ++per_node[c[*i].id];
        // The same answer every time and in any candidate order.
        auto reversed = std::vector<Candidate>(c.rbegin(), c.rend());
        EXPECT_EQ(reversed[*choose(reversed, fnv1a(std::to_string(key)), 4, rng)].id, owner[key]);
    }
    for (const auto& [id, n] : per_node) EXPECT_GT(n, 350) << id;  // about 500 each
    auto without = c;
    without.erase(without.begin() + 2);
    int moved = 0;
    for (uint64_t key = 0; key < 2000; ++key) {
        const std::string now = without[*choose(without, fnv1a(std::to_string(key)), 4, rng)].id;
        if (owner[key] != c[2].id) {
            EXPECT_EQ(now, owner[key]);
        } else {
            ++moved;
        }
    }
    EXPECT_EQ(moved, per_node[c[2].id]);
}

TEST(GatewayRouting, BusyOwnerGivesWayBeyondTheThreshold) {
    std::mt19937_64 rng(7);
    auto c = nodes(2);
    const uint64_t key = 42;
    const size_t owner = *choose(c, key, 4, rng);
    c[owner].load = 4;
    EXPECT_EQ(*choose(c, key, 4, rng), owner);  // within the threshold: stays
    c[owner].load = 5;
    EXPECT_NE(*choose(c, key, 4, rng), owner);  // much busier: the other one
    c[owner].load = 0;
    c[owner].has_room = false;
    EXPECT_NE(*choose(c, key, 4, rng), owner);
}

// A cached prefix is not worth a wait: an owner whose slots are all busy gives way to a
// node that would start the request at once, however small the load difference.
TEST(GatewayRouting, OwnerThatWouldQueueGivesWayToAFreeSlot) {
    std::mt19937_64 rng(7);
    auto c = nodes(2);
    const uint64_t key = 42;
    const size_t owner = *choose(c, key, 4, rng);
    c[owner].load = 2;
    c[owner].free_slot = false;
    c[1 - owner].load = 1;
    EXPECT_NE(*choose(c, key, 4, rng), owner);
    c[1 - owner].free_slot = false;  // both would queue: the prefix decides again
    EXPECT_EQ(*choose(c, key, 4, rng), owner);
}

TEST(GatewayRouting, PowerOfTwoPrefersTheLessLoadedAndLoadedModels) {
    std::mt19937_64 rng(3);
    auto c = nodes(2);
    c[0].load = 3;
    for (int i = 0; i < 50; ++i) EXPECT_EQ(*choose(c, std::nullopt, 4, rng), 1u);
    c = nodes(3);
    c[0].loaded = false;
    c[1].loaded = false;
    c[2].load = 10;  // busy, but the only one with the model in memory
    for (int i = 0; i < 50; ++i) EXPECT_EQ(*choose(c, std::nullopt, 4, rng), 2u);
    c[2].has_room = false;  // then loading elsewhere beats waiting
    std::set<size_t> seen;
    for (int i = 0; i < 50; ++i) seen.insert(*choose(c, std::nullopt, 4, rng));
    EXPECT_EQ(seen, (std::set<size_t>{0, 1}));
    for (auto& x : c) x.has_room = false;
    EXPECT_FALSE(choose(c, 1, 4, rng));
    EXPECT_FALSE(choose({}, 1, 4, rng));
}

}  // namespace
}  // namespace hearth::gateway
