// hearth-synth: writes a llama-family GGUF with deterministic random weights, for
// benchmarks and reference comparisons (e.g. a Qwen3-0.6B-shaped model in Q4_K).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "llm/synthetic_model.h"

int main(int argc, char** argv) {
    hearth::llm::SyntheticModelOptions o;
    std::string type = "F32", out;
    CLI::App app{"Write a synthetic llama-family GGUF model"};
    app.add_option("--arch", o.arch, "llama, mistral, qwen2 or qwen3")->capture_default_str();
    app.add_option("--embd", o.n_embd, "embedding width")->capture_default_str();
    app.add_option("--layers", o.n_layer, "blocks")->capture_default_str();
    app.add_option("--heads", o.n_head, "attention heads")->capture_default_str();
    app.add_option("--kv-heads", o.n_head_kv, "key/value heads")->capture_default_str();
    app.add_option("--ff", o.n_ff, "feed-forward width")->capture_default_str();
    app.add_option("--head-dim", o.head_dim, "head dimension (0: embd / heads)")->capture_default_str();
    app.add_option("--ctx", o.n_ctx, "training context length")->capture_default_str();
    app.add_option("--type", type, "weight type: F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K, or a mix: Q4_K_M Q5_K_M")
        ->capture_default_str();
    app.add_option("--vocab", o.vocab_gguf, "GGUF whose tokenizer is copied (default: 259-token byte vocab)");
    app.add_option("--pad-vocab", o.pad_vocab_to, "pad the vocabulary with [PADn] tokens to this size");
    app.add_flag("--tied", o.tied_embeddings, "reuse the token embedding as output");
    app.add_option("--rope-theta", o.rope_theta, "rope base (0: architecture default)");
    app.add_option("--seed", o.seed, "random seed")->capture_default_str();
    app.add_option("-o,--output", out, "output file")->required();
    CLI11_PARSE(app, argc, argv);
    if (type == "Q4_K_M" || type == "Q5_K_M") {
        o.mix = type;
        type = type.substr(0, 4);
    }
    auto t = hearth::gguf::type_from_name(type);
    if (!t) {
        std::fprintf(stderr, "error: unknown type '%s'\n", type.c_str());
        return 1;
    }
    o.weight_type = *t;
    if (auto ok = hearth::llm::write_synthetic_model(o, out); !ok) {
        std::fprintf(stderr, "error: %s\n", ok.error().message.c_str());
        return 1;
    }
    std::printf("wrote %s\n", out.c_str());
    return 0;
}
