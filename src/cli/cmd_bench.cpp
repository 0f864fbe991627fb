// `hearth bench MODEL.gguf`: prompt processing (pp) and generation (tg) throughput,
// like llama-bench (including -d, a context depth to run the tests at), plus the
// memory bandwidth generation achieves: the bytes a token reads (weights and the
// keys and values before it) per second, against a plain read of a large buffer in the
// memory the model computes from (main memory, or a GPU's) measured right before each
// timed run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_options.h"
#include "kernels/backend.h"
#include "llm/context.h"
#include "llm/model.h"

namespace hearth::cli {
namespace {

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (!item.empty()) out.push_back(std::stoi(item));
    }
    return out;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;  // an even count: not the upper one
}

// Fills positions [0, depth) of sequence 0, in batches the context takes: the
// history that the timed tests below run after (like llama-bench -d).
Result<void> fill_depth(llm::InferenceContext& ctx, int depth, int n_batch, int32_t n_vocab) {
    llm::Batch b;
    for (int start = 0; start < depth; start += n_batch) {
        b.clear();
        for (int i = start; i < std::min(depth, start + n_batch); ++i) b.add((i * 6151 + 11) % n_vocab, i, 0, false);
        if (auto ok = ctx.decode(b); !ok) return ok.error();
    }
    return {};
}

