// llama.cpp as an oracle for hearth's tests: runs tests/reference/llama_ref.mjs (node +
// node-llama-cpp's prebuilt llama.cpp, CPU only) on given token ids and returns llama.cpp's
// greedy tokens and raw logits. Test-only; hearth never uses llama.cpp at run time.
//
// The reference is optional: when node or tests/reference/node_modules is missing (run
// scripts/setup-reference.sh), run_llama_reference returns nullopt with the reason, so a test
// can do:
//
//     std::string why;
//     auto ref = hearth::test::run_llama_reference(model, {1, 403, 407}, 8, 2, &why);
//     if (!ref && hearth::test::llama_reference_failed(why)) FAIL() << why;
//     if (!ref) GTEST_SKIP() << why;
//
// Conventions (see llama_ref.mjs): the prompt ids are evaluated exactly as given (no BOS is
// added, nothing is tokenized); `tokens` are `steps` greedy (argmax) ids, not stopped at EOS.
// `logits` are raw pre-softmax rows of n_vocab floats, in evaluation order:
//   - prompt_logits == false: logits[k] predicts tokens[k], for k < logits_steps (>= 1).
//   - prompt_logits == true: logits[j] (j < prompt.size()) follows prompt token j, so
//     logits[prompt.size() - 1] predicts tokens[0]; then logits[prompt.size() - 1 + k]
//     predicts tokens[k] for 0 < k < logits_steps.
// By default llama.cpp runs in its most precise CPU configuration: F32 KV cache, flash
// attention off (llama.cpp's own defaults, F16 KV + flash attention, drift by ~1e-3 on logits).
//
// Environment: HEARTH_NODE overrides the node executable; HEARTH_REFERENCE_DIR overrides the
// tests/reference directory.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::test {

struct LlamaReference {
    std::vector<int32_t> tokens;              // greedy ids generated after the prompt
    std::vector<std::vector<float>> logits;   // raw logits rows, see the conventions above
    int n_vocab = 0;
};

struct LlamaReferenceOptions {
    int logits_steps = 1;           // how many generation steps get a logits row (>= 1)
    int ctx = 0;                    // context size; 0 = max(512, prompt + steps + 1)
    std::string kv_type = "f32";    // llama.cpp KV cache type: "f32" or "f16"
    std::string flash_attn = "off"; // "off", "on" or "auto"
    bool stop_at_eos = false;
};

// Prefix of *why_unavailable when the reference is installed but the run itself failed (e.g.
// llama.cpp rejected the model): that is a finding, not a missing tool, so tests should usually
// fail on it rather than skip. See llama_reference_failed().
inline constexpr const char* kLlamaReferenceFailed = "llama.cpp reference run failed";

// True when `why` (from run_llama_reference) reports a failed run rather than a missing reference.
inline bool llama_reference_failed(const std::string& why) { return why.rfind(kLlamaReferenceFailed, 0) == 0; }

// ||ours - theirs|| / ||theirs||: how far a row of logits is from llama.cpp's.
template <class Ours>
double relative_l2(const Ours& ours, const std::vector<float>& theirs) {
    double num = 0, den = 0;
    for (size_t i = 0; i < theirs.size(); ++i) {
        num += (ours[i] - theirs[i]) * static_cast<double>(ours[i] - theirs[i]);
        den += theirs[i] * static_cast<double>(theirs[i]);
    }
    return std::sqrt(num / den);
}

namespace llama_reference_detail {

inline std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') q += "'\\''";
        else q += c;
    }
    return q + "'";
}

inline std::filesystem::path reference_dir() {
    if (const char* env = std::getenv("HEARTH_REFERENCE_DIR"); env && *env) return env;
    return std::filesystem::path(HEARTH_SOURCE_DIR) / "tests" / "reference";
}

// The node executable: $HEARTH_NODE, else the first `node` on PATH; empty when none.
inline std::string find_node() {
    if (const char* env = std::getenv("HEARTH_NODE"); env && *env)
        return std::filesystem::exists(env) ? std::string(env) : std::string();
    const char* path = std::getenv("PATH");
    if (!path) return {};
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
        size_t end = p.find(':', start);
        if (end == std::string::npos) end = p.size();
        std::filesystem::path dir = p.substr(start, end - start);
        if (dir.empty()) dir = ".";
        std::error_code ec;
        auto cand = dir / "node";
        if (std::filesystem::is_regular_file(cand, ec) && ::access(cand.c_str(), X_OK) == 0) return cand.string();
        start = end + 1;
    }
    return {};
}

}  // namespace llama_reference_detail

