#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "llm/synthetic_model.h"
#include "support/run_command.h"

namespace hearth {
namespace {

using test::hearth_binary;
using test::run_command;

TEST(Inspect, Stories260KText) {
    HEARTH_REQUIRE_SHARED("data/llm/derived/stories260K-converted.gguf");
    auto r = run_command(hearth_binary() + " inspect " + test::shared_path("data/llm/derived/stories260K-converted.gguf"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("dim 64, 5 layers, 8 heads, 4 kv heads, vocab 512"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("architecture     llama"), std::string::npos);
    EXPECT_NE(r.out.find("model            llama (SentencePiece)"), std::string::npos);
    EXPECT_NE(r.out.find("chat template    absent"), std::string::npos);
    EXPECT_NE(r.out.find("blk.4.ffn_up.weight"), std::string::npos);
    EXPECT_NE(r.out.find("tensors          48"), std::string::npos);
}

TEST(Inspect, Stories260KJson) {
    HEARTH_REQUIRE_SHARED("data/llm/derived/stories260K-converted.gguf");
    auto r = run_command(hearth_binary() + " inspect --json " +
                         test::shared_path("data/llm/derived/stories260K-converted.gguf"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["architecture"], "llama");
    EXPECT_EQ(j["supported"], true);
    EXPECT_EQ(j["hyper_parameters"]["embedding_length"], 64);
    EXPECT_EQ(j["hyper_parameters"]["block_count"], 5);
    EXPECT_EQ(j["hyper_parameters"]["head_count"], 8);
    EXPECT_EQ(j["hyper_parameters"]["head_count_kv"], 4);
    EXPECT_EQ(j["hyper_parameters"]["vocab_size"], 512);
    EXPECT_EQ(j["tokenizer"]["model"], "llama");
    EXPECT_EQ(j["tokenizer"]["tokens"], 512);
    EXPECT_EQ(j["tokenizer"]["chat_template"], false);
    ASSERT_EQ(j["tensors"].size(), 48u);
    EXPECT_EQ(j["tensors"][0]["name"], "token_embd.weight");
    EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json::array({64, 512}));
    EXPECT_EQ(j["tensors"][0]["type"], "F32");
    EXPECT_EQ(j["metadata"]["llama.block_count"], 5);
    uint64_t bytes = 0;
    for (const auto& t : j["tensors"]) bytes += t["bytes"].get<uint64_t>();
    EXPECT_EQ(j["totals"]["bytes"], bytes);
}

TEST(Inspect, QuantizedSyntheticModelWithChatTemplate) {
    llm::SyntheticModelOptions o;
    o.arch = "qwen3";
    o.n_embd = 256;
    o.n_ff = 512;
    o.weight_type = gguf::GgmlType::Q4_K;
    auto w = llm::build_synthetic_model(o);
    ASSERT_TRUE(w.ok());
    const std::string chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}";
    w->set("tokenizer.chat_template", gguf::Value::str(chat_template));
    const auto path = (test::scratch_dir("inspect_q4k") / "q4k.gguf").string();
    ASSERT_TRUE(w->write(path).ok());
    auto r = run_command(hearth_binary() + " inspect --json " + path);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["architecture"], "qwen3");
    EXPECT_EQ(j["tokenizer"]["chat_template"], true);
    EXPECT_EQ(j["totals"]["by_type"]["Q4_K"]["tensors"], 2 * 7 + 2);  // 7 matrices per block, embedding, output
    auto text = run_command(hearth_binary() + " inspect " + path);
    EXPECT_NE(text.out.find("chat template    present (" + std::to_string(chat_template.size()) + " chars)"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Q4_K     [256, 256]"), std::string::npos) << text.out;
}

TEST(Inspect, BadFilesAreClearErrors) {
    auto missing = run_command(hearth_binary() + " inspect /nonexistent/model.gguf 2>&1");
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.out.find("error: cannot open '/nonexistent/model.gguf'"), std::string::npos) << missing.out;
    const auto path = (test::scratch_dir("inspect_bad") / "truncated.gguf").string();
    std::ofstream(path, std::ios::binary) << std::string("GGUF\x03\0\0\0", 8);
    auto truncated = run_command(hearth_binary() + " inspect " + path + " 2>&1");
    EXPECT_EQ(truncated.exit_code, 1);
    EXPECT_NE(truncated.out.find("truncated header"), std::string::npos) << truncated.out;
    auto usage = run_command(hearth_binary() + " inspect 2>&1");
    EXPECT_NE(usage.exit_code, 0);
}

TEST(Cli, VersionReportsCpuAndGpu) {
    auto r = run_command(hearth_binary() + " --version");
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("hearth "), std::string::npos);
    EXPECT_NE(r.out.find("cpu: "), std::string::npos);
    EXPECT_NE(r.out.find("device: cpu-"), std::string::npos) << r.out;
    // Each Vulkan device, or why there is none.
    EXPECT_NE(r.out.find("vulkan"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hearth
