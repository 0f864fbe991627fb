#include "llm/generate.h"

#include <algorithm>
#include <chrono>

namespace hearth::llm {

std::string StopMatcher::push(std::string_view text) {
    if (stopped_) return {};
    held_.append(text);
    size_t first = std::string::npos;
    for (const auto& s : stops_) {
        if (s.empty()) continue;
        first = std::min(first, held_.find(s));
    }
    if (first != std::string::npos) {
        stopped_ = true;
        std::string out = held_.substr(0, first);
        held_.clear();
        return out;
    }
    // Keep the longest suffix that is a proper prefix of some stop string.
    size_t keep = 0;
    for (const auto& s : stops_) {
        for (size_t len = std::min(s.size() - (s.empty() ? 0 : 1), held_.size()); len > keep; --len) {
            if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
                keep = len;
                break;
            }
        }
    }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
}

std::string StopMatcher::flush() {
    std::string out;
    if (!stopped_) out.swap(held_);
    return out;
}

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
    tokenizer::StreamingDetokenizer detok(tok, /*special=*/false, /*at_start=*/false);
    StopMatcher stops(options.stop);
    std::vector<int32_t> history = prompt;
    auto emit = [&](const std::string& text) {
        if (text.empty()) return;
        result.text += text;
        if (on_text) on_text(text);
    };
    int64_t pos = static_cast<int64_t>(prompt.size());
    result.finish_reason = "length";
    for (int n = 0; options.max_tokens < 0 || n < options.max_tokens; ++n) {
        const int32_t id = sampler.sample(ctx.logits(0), history);
        if (options.stop_at_eog && tok.is_eog(id)) {
            result.finish_reason = "stop";
            break;
        }
        result.tokens.push_back(id);
        history.push_back(id);
        emit(stops.push(detok.push(id)));
        if (stops.stopped()) {
            result.finish_reason = "stop";
            break;
        }
        if (pos >= ctx.n_ctx()) break;  // context full: "length"
        if (options.max_tokens >= 0 && n + 1 >= options.max_tokens) break;
        batch.clear();
        batch.add(id, static_cast<int32_t>(pos), seq, true);
        if (auto ok = ctx.decode(batch); !ok) return ok.error();
        ++pos;
    }
    if (!stops.stopped()) emit(stops.push(detok.flush()) + stops.flush());
    result.generate_seconds = std::chrono::duration<double>(clock::now() - t1).count();
    return result;
}

}  // namespace hearth::llm
