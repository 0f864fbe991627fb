// hearth convert against its own inverse: a synthetic model (the generator tests and
// benchmarks use) is written out as a Hugging Face folder by this test's own reading of
// the conventions (HF names, [out, in] shapes, RoPE halves, config.json, the real
// tokenizer.json files in ../shared), then converted back. Every tensor must come back
// byte-identical with the same hyper-parameters and vocabulary, and llama.cpp must load the
// result and agree with hearth on its logits.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "convert/convert.h"
#include "convert/safetensors.h"
#include "convert/tensor_map.h"
#include "gguf/gguf_file.h"
#include "llm/context.h"
#include "llm/model.h"
#include "llm/synthetic_model.h"
#include "support/hf_model_folder.h"
#include "support/llama_reference.h"
#include "support/shared_data.h"
#include "tokenizer/hf_tokenizer_json.h"

namespace hearth::convert {
namespace {

namespace fs = std::filesystem;
using gguf::GgmlType;
using json = nlohmann::json;

struct Case {
    std::string arch;      // hearth-synth's
    std::string hf_class;  // config.json's
    std::string tokenizer;  // folder under data/tokenizers
    GgmlType type;
    bool tied = false;
    bool llama3_rope = false;
};

std::string case_name(const Case& c) {
    return c.hf_class + "_" + std::string(gguf::type_name(c.type)) + (c.tied ? "_tied" : "") + (c.llama3_rope ? "_rope3" : "");
}
void PrintTo(const Case& c, std::ostream* os) { *os << case_name(c); }

// llama.cpp loads what hearth convert writes (its tokenizer metadata included) and its
// logits agree with hearth's on the same file.
void expect_llama_cpp_agrees(const fs::path& path, const Case& c) {
    const std::vector<int32_t> prompt = {9707, 11, 1879, 0, 15, 220, 1234, 42};
    constexpr int kSteps = 6;
    std::string why;
    test::LlamaReferenceOptions ro;
    ro.logits_steps = kSteps;
    auto ref = test::run_llama_reference(path.string(), prompt, kSteps, 2, &why, false, ro);
    if (!ref && test::llama_reference_failed(why)) FAIL() << why;
    if (!ref) {
        std::printf("llama.cpp reference not run: %s\n", why.c_str());
        return;
    }
    auto model = llm::Model::load(path.string());
    ASSERT_TRUE(model.ok()) << model.error().message;
    ASSERT_EQ(ref->n_vocab, (*model)->hparams().n_vocab);
    llm::ContextOptions cx;
    cx.n_ctx = 64;
    cx.kv_type = kernels::KvType::F32;
    auto ctx = llm::InferenceContext::create(*model, cx);
    ASSERT_TRUE(ctx.ok());
    llm::Batch b;
    for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
    ASSERT_TRUE((*ctx)->decode(b).ok());
    double worst = 0;
    for (int k = 0; k < kSteps; ++k) {
        const auto ours = (*ctx)->logits(0);
        const auto& theirs = ref->logits[static_cast<size_t>(k)];
        const double err = test::relative_l2(ours, theirs);
        worst = std::max(worst, err);
        EXPECT_LT(err, 2e-2) << case_name(c) << " step " << k;
        b.clear();
        b.add(ref->tokens[static_cast<size_t>(k)], static_cast<int32_t>(prompt.size()) + k, 0, true);
        ASSERT_TRUE((*ctx)->decode(b).ok());
    }
    std::printf("%s: llama.cpp loads the converted file; worst logits rel. error %.2e\n", case_name(c).c_str(), worst);
}

class ConvertRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(ConvertRoundTrip, GivesBackTheSameTensorsMetadataAndVocabulary) {
    const Case& c = GetParam();
    HEARTH_REQUIRE_SHARED("data/tokenizers/" + c.tokenizer + "/tokenizer.json");
    const fs::path dir = test::scratch_dir("convert_" + case_name(c));
    const fs::path tok = test::shared_path("data/tokenizers/" + c.tokenizer);
    // The vocabulary as a GGUF for the generator: the same tokenizer.json read by hearth.
    auto vocab = tokenizer::load_hf_tokenizer_json((tok / "tokenizer.json").string());
    ASSERT_TRUE(vocab.ok()) << vocab.error().message;
    gguf::GgufWriter vocab_file;
    vocab->write_gguf_metadata(vocab_file);
    ASSERT_TRUE(vocab_file.write((dir / "vocab.gguf").string()).ok());

