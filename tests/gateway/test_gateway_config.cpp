#include <gtest/gtest.h>

#include <fstream>

#include "gateway/config.h"
#include "support/shared_data.h"

namespace hearth::gateway {
namespace {

std::string write_file(const std::string& name, const std::string& text) {
    // A folder per file: scratch_dir empties its folder, and the cases run in parallel.
    const auto path = (hearth::test::scratch_dir("gateway_config_" + name) / name).string();
    std::ofstream(path) << text;
    return path;
}

TEST(GatewayConfig, ReadsNodesAliasesAndKeys) {
    auto c = load_gateway_config(write_file("a.toml", R"(
port = 9100
join_key = "j"
probe-interval = 0.5
affinity-threshold = 2
drain-timeout = 5
[aliases]
gpt-4o = "qwen3-8b"
[[node]]
url = "http://10.0.0.5:8080"
api-key = "k5"
weight = 2
labels = ["gpu", "3090"]
[[node]]
url = "http://10.0.0.6:8080/"
)"));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->port, 9100);
    EXPECT_EQ(c->join_key, "j");
    EXPECT_DOUBLE_EQ(c->probe_interval, 0.5);
    EXPECT_DOUBLE_EQ(c->affinity_threshold, 2);
    EXPECT_DOUBLE_EQ(c->drain_timeout, 5);
    ASSERT_EQ(c->nodes.size(), 2u);
    EXPECT_EQ(c->nodes[0].api_key, "k5");
    EXPECT_DOUBLE_EQ(c->nodes[0].weight, 2);
    EXPECT_EQ(c->nodes[0].labels, (std::vector<std::string>{"gpu", "3090"}));
    EXPECT_EQ(c->aliases.at("gpt-4o"), "qwen3-8b");
    EXPECT_TRUE(validate_gateway_config(*c).ok());
}

TEST(GatewayConfig, RejectsWhatCannotWork) {
    auto message = [](const std::string& text) {
        auto c = load_gateway_config(write_file("bad.toml", text));
        if (!c) return c.error().message;
        auto ok = validate_gateway_config(*c);
        return ok ? std::string() : ok.error().message;
    };
    EXPECT_NE(message("prot = 1\n").find("unknown key 'prot'"), std::string::npos);
    EXPECT_NE(message("drain-timeout = -1\n").find("drain-timeout must be >= 0"), std::string::npos);
    EXPECT_NE(message("port = \"x\"\n").find("must be an integer"), std::string::npos);
    EXPECT_NE(message("[[node]]\nweight = 1\n").find("needs a url"), std::string::npos);
    EXPECT_NE(message("[[node]]\nurl = \"https://a:1\"\n").find("https is not supported"), std::string::npos);
    EXPECT_NE(message("[[node]]\nurl = \"http://a:99999\"\n").find("bad port"), std::string::npos);
    EXPECT_NE(message("[[node]]\nurl = \"http://a:1\"\n[[node]]\nurl = \"http://a:1/\"\n").find("listed twice"),
              std::string::npos);
    EXPECT_NE(message("[[node]]\nurl = \"http://a:1\"\nweight = 0\n").find("weight"), std::string::npos);
    EXPECT_NE(message("[[node]]\nurl = \"http://a:1\"\ncolour = 1\n").find("unknown key 'colour'"), std::string::npos);
    EXPECT_NE(message("queue = -1\n").find("queue"), std::string::npos);
    EXPECT_NE(message("port = [\n").find("bad.toml:"), std::string::npos);
    EXPECT_FALSE(parse_alias("x").ok());
    EXPECT_EQ(parse_alias("a=b=c")->second, "b=c");
}

TEST(GatewayConfig, ThePackagedExampleIsValid) {
    auto c = load_gateway_config(std::string(HEARTH_SOURCE_DIR) + "/packaging/gateway.toml");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(validate_gateway_config(*c).ok());
    EXPECT_EQ(c->nodes.size(), 2u);
    EXPECT_EQ(c->aliases.size(), 1u);
}

}  // namespace
}  // namespace hearth::gateway
