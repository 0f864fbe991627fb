// `hearth run MODEL.gguf -p PROMPT`: generates text, streaming it to stdout; timings
// go to stderr so stdout is exactly the generated text.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_options.h"
#include "llm/generate.h"

namespace hearth::cli {

void add_run_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
    struct Args {
        std::string model, prompt;
        EngineOptions engine;
        llm::GenerateOptions gen;
        bool special = false, no_bos = false, echo = false;
    };
    auto a = std::make_shared<Args>();
    a->gen.max_tokens = 128;
    cmd->add_option("model", a->model, "GGUF model file")->required();
    cmd->add_option("-p,--prompt", a->prompt, "prompt text")->required();
    cmd->add_option("-n,--n-predict", a->gen.max_tokens, "tokens to generate (-1: until the context is full)")
        ->capture_default_str();
    add_engine_options(*cmd, a->engine);
    add_sampling_options(*cmd, a->gen.sampling);
    cmd->add_option("--stop", a->gen.stop, "stop string (repeatable)");
    cmd->add_flag("--ignore-eos", [a](int64_t) { a->gen.stop_at_eog = false; }, "keep generating after end-of-text tokens");
    cmd->add_flag("--special", a->special, "parse special tokens written in the prompt");
    cmd->add_flag("--no-bos", a->no_bos, "do not add the BOS token");
    cmd->add_flag("--echo", a->echo, "print the prompt before the generated text");
    cmd->callback([a] {
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        auto engine = load_engine(a->model, a->engine);
        if (!engine) return fail(engine.error().message);
        const double load_s = std::chrono::duration<double>(clock::now() - t0).count();
        auto& e = *engine;
        std::vector<int32_t> prompt = e.tokenizer.encode(a->prompt, !a->no_bos, a->special);
        if (a->echo) std::fputs(a->prompt.c_str(), stdout);
        auto result = llm::generate(*e.context, e.tokenizer, prompt, a->gen, [](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        });
        std::fputc('\n', stdout);
        if (!result) return fail(result.error().message);
        const auto& r = *result;
        std::fprintf(stderr, "\nload: %.2f s (%s, %s)\n", load_s, e.context->backend().name().c_str(),
                     std::to_string(e.context->backend().n_threads()).append(" threads").c_str());
        std::fprintf(stderr, "prompt: %d tokens in %.3f s, %.2f tok/s\n", r.n_prompt, r.prompt_seconds,
                     r.prompt_seconds > 0 ? r.n_prompt / r.prompt_seconds : 0.0);
        const size_t n = r.tokens.size();
        std::fprintf(stderr, "generation: %zu tokens in %.3f s, %.2f tok/s (finish: %s)\n", n, r.generate_seconds,
                     r.generate_seconds > 0 && n > 0 ? static_cast<double>(n) / r.generate_seconds : 0.0,
                     llm::finish_reason_name(r.finish));
    });
}

}  // namespace hearth::cli
