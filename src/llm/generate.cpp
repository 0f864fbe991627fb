#include "llm/generate.h"

#include <chrono>

namespace hearth::llm {

Result<GenerateResult> generate(InferenceContext& ctx, const tokenizer::Tokenizer& tok,
                                const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                const TextCallback& on_text, int seq) {
    using clock = std::chrono::steady_clock;
    if (prompt.empty()) return make_error("the prompt is empty (no tokens)");
    if (static_cast<int64_t>(prompt.size()) >= ctx.n_ctx())
        return make_error("the prompt has " + std::to_string(prompt.size()) + " tokens, which does not fit the context of " +
                          std::to_string(ctx.n_ctx()) + " tokens");
    GenerateResult result;
    result.n_prompt = static_cast<int>(prompt.size());
    Batch batch;
    for (size_t i = 0; i < prompt.size(); ++i)
        batch.add(prompt[i], static_cast<int32_t>(i), seq, i + 1 == prompt.size());
    const auto t0 = clock::now();
    if (auto ok = ctx.decode(batch); !ok) return ok.error();
    const auto t1 = clock::now();
    result.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

    Sampler sampler(options.sampling);
    TokenStream stream(tok, options);
    std::vector<int32_t> history = prompt;
    auto emit = [&](const std::string& text) {
        if (text.empty()) return;
        result.text += text;
        if (on_text) on_text(text);
    };
    int64_t pos = static_cast<int64_t>(prompt.size());
    FinishReason finish = FinishReason::Length;  // also for max_tokens 0
    while (!stream.exhausted()) {
        const int32_t id = sampler.sample(ctx.logits(0), history);
        const auto step = stream.push(id, pos < ctx.n_ctx());
        if (step.kept) {
            result.tokens.push_back(id);
            history.push_back(id);
        }
        emit(step.text);
        if (step.finish) {
            finish = *step.finish;
            break;
        }
        batch.clear();
        batch.add(id, static_cast<int32_t>(pos), seq, true);
        if (auto ok = ctx.decode(batch); !ok) return ok.error();
        ++pos;
    }
    result.finish = finish;
    result.generate_seconds = std::chrono::duration<double>(clock::now() - t1).count();
    return result;
}

}  // namespace hearth::llm