    llm::SyntheticModelOptions o;
    o.arch = c.arch;
    o.n_embd = 64;
    o.n_ff = 96;
    o.n_layer = 2;
    o.n_head = 4;
    o.n_head_kv = 2;
    o.weight_type = c.type;
    o.tied_embeddings = c.tied;
    o.vocab_gguf = (dir / "vocab.gguf").string();
    o.seed = 11;
    if (c.llama3_rope) {
        o.rope_theta = 500000;
        o.llama3_rope_original_context = 32;
    }
    const std::string original_path = (dir / "original.gguf").string();
    ASSERT_TRUE(llm::write_synthetic_model(o, original_path).ok());
    auto original = gguf::GgufFile::open(original_path);
    ASSERT_TRUE(original.ok());
    const fs::path hf = dir / "hf";
    fs::create_directories(hf);
    auto written = test::write_hf_folder(*original, c.hf_class, tok, c.tied, c.llama3_rope, hf);
    ASSERT_TRUE(written.ok()) << written.error().message;

    ConvertOptions co;
    co.input_dir = hf.string();
    co.output_path = (dir / "converted.gguf").string();
    co.type = c.type == GgmlType::F32 ? "f32" : c.type == GgmlType::F16 ? "f16" : "bf16";
    co.threads = 2;
    size_t progress_calls = 0;
    co.progress = [&](size_t, size_t, const std::string&) { ++progress_calls; };
    auto summary = convert_hf_model(co);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    auto converted = gguf::GgufFile::open(co.output_path);
    ASSERT_TRUE(converted.ok()) << converted.error().message;
    EXPECT_EQ(progress_calls, converted->tensors().size());