// Runs llama.cpp on `prompt` and decodes `steps` greedy tokens with `threads` CPU threads.
// Returns nullopt when the reference can't run, with the reason in *why_unavailable (when not
// null): node or node_modules missing ("llama.cpp reference unavailable: ..."), or the script
// failing ("llama.cpp reference run failed ...", with its stderr, e.g. llama.cpp refusing to
// load the model; see llama_reference_failed()).
inline std::optional<LlamaReference> run_llama_reference(const std::string& model,
                                                         const std::vector<int32_t>& prompt, int steps,
                                                         int threads, std::string* why_unavailable,
                                                         bool prompt_logits = false,
                                                         const LlamaReferenceOptions& options = {}) {
    namespace fs = std::filesystem;
    using namespace llama_reference_detail;
    auto unavailable = [&](const std::string& why) -> std::optional<LlamaReference> {
        if (why_unavailable) *why_unavailable = "llama.cpp reference unavailable: " + why;
        return std::nullopt;
    };

    const fs::path dir = reference_dir();
    const fs::path script = dir / "llama_ref.mjs";
    if (!fs::exists(script)) return unavailable("missing " + script.string());
    const std::string node = find_node();
    if (node.empty()) return unavailable("node not found on PATH (set HEARTH_NODE)");
    if (!fs::exists(dir / "node_modules" / "node-llama-cpp") || !fs::exists(dir / "node_modules" / "koffi"))
        return unavailable("no " + (dir / "node_modules").string() + " (run scripts/setup-reference.sh)");
    if (prompt.empty()) return unavailable("empty prompt");

    std::string ids;
    for (size_t i = 0; i < prompt.size(); ++i) ids += (i ? "," : "") + std::to_string(prompt[i]);

    // stderr goes to a temporary file so failures can be reported without mixing it into the JSON.
    const fs::path err_file = fs::temp_directory_path() /
                              ("hearth-llama-ref-" + std::to_string(::getpid()) + "-" +
                               std::to_string(reinterpret_cast<uintptr_t>(&ids)) + ".err");
    std::string cmd = shell_quote(node) + " " + shell_quote(script.string()) + " --model " + shell_quote(model) +
                      " --tokens " + ids + " --steps " + std::to_string(steps) + " --threads " +
                      std::to_string(threads) + " --logits-at-each-step " +
                      std::to_string(options.logits_steps < 1 ? 1 : options.logits_steps) + " --kv-type " +
                      shell_quote(options.kv_type) + " --flash-attn " + shell_quote(options.flash_attn);
    if (options.ctx > 0) cmd += " --ctx " + std::to_string(options.ctx);
    if (prompt_logits) cmd += " --prompt-logits";
    if (options.stop_at_eos) cmd += " --stop-at-eos";
    cmd += " 2>" + shell_quote(err_file.string());

    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return unavailable("popen failed for: " + cmd);
    std::array<char, 1 << 16> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    const int status = ::pclose(p);

    std::string err;
    if (FILE* e = std::fopen(err_file.c_str(), "r")) {
        while ((n = std::fread(buf.data(), 1, buf.size(), e)) > 0) err.append(buf.data(), n);
        std::fclose(e);
    }
    std::error_code ec;
    fs::remove(err_file, ec);

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (err.size() > 4000) err = err.substr(err.size() - 4000);
        if (why_unavailable)
            *why_unavailable = std::string(kLlamaReferenceFailed) + " (llama_ref.mjs status " +
                               std::to_string(status) + "): " + err;
        return std::nullopt;
    }

    LlamaReference ref;
    try {
        const auto j = nlohmann::json::parse(out);
        ref.n_vocab = j.at("n_vocab").get<int>();
        ref.tokens = j.at("tokens").get<std::vector<int32_t>>();
        ref.logits = j.at("logits").get<std::vector<std::vector<float>>>();
    } catch (const std::exception& e) {
        if (why_unavailable)
            *why_unavailable = std::string(kLlamaReferenceFailed) + ": could not parse llama_ref.mjs output: " + e.what();
        return std::nullopt;
    }
    return ref;
}

}  // namespace hearth::test