// Seconds to evaluate n_prompt tokens in one batch at positions depth...
Result<double> time_prompt(llm::InferenceContext& ctx, int n_prompt, int depth, int32_t n_vocab) {
    llm::Batch b;
    for (int i = 0; i < n_prompt; ++i) b.add((i * 7919 + 13) % n_vocab, depth + i, 0, i + 1 == n_prompt);
    const auto t0 = std::chrono::steady_clock::now();
    if (auto ok = ctx.decode(b); !ok) return ok.error();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Seconds to generate n_gen tokens one at a time at positions depth...
Result<double> time_generation(llm::InferenceContext& ctx, int n_gen, int depth, int32_t n_vocab) {
    llm::Batch b;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n_gen; ++i) {
        b.clear();
        b.add((i * 104729 + 7) % n_vocab, depth + i, 0, true);
        if (auto ok = ctx.decode(b); !ok) return ok.error();
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The ceiling for one timed generation run: the backend's read bandwidth measured now, in
// GB/s; 0 once it could not be measured (said once on stderr: the runs are still timed).
double measure_ceiling(kernels::Backend& backend, bool& enabled) {
    if (!enabled) return 0;
    auto gbs = backend.measure_read_bandwidth();
    if (gbs) return *gbs;
    std::fprintf(stderr, "note: read bandwidth not measured: %s\n", gbs.error().message.c_str());
    enabled = false;
    return 0;
}

// Bytes one generated token reads on average: the weights, and every layer's keys and
// values of the positions before it (the context's cache type).
double generation_bytes_per_token(const llm::Model& m, kernels::KvType kv_type, int n_gen, int depth) {
    const auto& h = m.hparams();
    const double mean_keys = depth + (n_gen + 1) / 2.0;
    return static_cast<double>(m.decode_weight_bytes()) +
           kernels::KvCacheShape::bytes_per_position(h.n_layer, h.n_head_kv, h.head_dim, kv_type) * mean_keys;
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("bench", "Measure prompt processing and generation speed");
    struct Args {
        std::string model, threads = "1,0";
        int n_prompt = 512, n_gen = 128, reps = 3, depth = 0;
        bool json = false, no_bandwidth = false, mmap = false;
        std::string device = "auto";
        int gpu_layers = -1;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("model", a->model, "GGUF model file")->required();
    cmd->add_option("-p,--n-prompt", a->n_prompt, "prompt tokens (pp test; 0: skip)")->capture_default_str();
    cmd->add_option("-n,--n-gen", a->n_gen, "generated tokens (tg test; 0: skip)")->capture_default_str();
    cmd->add_option("-d,--depth", a->depth, "tokens already in the context when each test runs")
        ->capture_default_str()
        ->check(CLI::Range(0, 1 << 20));
    cmd->add_option("-t,--threads", a->threads, "comma-separated thread counts (0: all cores)")->capture_default_str();
    cmd->add_option("-r,--repetitions", a->reps, "repetitions (the median is reported)")->capture_default_str();
    cmd->add_flag("--json", a->json, "print JSON");
    cmd->add_flag("--no-bandwidth", a->no_bandwidth, "skip the memory bandwidth measurement");
    add_mmap_flag(*cmd, a->mmap);
    add_device_options(*cmd, a->device, a->gpu_layers);
    cmd->callback([a] {
        if (!a->json) print_devices();
        auto model = load_model_logged(a->model, a->device,
                                       {.mmap = a->mmap,
                                        .gpu_layers = a->gpu_layers,
                                        .kv_ctx = a->depth + std::max(a->n_prompt, a->n_gen) + 16});
        if (!model) return fail(model.error().message);
        const auto& hp = (*model)->hparams();
        const auto n_vocab = static_cast<int32_t>(hp.n_vocab);
        nlohmann::ordered_json rows = nlohmann::ordered_json::array();
        if (!a->json) {
            std::printf("model: %s (%s, %.2f GiB weights, %lld layers, dim %lld)\n", a->model.c_str(),
                        hp.architecture.c_str(), static_cast<double>((*model)->weight_bytes()) / (1u << 30),
                        static_cast<long long>(hp.n_layer), static_cast<long long>(hp.n_embd));
            std::printf("| threads | test          |     t/s | GB/s (tg) | of bandwidth |\n");
            std::printf("|--------:|:--------------|--------:|----------:|-------------:|\n");
        }
        for (int threads : parse_list(a->threads)) {
            llm::ContextOptions co;
            co.n_threads = threads;
            co.n_ctx = a->depth + std::max(a->n_prompt, a->n_gen) + 16;
            co.n_batch = std::max({a->n_prompt, std::min(a->depth, 512), 1});  // -p 0 -d N: still fill N in batches
            auto ctx = llm::InferenceContext::create(*model, co);
            if (!ctx) return fail(ctx.error().message);
            // Once: the timed tests only write positions from depth on.
            if (auto ok = fill_depth(**ctx, a->depth, static_cast<int>(co.n_batch), n_vocab); !ok)
                return fail(ok.error().message);
            const int used = (*ctx)->backend().n_threads();
            // The ceiling for generation is measured right before each timed run, and each
            // run is set against its own: on a shared host the bandwidth (and the share of
            // the CPU the host leaves us) drifts within seconds, so a ceiling measured once
            // bounds runs made under other conditions. The fraction reported is the median
            // of the runs' fractions. The backend measures where it computes: main memory
            // with its own threads on the CPU, device memory on a GPU.
            bool measure_bandwidth = !a->no_bandwidth && a->n_gen > 0;
            double bandwidth = 0;
            struct Test {
                const char* name;
                int n;
                bool prompt;
            };
            for (const Test& t : {Test{"pp", a->n_prompt, true}, Test{"tg", a->n_gen, false}}) {
                if (t.n <= 0) continue;
                const double bytes_per_token =
                    t.prompt ? 0 : generation_bytes_per_token(**model, co.kv_type, t.n, a->depth);
                std::vector<double> times, bandwidths, fractions;
                // One warm-up run (page faults of the mapping, caches), then the measured ones.
                for (int r = 0; r <= a->reps; ++r) {
                    const double ceiling = t.prompt ? 0 : measure_ceiling((*ctx)->backend(), measure_bandwidth);
                    auto s = t.prompt ? time_prompt(**ctx, t.n, a->depth, n_vocab)
                                      : time_generation(**ctx, t.n, a->depth, n_vocab);
                    if (!s) return fail(s.error().message);
                    if (r == 0) continue;
                    times.push_back(*s);
                    if (ceiling > 0) {
                        bandwidths.push_back(ceiling);
                        fractions.push_back(t.n / *s * bytes_per_token / 1e9 / ceiling);
                    }
                }
                const double tps = t.n / median(times);
                const double gbs = tps * bytes_per_token / 1e9;
                const double fraction = median(fractions);
                if (!t.prompt) bandwidth = median(bandwidths);
                std::string test = std::string(t.name) + std::to_string(t.n);
                if (a->depth > 0) test += fmt::format(" @ d{}", a->depth);
                nlohmann::ordered_json row = {{"threads", used}, {"test", test}, {"depth", a->depth},
                                              {"tokens_per_second", tps}, {"gb_per_second", gbs}};
                if (!t.prompt) {
                    row["memory_bandwidth_gb_per_second"] = bandwidth;
                    row["bandwidth_fraction"] = fraction;
                }
                rows.push_back(row);
                if (!a->json) {
                    if (t.prompt) std::printf("| %7d | %-13s | %7.2f |           |              |\n", used, test.c_str(), tps);
                    else if (fraction > 0)
                        std::printf("| %7d | %-13s | %7.2f | %9.2f | %11.0f%% |\n", used, test.c_str(), tps, gbs,
                                    100.0 * fraction);
                    else std::printf("| %7d | %-13s | %7.2f | %9.2f |              |\n", used, test.c_str(), tps, gbs);
                }
            }
            if (!a->json && bandwidth > 0) {
                const bool on_cpu = (*model)->device()->info().kind == "cpu";
                const std::string whose = on_cpu ? fmt::format("with {} threads", used) : "of " + (*ctx)->backend().name();
                std::printf("(read bandwidth %s, median of the measurements next to each run: %.1f GB/s)\n", whose.c_str(),
                            bandwidth);
            }
        }
        if (a->json) {
            nlohmann::ordered_json j = {{"model", a->model},
                                        {"device", (*model)->device()->info().name},
                                        {"weight_bytes", (*model)->weight_bytes()},
                                        {"results", rows}};
            std::printf("%s\n", j.dump(2).c_str());
        }
    });
}

}  // namespace hearth::cli
