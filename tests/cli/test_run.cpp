// The inference subcommands end to end: tokenize, run and bench on real files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/compute_devices.h"
#include "support/run_command.h"

namespace hearth {
namespace {

using test::hearth_binary;
using test::run_command;

const char* kStories = "data/llm/derived/stories260K-converted.gguf";

TEST(Tokenize, PrintsIdsAndPieces) {
    HEARTH_REQUIRE_SHARED(kStories);
    auto r = run_command(hearth_binary() + " tokenize " + test::shared_path(kStories) + " 'Once upon'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("     1  '<s>'\n   403  ' Once'\n   407  ' upon'\n3 tokens"), std::string::npos) << r.out;
    auto j = run_command(hearth_binary() + " tokenize --json --no-bos " + test::shared_path(kStories) + " 'Once upon'");
    ASSERT_EQ(j.exit_code, 0);
    EXPECT_EQ(nlohmann::json::parse(j.out)["ids"], nlohmann::json::array({403, 407}));
}

TEST(Run, GreedyStoryOnStdoutTimingsOnStderr) {
    HEARTH_REQUIRE_SHARED(kStories);
    const std::string cmd = hearth_binary() + " run " + test::shared_path(kStories) +
                            " -p 'Once upon a time, there was a little dog' -n 20 --temp 0 -t 2";
    auto out = run_command(cmd + " 2>/dev/null");
    ASSERT_EQ(out.exit_code, 0) << out.out;
    EXPECT_EQ(out.out.rfind(" named Max. Max loved to play with his toys", 0), 0u) << out.out;
    auto mapped = run_command(cmd + " --mmap 2>/dev/null");  // weights read in place: the same story
    ASSERT_EQ(mapped.exit_code, 0) << mapped.out;
    EXPECT_EQ(mapped.out, out.out);
    auto err = run_command(cmd + " 2>&1 >/dev/null");
    EXPECT_NE(err.out.find("prompt: 12 tokens"), std::string::npos) << err.out;
    EXPECT_NE(err.out.find("generation: 20 tokens"), std::string::npos) << err.out;
    EXPECT_NE(err.out.find("tok/s"), std::string::npos);
}

TEST(Run, SeedMakesSamplingRepeatable) {
    HEARTH_REQUIRE_SHARED(kStories);
    const std::string cmd = hearth_binary() + " run " + test::shared_path(kStories) +
                            " -p 'Once upon a time' -n 40 --temp 1.0 2>/dev/null --seed ";
    auto a = run_command(cmd + "7"), b = run_command(cmd + "7"), c = run_command(cmd + "8");
    ASSERT_EQ(a.exit_code, 0);
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(a.out, c.out);
}

// Every device the machine has prints the same greedy story (stories260K in f32: no
// near-ties); a device that does not exist is an error naming it, not a silent CPU run.
TEST(Run, DeviceOptionChoosesWhereTheModelRuns) {
    HEARTH_REQUIRE_SHARED(kStories);
    const std::string cmd = hearth_binary() + " run " + test::shared_path(kStories) +
                            " -p 'Once upon a time, there was a little dog' -n 20 --temp 0 --cache-type f32 --device ";
    for (const std::string device : {"cpu", "auto", "vulkan"}) {
        auto r = run_command(cmd + device + " 2>&1");
        if (device == "vulkan" && r.exit_code != 0) {
            EXPECT_NE(r.out.find("device vulkan: "), std::string::npos) << r.out;  // no Vulkan device: says why
            continue;
        }
        ASSERT_EQ(r.exit_code, 0) << r.out;
        EXPECT_EQ(r.out.rfind("device: ", 0), 0u) << r.out;
        EXPECT_NE(r.out.find(" named Max. Max loved to play with his toys"), std::string::npos) << device << ": " << r.out;
        if (device == "auto" && r.out.rfind("device: cpu", 0) == 0) {
            EXPECT_NE(r.out.find("no GPU used: "), std::string::npos) << r.out;
        }
    }
    // No Vulkan driver at all: naming the device is an error that says so, auto runs on
    // the CPU and says why.
    auto none = run_command("VK_ICD_FILENAMES=/nonexistent " + cmd + "vulkan 2>&1");
    EXPECT_NE(none.exit_code, 0);
    EXPECT_NE(none.out.find("device vulkan: "), std::string::npos) << none.out;
    auto fallback = run_command("VK_ICD_FILENAMES=/nonexistent " + cmd + "auto 2>&1");
    ASSERT_EQ(fallback.exit_code, 0) << fallback.out;
    EXPECT_NE(fallback.out.find("no GPU used: "), std::string::npos) << fallback.out;
    EXPECT_NE(fallback.out.find(" named Max. Max loved to play with his toys"), std::string::npos) << fallback.out;
    // The first 3 of 5 layers on the GPU, the rest on the CPU: the same story.
    auto split = run_command(cmd + "vulkan --gpu-layers 3 2>&1");
    if (split.exit_code == 0) {
        EXPECT_NE(split.out.find("placement: layers 0-2 on "), std::string::npos) << split.out;
        EXPECT_NE(split.out.find(" named Max. Max loved to play with his toys"), std::string::npos) << split.out;
    }
    auto bad = run_command(cmd + "tpu 2>&1");
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.out.find("unknown device 'tpu'"), std::string::npos) << bad.out;
}

TEST(Run, StopStringEndsGeneration) {
    HEARTH_REQUIRE_SHARED(kStories);
    auto r = run_command(hearth_binary() + " run " + test::shared_path(kStories) +
                         " -p 'Once upon a time, there was a little dog' -n 60 --temp 0 --stop 'Max loved' 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    // stderr says first which device runs the model, then the text follows.
    EXPECT_EQ(r.out.rfind("device: ", 0), 0u) << r.out;
    EXPECT_EQ(r.out.compare(r.out.find('\n') + 1, 13, " named Max. \n"), 0) << r.out;
    EXPECT_NE(r.out.find("finish: stop"), std::string::npos) << r.out;
}

TEST(Run, PromptLongerThanContextFails) {
    HEARTH_REQUIRE_SHARED(kStories);
    auto r = run_command(hearth_binary() + " run " + test::shared_path(kStories) +
                         " -c 8 -p 'Once upon a time, there was a little dog' 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("error: the prompt has 12 tokens, which does not fit the context of 8 tokens"),
              std::string::npos)
        << r.out;
}

TEST(Bench, ReportsPromptAndGenerationSpeed) {
    HEARTH_REQUIRE_SHARED(kStories);
    auto r = run_command(hearth_binary() + " bench " + test::shared_path(kStories) +
                         " -p 32 -n 8 -t 1,2 -r 1 --json --no-bandwidth");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["results"].size(), 4u);
    EXPECT_EQ(j["results"][0]["test"], "pp32");
    EXPECT_EQ(j["results"][1]["test"], "tg8");
    EXPECT_EQ(j["results"][2]["threads"], 2);
    for (const auto& row : j["results"]) EXPECT_GT(row["tokens_per_second"].get<double>(), 0.0);
}

// Without --no-bandwidth a generation row carries the read bandwidth measured next to its
// runs and the fraction of it the run achieved; with one measured run the fraction is
// exactly that run's GB/s over that run's ceiling. Prompt rows carry neither.
TEST(Bench, ReportsTheFractionOfMeasuredBandwidth) {
    HEARTH_REQUIRE_SHARED(kStories);
    auto r = run_command(hearth_binary() + " bench " + test::shared_path(kStories) + " -p 8 -n 4 -t 1 -r 1 --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto rows = nlohmann::json::parse(r.out)["results"];
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_FALSE(rows[0].contains("bandwidth_fraction"));
    const double ceiling = rows[1]["memory_bandwidth_gb_per_second"].get<double>();
    ASSERT_GT(ceiling, 0.1);  // any machine reads a buffer faster than 100 MB/s
    EXPECT_NEAR(rows[1]["bandwidth_fraction"].get<double>(), rows[1]["gb_per_second"].get<double>() / ceiling, 1e-9);
}

// On a GPU the ceiling is the device's own read bandwidth (kernels::Backend::
// measure_read_bandwidth), set against the run as on the CPU.
TEST(Bench, ReportsTheFractionOfTheGpuBandwidth) {
    HEARTH_REQUIRE_SHARED(kStories);
    const auto devices = test::compute_devices();
    if (devices.size() < 2) GTEST_SKIP() << "no Vulkan device";
    auto r = run_command(hearth_binary() + " bench " + test::shared_path(kStories) + " --device " + devices[1] +
                         " -p 8 -n 4 -t 1 -r 1 --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_NE(j["device"].get<std::string>(), "");
    const auto rows = j["results"];
    ASSERT_EQ(rows.size(), 2u);
    const double ceiling = rows[1]["memory_bandwidth_gb_per_second"].get<double>();
    ASSERT_GT(ceiling, 0.1);
    EXPECT_NEAR(rows[1]["bandwidth_fraction"].get<double>(), rows[1]["gb_per_second"].get<double>() / ceiling, 1e-9);
}

// -d: the tests run after that many tokens of context, and a generated token's bytes
// include the keys and values it reads (more at depth than from an empty cache).
TEST(Bench, RunsAtADepth) {
    HEARTH_REQUIRE_SHARED(kStories);
    auto bytes_per_token = [](const nlohmann::json& row) {
        return row["gb_per_second"].get<double>() / row["tokens_per_second"].get<double>();
    };
    auto shallow = run_command(hearth_binary() + " bench " + test::shared_path(kStories) +
                               " -p 16 -n 4 -t 1 -r 1 --json --no-bandwidth");
    auto deep = run_command(hearth_binary() + " bench " + test::shared_path(kStories) +
                            " -p 16 -n 4 -d 200 -t 1 -r 1 --json --no-bandwidth");
    ASSERT_EQ(shallow.exit_code, 0) << shallow.out;
    ASSERT_EQ(deep.exit_code, 0) << deep.out;
    const auto s = nlohmann::json::parse(shallow.out)["results"], d = nlohmann::json::parse(deep.out)["results"];
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0]["test"], "pp16 @ d200");
    EXPECT_EQ(d[1]["test"], "tg4 @ d200");
    EXPECT_EQ(d[1]["depth"], 200);
    // stories260K: 5 layers x 2 x 32 kv values x 2 bytes = 640 bytes per position; 200 more positions.
    EXPECT_NEAR((bytes_per_token(d[1]) - bytes_per_token(s[1])) * 1e9, 200 * 640.0, 1.0);
}

}  // namespace
}  // namespace hearth
