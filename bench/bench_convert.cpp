// hearth convert on a model of a given shape: makes a random-weight BF16 model (Llama 3.2
// 1B's shape by default, with its real tokenizer.json) as a Hugging Face folder, then times
// `hearth convert` to f16 and q8_0 and reports its peak resident memory against the
// largest tensor. Usage:
//   bench_convert [--dir DIR] [--hearth build/bin/hearth] [--layers 16] [--embd 2048] [--ff 8192]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "convert/safetensors.h"
#include "gguf/gguf_file.h"
#include "llm/synthetic_model.h"
#include "support/hf_model_folder.h"
#include "tokenizer/hf_tokenizer_json.h"

namespace fs = std::filesystem;
using namespace hearth;

namespace {

struct Run {
    double seconds = 0;
    double peak_rss_mib = 0;
    int status = -1;
};

Run run_convert(const std::string& hearth, const std::string& in, const std::string& out, const char* type) {
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        std::freopen("/dev/null", "w", stderr);
        execl(hearth.c_str(), hearth.c_str(), "convert", in.c_str(), "-o", out.c_str(), "--type", type,
              static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    Run r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

int arg(int argc, char** argv, const char* name, int fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
    return fallback;
}
std::string arg(int argc, char** argv, const char* name, const std::string& fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    const fs::path dir = arg(argc, argv, "--dir", std::string(HEARTH_BINARY_DIR "/bench-models/convert"));
    const std::string hearth = arg(argc, argv, "--hearth", std::string(HEARTH_BINARY_DIR "/bin/hearth"));
    const fs::path tokenizer = fs::path(HEARTH_SHARED_DIR) / "data/tokenizers/llama3_1-npm-lenml";
    fs::create_directories(dir / "hf");
    auto vocab = tokenizer::load_hf_tokenizer_json((tokenizer / "tokenizer.json").string());
    if (!vocab) return std::fprintf(stderr, "%s\n", vocab.error().message.c_str()), 1;
    gguf::GgufWriter vocab_file;
    vocab->write_gguf_metadata(vocab_file);
    if (!vocab_file.write((dir / "vocab.gguf").string())) return 1;

    llm::SyntheticModelOptions o;
    o.arch = "llama";
    o.n_embd = arg(argc, argv, "--embd", 2048);
    o.n_layer = arg(argc, argv, "--layers", 16);
    o.n_ff = arg(argc, argv, "--ff", 8192);
    o.n_head = 32;
    o.n_head_kv = 8;
    o.weight_type = gguf::GgmlType::BF16;
    o.tied_embeddings = true;
    o.vocab_gguf = (dir / "vocab.gguf").string();
    const std::string source = (dir / "source.gguf").string();
    std::fprintf(stderr, "making the %lld-layer model...\n", static_cast<long long>(o.n_layer));
    if (auto ok = llm::write_synthetic_model(o, source); !ok) return std::fprintf(stderr, "%s\n", ok.error().message.c_str()), 1;
    {
        auto model = gguf::GgufFile::open(source);
        if (!model) return 1;
        if (auto ok = test::write_hf_folder(*model, "LlamaForCausalLM", tokenizer, true, false, dir / "hf"); !ok)
            return std::fprintf(stderr, "%s\n", ok.error().message.c_str()), 1;
    }
    fs::remove(source);
    uint64_t largest = 0, total = 0;
    auto hf = convert::SafetensorsModel::open((dir / "hf").string());
    if (!hf) return 1;
    for (const auto* t : hf->tensors()) {
        largest = std::max<uint64_t>(largest, t->bytes.size());
        total += t->bytes.size();
    }
    std::printf("model: %.2f GiB of BF16 in %zu tensors, the largest %.0f MiB (token embeddings)\n",
                static_cast<double>(total) / (1ull << 30), hf->size(), static_cast<double>(largest) / (1 << 20));
    for (const char* type : {"f16", "q8_0"}) {
        const Run r = run_convert(hearth, (dir / "hf").string(), (dir / (std::string("out-") + type + ".gguf")).string(), type);
        std::printf("hearth convert --type %-4s: %6.2f s, peak RSS %7.1f MiB (%.2fx the largest tensor)%s\n", type,
                    r.seconds, r.peak_rss_mib, r.peak_rss_mib * (1 << 20) / static_cast<double>(largest),
                    r.status == 0 ? "" : "  FAILED");
        fs::remove(dir / (std::string("out-") + type + ".gguf"));
    }
    return 0;
}
