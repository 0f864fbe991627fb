#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "server/config.h"
#include "server/gateway_join.h"
#include "support/shared_data.h"

namespace hearth::server {
namespace {

// In a folder of the running test's own: scratch_dir() empties its folder, and ctest runs
// the tests of this file in parallel processes.
std::string write_file(const std::string& name, const std::string& text) {
    static std::string test;
    static std::filesystem::path dir;
    const std::string current = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    if (current != test) {
        test = current;
        dir = hearth::test::scratch_dir("server_config_" + test);
    }
    const auto path = (dir / name).string();
    std::ofstream(path) << text;
    return path;
}

TEST(ServerConfig, ReadsTomlKeysWithDashesOrUnderscores) {
    const auto path = write_file("a.toml",
                                 "models-dir = \"models\"\nport = 9000\nctx_size = 2048\ntimeout = 30\n"
                                 "idle-unload = 5\napi_key = \"k\"\nhost = \"0.0.0.0\"\nmmap = true\n");
    auto c = load_config_file(path);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->port, 9000);
    EXPECT_EQ(c->ctx_size, 2048);
    EXPECT_DOUBLE_EQ(c->timeout, 30.0);  // an integer is fine for a number
    EXPECT_DOUBLE_EQ(c->idle_unload, 5.0);
    EXPECT_EQ(c->api_key, "k");
    EXPECT_EQ(c->host, "0.0.0.0");
    EXPECT_TRUE(c->mmap);
    // Relative paths are relative to the file, not the working directory.
    EXPECT_EQ(c->models_dir, (std::filesystem::path(path).parent_path() / "models").string());
    EXPECT_EQ(c->parallel, ServerConfig{}.parallel);  // untouched keys keep defaults
}

TEST(ServerConfig, RejectsUnknownKeysWrongTypesAndSyntax) {
    auto c = load_config_file(write_file("b.toml", "prot = 1\n"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("unknown key 'prot'"), std::string::npos);
    c = load_config_file(write_file("c.toml", "port = \"80\"\n"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("'port' must be an integer"), std::string::npos);
    c = load_config_file(write_file("m.toml", "mmap = 1\n"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("'mmap' must be true or false"), std::string::npos);
    c = load_config_file(write_file("d.toml", "port = 99999999999\n"));
    ASSERT_FALSE(c.ok());
    c = load_config_file(write_file("e.toml", "port = [\n"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("e.toml:"), std::string::npos);
    EXPECT_FALSE(load_config_file("/nonexistent/x.toml").ok());
}

TEST(ServerConfig, CopySettingMovesOnlyThatKey) {
    ServerConfig flags, file;
    flags.port = 1234;
    flags.api_key = "flag";
    file.port = 80;
    file.api_key = "file";
    copy_setting(flags, file, "port");
    EXPECT_EQ(file.port, 1234);
    EXPECT_EQ(file.api_key, "file");
    for (const auto& key : config_keys()) copy_setting(flags, file, key);
    EXPECT_EQ(file.api_key, "flag");
}

TEST(ServerConfig, ValidateNeedsAModelAndSaneRanges) {
    ServerConfig c;
    EXPECT_FALSE(validate_config(c).ok());
    c.model = "m.gguf";
    EXPECT_TRUE(validate_config(c).ok());
    c.parallel = 0;
    EXPECT_FALSE(validate_config(c).ok());
    c.parallel = 4;
    c.port = 70000;
    EXPECT_FALSE(validate_config(c).ok());
    c.port = 0;
    c.max_body_bytes = 10;
    EXPECT_FALSE(validate_config(c).ok());
    c.max_body_bytes = 1 << 20;
    for (const char* device : {"auto", "cpu", "vulkan", "vulkan:1"}) {
        c.device = device;
        EXPECT_TRUE(validate_config(c).ok()) << device;
    }
    c.device = "tpu";
    EXPECT_NE(validate_config(c).error().message.find("device must be auto, cpu, vulkan or vulkan:N"), std::string::npos);
    c.device = "auto";
    c.gpu_layers = -2;
    EXPECT_FALSE(validate_config(c).ok());
}

TEST(ServerConfig, DeviceAndGpuLayersFromToml) {
    auto c = load_config_file(write_file("g.toml", "device = \"vulkan:1\"\ngpu-layers = 20\n"));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->device, "vulkan:1");
    EXPECT_EQ(c->gpu_layers, 20);
    EXPECT_EQ(ServerConfig{}.gpu_layers, -1);  // auto unless told
}

TEST(ServerConfig, GatewayKeysFromToml) {
    ServerConfig d;
    EXPECT_TRUE(d.join.empty());
    EXPECT_DOUBLE_EQ(d.heartbeat, 2.0);
    EXPECT_TRUE(d.access_log);
    auto c = load_config_file(write_file("j.toml",
                                         "join = \"http://10.0.0.1:9000\"\njoin_key = \"secret\"\n"
                                         "advertise = \"http://node-a:8080\"\nheartbeat = 0.5\naccess-log = false\n"));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->join, "http://10.0.0.1:9000");
    EXPECT_EQ(c->join_key, "secret");
    EXPECT_EQ(c->advertise, "http://node-a:8080");
    EXPECT_DOUBLE_EQ(c->heartbeat, 0.5);
    EXPECT_FALSE(c->access_log);
    c = load_config_file(write_file("k.toml", "heartbeat = 3\n"));  // an integer is a number too
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_DOUBLE_EQ(c->heartbeat, 3.0);
    c = load_config_file(write_file("l.toml", "access-log = \"no\"\n"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("'access-log' must be true or false"), std::string::npos);
    c = load_config_file(write_file("n.toml", "join = 9000\n"));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("'join' must be a string"), std::string::npos);
    for (const char* key : {"join", "join-key", "advertise", "heartbeat", "access-log"}) {
        EXPECT_NE(std::find(config_keys().begin(), config_keys().end(), key), config_keys().end()) << key;
    }
    ServerConfig flags, file;
    flags.join = "http://gw:1";
    flags.access_log = false;
    copy_setting(flags, file, "join");
    copy_setting(flags, file, "access-log");
    EXPECT_EQ(file.join, "http://gw:1");
    EXPECT_FALSE(file.access_log);
}

TEST(ServerConfig, ValidateChecksGatewayUrlsAndHeartbeat) {
    ServerConfig c;
    c.model = "m.gguf";
    c.join = "http://10.0.0.1:9000";
    c.advertise = "http://node-a:8080/";
    EXPECT_TRUE(validate_config(c).ok());
    c.join = "https://10.0.0.1:9000";
    auto r = validate_config(c);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("join:"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("https is not supported"), std::string::npos) << r.error().message;
    c.join = "10.0.0.1:9000";
    EXPECT_FALSE(validate_config(c).ok());
    c.join = "http://10.0.0.1:9000";
    c.advertise = "http://node-a:99999";
    r = validate_config(c);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("advertise:"), std::string::npos) << r.error().message;
    c.advertise.clear();
    for (double bad : {0.0, -1.0, std::nan("")}) {
        c.heartbeat = bad;
        EXPECT_FALSE(validate_config(c).ok()) << bad;
    }
    c.heartbeat = 0.25;
    EXPECT_TRUE(validate_config(c).ok());
}

TEST(ServerConfig, AdvertiseDefaultsToTheBoundAddressOrTheHostName) {
    ServerConfig c;
    auto a = advertise_url(c, "http://127.0.0.1:8080");
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(*a, "http://127.0.0.1:8080");
    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
    a = advertise_url(c, "http://0.0.0.0:8081");
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(*a, std::string("http://") + host + ":8081");
    a = advertise_url(c, "http://[::]:8082");
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(*a, std::string("http://") + host + ":8082");
    a = advertise_url(c, "http://[::1]:8083");
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(*a, "http://[::1]:8083");
    c.advertise = "http://node-a:9000/";  // given: wins, spelled canonically
    a = advertise_url(c, "http://0.0.0.0:8081");
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(*a, "http://node-a:9000");
}

}  // namespace
}  // namespace hearth::server
