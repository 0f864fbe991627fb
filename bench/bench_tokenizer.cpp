// Tokenizer throughput (MB/s of input text) for a byte-level BPE vocabulary and a
// SentencePiece one, on the llama.cpp vocab test strings repeated to 1 MB. Vocabularies
// come from $HEARTH_SHARED_DIR/data/vocab (default: HEARTH_SHARED_DIR at build time, or
// ../shared); a benchmark whose vocabulary is missing reports an error and is skipped.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tokenizer/tokenizer.h"

namespace {

std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("HEARTH_SHARED_DIR"); env && *env) return env;
#ifdef HEARTH_SHARED_DIR
    return HEARTH_SHARED_DIR;
#else
    return "../shared";
#endif
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void encode_megabyte(benchmark::State& state, const char* vocab_name) {
    const auto base = shared_dir() / "data" / "vocab" / (std::string("ggml-vocab-") + vocab_name + ".gguf");
    auto tok = hearth::tokenizer::Tokenizer::from_gguf_file(base.string());
    if (!tok) {
        state.SkipWithError(tok.error().message.c_str());
        return;
    }
    const std::string sample = read_file(base.string() + ".inp");
    std::string text;
    while (!sample.empty() && text.size() < (1u << 20)) text += sample;
    text.resize(sample.empty() ? 0 : (1u << 20));
    size_t n_tokens = 0;
    for (auto _ : state) {
        auto ids = tok->encode(text, false, false);
        n_tokens = ids.size();
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
    state.counters["tokens"] = static_cast<double>(n_tokens);
}

void BM_EncodeBpeGpt2(benchmark::State& state) { encode_megabyte(state, "gpt-2"); }
void BM_EncodeSpmLlama(benchmark::State& state) { encode_megabyte(state, "llama-spm"); }
void BM_EncodeWpmBert(benchmark::State& state) { encode_megabyte(state, "bert-bge"); }

BENCHMARK(BM_EncodeBpeGpt2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeSpmLlama)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeWpmBert)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
