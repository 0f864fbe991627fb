#include "llm/token_stream.h"

namespace hearth::llm {

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::Stop: return "stop";
        case FinishReason::Length: return "length";
        case FinishReason::Cancelled: return "cancelled";
        case FinishReason::Error: return "error";
    }
    return "error";
}

TokenStream::TokenStream(const tokenizer::Tokenizer& tok, const TokenStreamOptions& options)
    : tok_(&tok),
      options_(options),
      detok_(tok, /*special=*/false, /*at_start=*/false),
      stops_(options_.stop) {}

bool TokenStream::exhausted() const { return options_.max_tokens >= 0 && n_tokens_ >= options_.max_tokens; }

std::string TokenStream::finish(FinishReason& reason) {
    if (stops_.stopped()) return {};
    std::string rest = stops_.push(detok_.flush());
    rest += stops_.flush();
    if (stops_.stopped()) reason = FinishReason::Stop;
    return rest;
}

TokenStream::Step TokenStream::push(int32_t id, bool room, bool complete) {
    Step step;
    if (options_.stop_at_eog && tok_->is_eog(id)) {
        FinishReason reason = FinishReason::Stop;
        step.text = finish(reason);
        step.finish = reason;
        return step;
    }
    step.kept = true;
    ++n_tokens_;
    step.text = stops_.push(detok_.push(id));
    if (stops_.stopped() || complete) step.finish = FinishReason::Stop;
    else if (!room || exhausted()) step.finish = FinishReason::Length;
    if (step.finish && !stops_.stopped()) {
        FinishReason reason = *step.finish;
        step.text += finish(reason);
        step.finish = reason;
    }
    return step;
}

}  // namespace hearth::llm
