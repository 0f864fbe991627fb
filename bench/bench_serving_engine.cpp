// Serving-engine throughput: K clients each generate N tokens at once through one
// ServingEngine (n_parallel = K); prints aggregate generated tok/s, TTFT p50/p95 and
// the gain over K = 1 (what continuous batching buys on this machine).
//
//   bench_serving_engine MODEL.gguf [n_tokens=64] [threads=2] [prompt_tokens=32] [clients=1,4,8,16] [repeats=1]
// With repeats > 1 each K runs that many times and the fastest run is shown (the
// machine may be shared: the best run is the least disturbed one).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "llm/model.h"
#include "llm/serving_engine.h"
#include "tokenizer/tokenizer.h"

using namespace hearth;

namespace {

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct RunResult {
    double seconds = 0;
    uint64_t generated = 0;
    std::vector<double> ttft;
    uint64_t passes = 0;
    double busy_seconds = 0;
};

RunResult run(const std::shared_ptr<const llm::Model>& model, const std::shared_ptr<const tokenizer::Tokenizer>& tok,
              int clients, int n_tokens, int threads, int prompt_tokens) {
    llm::ServingOptions o;
    o.n_parallel = clients;
    o.n_threads = threads;
    o.n_ctx_per_seq = prompt_tokens + n_tokens + 8;
    auto engine = llm::ServingEngine::create(model, tok, o);
    if (!engine) {
        std::fprintf(stderr, "engine: %s\n", engine.error().message.c_str());
        std::exit(1);
    }
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    RunResult r;
    const int64_t n_vocab = std::min<int64_t>(model->hparams().n_vocab, static_cast<int64_t>(tok->n_vocab()));
    const auto t0 = std::chrono::steady_clock::now();
    for (int c = 0; c < clients; ++c) {
        llm::CompletionRequest req;
        for (int i = 0; i < prompt_tokens; ++i)  // distinct prompts: no prefix sharing between clients
            req.prompt.push_back(static_cast<int32_t>(10 + (c * 7919 + i * 104729) % std::max<int64_t>(1, n_vocab - 10)));
        req.options.max_tokens = n_tokens;
        req.options.stop_at_eog = false;
        req.options.sampling.temperature = 0;
        req.on_done = [&](const llm::CompletionResult& res) {
            std::lock_guard lock(mu);
            r.generated += res.tokens.size();
            r.ttft.push_back(res.ttft_seconds);
            if (res.finish == llm::FinishReason::Error) std::fprintf(stderr, "error: %s\n", res.error.c_str());
            ++done;
            cv.notify_all();
        };
        auto s = (*engine)->submit(std::move(req));
        if (std::holds_alternative<llm::SubmitFailure>(s)) {
            std::fprintf(stderr, "submit: %s\n", std::get<llm::SubmitFailure>(s).message.c_str());
            std::exit(1);
        }
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == clients; });
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.passes = (*engine)->stats().forward_passes;
    r.busy_seconds = (*engine)->stats().busy_seconds;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: %s MODEL.gguf [n_tokens=64] [threads=2] [prompt_tokens=32] [clients=1,4,8,16] [repeats=1]\n",
                     argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    const int n_tokens = argc > 2 ? std::atoi(argv[2]) : 64;
    const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
    const int prompt_tokens = argc > 4 ? std::atoi(argv[4]) : 32;
    const int repeats = argc > 6 ? std::max(1, std::atoi(argv[6])) : 1;
    std::vector<int> clients;
    {
        std::stringstream ss(argc > 5 ? argv[5] : "1,4,8,16");
        for (std::string item; std::getline(ss, item, ',');) clients.push_back(std::max(1, std::atoi(item.c_str())));
    }
    auto model = llm::Model::load(path);
    if (!model) {
        std::fprintf(stderr, "model: %s\n", model.error().message.c_str());
        return 1;
    }
    auto tok = tokenizer::Tokenizer::from_gguf_file(path);
    if (!tok) {
        std::fprintf(stderr, "tokenizer: %s\n", tok.error().message.c_str());
        return 1;
    }
    auto tokenizer = std::make_shared<const tokenizer::Tokenizer>(std::move(tok).value());
    std::printf("model %s: %d generated tokens per client, %d-token prompts, %d threads\n", path.c_str(), n_tokens,
                prompt_tokens, threads);
    run(*model, tokenizer, 1, 4, threads, prompt_tokens);  // warm-up: page in the weights
    // decode tok/s: tokens after each client's first, over the time after the last first token.
    std::printf("%8s %10s %11s %10s %10s %8s %8s %8s\n", "clients", "gen tok/s", "decode tok/s", "TTFT p50", "TTFT p95",
                "passes", "ms/pass", "gain");
    double base = 0;
    for (int k : clients) {
        RunResult r;
        double tps = 0;
        for (int rep = 0; rep < repeats; ++rep) {
            RunResult x = run(*model, tokenizer, k, n_tokens, threads, prompt_tokens);
            const double x_tps = static_cast<double>(x.generated) / x.seconds;
            if (x_tps > tps) {
                tps = x_tps;
                r = std::move(x);
            }
        }
        if (base == 0) base = tps;
        const double last_first = percentile(r.ttft, 1.0);
        const double decode_tps = static_cast<double>(r.generated - static_cast<uint64_t>(k)) /
                                  std::max(1e-9, r.seconds - last_first);
        std::printf("%8d %10.1f %11.1f %8.1fms %8.1fms %8llu %8.1f %7.2fx\n", k, tps, decode_tps,
                    1e3 * percentile(r.ttft, 0.5), 1e3 * percentile(r.ttft, 0.95), static_cast<unsigned long long>(r.passes),
                    1e3 * r.busy_seconds / static_cast<double>(std::max<uint64_t>(1, r.passes)), tps / base);
        std::fflush(stdout);
    }
    return 0;
}