    ASSERT_EQ(converted->tensors().size(), original->tensors().size());
    for (const auto& t : original->tensors()) {
        const auto* u = converted->find_tensor(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        EXPECT_EQ(u->shape, t.shape) << t.name;
        EXPECT_EQ(u->type, t.type) << t.name;
        const auto a = original->tensor_data(t), b = converted->tensor_data(*u);
        EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << t.name << " differs";
    }
    const std::string p = converted->architecture() + ".";
    EXPECT_EQ(converted->architecture(), original->architecture());
    for (const auto& [key, value] : original->metadata().entries()) {
        if (key.rfind(p, 0) != 0 && key.rfind("tokenizer.ggml.", 0) != 0) continue;
        const auto* ours = converted->metadata().find(key);
        ASSERT_NE(ours, nullptr) << key;
        EXPECT_TRUE(*ours == value) << key;
    }
    const json tokenizer_config = json::parse(std::ifstream(tok / "tokenizer_config.json"));
    if (tokenizer_config.contains("chat_template") && tokenizer_config["chat_template"].is_string()) {
        EXPECT_EQ(converted->metadata().get_string("tokenizer.chat_template"),
                  tokenizer_config["chat_template"].get<std::string>());
    }
    expect_llama_cpp_agrees(co.output_path, c);
}

INSTANTIATE_TEST_SUITE_P(Architectures, ConvertRoundTrip,
                         ::testing::Values(Case{"llama", "LlamaForCausalLM", "llama3_1-npm-lenml", GgmlType::F32, false, true},
                                           Case{"mistral", "MistralForCausalLM", "llama3_1-npm-lenml", GgmlType::BF16},
                                           Case{"qwen2", "Qwen2ForCausalLM", "qwen3-npm-lenml", GgmlType::F16, true},
                                           Case{"qwen3", "Qwen3ForCausalLM", "qwen3-npm-lenml", GgmlType::BF16, true}),
                         [](const auto& info) { return case_name(info.param); });

TEST(ConvertTensorMap, PermutesRopeRowsAsLlamaCppDoes) {
    // One head of dimension 4 (rows r0..r3, halves {r0, r1} and {r2, r3}), rows of 2 values:
    // llama.cpp's order pairs the halves: r0, r2, r1, r3.
    const std::vector<float> rows = {0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f};
    EXPECT_EQ(permute_rope_rows(rows, 1, 2), (std::vector<float>{0, 0.5f, 2, 2.5f, 1, 1.5f, 3, 3.5f}));
    // Two heads of dimension 2: each head's two rows are already a pair.
    EXPECT_EQ(permute_rope_rows(rows, 2, 2), rows);
}

TEST(ConvertTensorMap, RejectsWhatTheConfigDoesNotDescribe) {
    HfModelConfig c = parse_hf_config(R"({"architectures":["Qwen2ForCausalLM"],"vocab_size":10,"hidden_size":8,
        "num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"intermediate_size":16})").value();
    const std::vector<int64_t> q = {8, 8}, bad = {8, 7};
    auto ok = plan_tensor(c, "model.layers.0.self_attn.q_proj.weight", q);
    ASSERT_TRUE(ok.ok() && ok->has_value());
    EXPECT_EQ((*ok)->name, "blk.0.attn_q.weight");
    EXPECT_EQ((*ok)->permute_heads, 0);  // Qwen: NeoX-style RoPE, no permutation
    EXPECT_FALSE(plan_tensor(c, "model.layers.0.self_attn.q_proj.weight", bad).ok());
    EXPECT_FALSE(plan_tensor(c, "model.layers.1.self_attn.q_proj.weight", q).ok());  // one layer only
    EXPECT_FALSE(plan_tensor(c, "model.layers.0.self_attn.q_norm.weight", std::vector<int64_t>{4}).ok());  // Qwen3's
    EXPECT_FALSE(plan_tensor(c, "model.vision_tower.weight", q).ok());
    auto skipped = plan_tensor(c, "model.layers.0.self_attn.rotary_emb.inv_freq", std::vector<int64_t>{2});
    ASSERT_TRUE(skipped.ok());
    EXPECT_FALSE(skipped->has_value());
}

TEST(ConvertConfig, ReadsShapesAndRopeScalingAndRejectsTheRest) {
    auto c = parse_hf_config(R"({"architectures":["LlamaForCausalLM"],"vocab_size":128256,"hidden_size":4096,
        "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"intermediate_size":14336,
        "max_position_embeddings":131072,"rms_norm_eps":1e-05,"rope_theta":500000.0,
        "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
        "tie_word_embeddings":false,"torch_dtype":"bfloat16"})");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->gguf_arch, "llama");
    EXPECT_EQ(c->head_dim, 128);
    EXPECT_EQ(c->n_head_kv, 8);
    ASSERT_TRUE(c->llama3_rope.has_value());
    EXPECT_EQ(c->llama3_rope->original_context, 8192);
    EXPECT_TRUE(c->permute_qk());
    auto gemma = parse_hf_config(R"({"architectures":["Gemma2ForCausalLM"]})");
    ASSERT_FALSE(gemma.ok());
    EXPECT_NE(gemma.error().message.find("Gemma2ForCausalLM is not supported"), std::string::npos);
    EXPECT_FALSE(parse_hf_config(R"({"architectures":["LlamaForCausalLM"],"vocab_size":10})").ok());
    EXPECT_FALSE(parse_hf_config("not json").ok());
    auto yarn = parse_hf_config(R"({"architectures":["Qwen2ForCausalLM"],"vocab_size":10,"hidden_size":8,
        "num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,"rope_scaling":{"type":"yarn","factor":4}})");
    ASSERT_FALSE(yarn.ok());
    EXPECT_NE(yarn.error().message.find("yarn"), std::string::npos);
}

TEST(Convert, ExplainsWhatIsMissing) {
    const fs::path dir = test::scratch_dir("convert_missing");
    ConvertOptions o;
    o.input_dir = dir.string();
    o.output_path = (dir / "out.gguf").string();
    auto r = convert_hf_model(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("config.json"), std::string::npos);
    std::ofstream(dir / "config.json") << R"({"architectures":["Qwen2ForCausalLM"],"vocab_size":10,"hidden_size":8,
        "num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16})";
    r = convert_hf_model(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("safetensors"), std::string::npos) << r.error().message;
    EXPECT_FALSE(fs::exists(o.output_path));
}

}  // namespace
}  // namespace hearth::convert
