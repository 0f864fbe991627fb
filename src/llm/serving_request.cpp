#include "llm/serving_request.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace hearth::llm {

float token_logprob(std::span<const float> logits, int32_t token, int top_n, const tokenizer::Tokenizer& tok,
                    std::vector<TokenLogprob>* top) {
    float max_logit = -std::numeric_limits<float>::infinity();
    for (float l : logits) max_logit = std::max(max_logit, l);
    double sum = 0;
    for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
    const double log_z = max_logit + std::log(sum);
    auto logprob = [&](int32_t id) {
        return static_cast<float>(static_cast<double>(logits[static_cast<size_t>(id)]) - log_z);
    };
    if (top && top_n > 0) {
        // The top_n largest by insertion into a short sorted list (top_n <= 20).
        std::vector<std::pair<float, int32_t>> best;
        best.reserve(static_cast<size_t>(top_n) + 1);
        auto better = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
            return a.first > b.first || (a.first == b.first && a.second < b.second);
        };
        for (size_t i = 0; i < logits.size(); ++i) {
            const std::pair<float, int32_t> c{logits[i], static_cast<int32_t>(i)};
            if (best.size() == static_cast<size_t>(top_n) && !better(c, best.back())) continue;
            best.insert(std::upper_bound(best.begin(), best.end(), c, better), c);
            if (best.size() > static_cast<size_t>(top_n)) best.pop_back();
        }
        top->clear();
        for (const auto& [l, id] : best) top->push_back({id, tok.token_to_piece(id, /*special=*/true), logprob(id)});
    }
    return logprob(token);
}

RunningRequest::RunningRequest(QueuedRequest queued, const tokenizer::Tokenizer& tok, int n_cached,
                               ServingClock::time_point admitted)
    : tok_(&tok),
      id_(queued.id),
      request_(std::move(queued.request)),
      submitted_(queued.submitted),
      sampler_(request_.options.sampling),
      stream_(tok, request_.options),
      history_(request_.prompt) {
    n_prompt_done = static_cast<size_t>(n_cached);
    result_.n_prompt = static_cast<int>(request_.prompt.size());
    result_.n_cached = n_cached;
    result_.queue_seconds = std::chrono::duration<double>(admitted - submitted_).count();
}

bool RunningRequest::emit(TokenEvent& event) {
    result_.text += event.text;
    if (!request_.on_token) return true;
    try {
        return request_.on_token(event);
    } catch (...) {
        return false;  // a throwing client is treated as gone
    }
}

void RunningRequest::finish_releasing(FinishReason reason, std::string rest) {
    if (!rest.empty()) {
        TokenEvent event;
        event.token = -1;
        event.release_only = true;
        event.text = std::move(rest);
        emit(event);
    }
    finish(reason);
}

bool RunningRequest::step(std::span<const float> logits, int64_t next_pos, int64_t n_ctx) {
    if (finished_) return true;
    TokenConstraint* constraint = request_.constraint.get();
    if (stream_.exhausted() || (constraint && constraint->complete())) {
        FinishReason reason = stream_.exhausted() ? FinishReason::Length : FinishReason::Stop;
        std::string rest = stream_.finish(reason);
        finish_releasing(reason, std::move(rest));
        return true;
    }
    std::span<const float> sample_from = logits;
    if (constraint) {
        work_.assign(logits.begin(), logits.end());
        // The tokens this request may still produce: max_tokens, and the context's end
        // (the sampled token goes at next_pos; the last one needs no room after it).
        int64_t left = n_ctx - next_pos + 1;
        if (request_.options.max_tokens >= 0) left = std::min<int64_t>(left, request_.options.max_tokens - stream_.n_tokens());
        constraint->apply(work_, left);
        if (std::none_of(work_.begin(), work_.end(), [](float l) { return l > -std::numeric_limits<float>::infinity(); })) {
            finish(FinishReason::Error, "the token constraint allows no token");
            return true;
        }
        sample_from = work_;
    }
    const int32_t id = sampler_.sample(sample_from, history_);
    if (first_token_) {
        first_token_ = false;
        result_.ttft_seconds = std::chrono::duration<double>(ServingClock::now() - submitted_).count();
    }
    const bool kept = !(request_.options.stop_at_eog && tok_->is_eog(id));
    if (kept && constraint) constraint->accept(id);
    auto step = stream_.push(id, next_pos < n_ctx, kept && constraint && constraint->complete());
    if (!step.kept) {  // end of generation: only the text still held back goes out
        finish_releasing(*step.finish, std::move(step.text));
        return true;
    }
    result_.tokens.push_back(id);
    history_.push_back(id);

    TokenEvent event;
    event.token = id;
    if (request_.logprobs || request_.top_logprobs > 0)
        event.logprob = token_logprob(logits, id, request_.top_logprobs, *tok_, &event.top);
    event.text = std::move(step.text);
    const bool client_alive = emit(event);
    if (step.finish) {
        finish(*step.finish);
        return true;
    }
    if (!client_alive) {
        finish(FinishReason::Cancelled, "the client cancelled the request");
        return true;
    }
    has_pending_ = true;
    pending_ = id;
    return false;
}

void RunningRequest::finish(FinishReason reason, std::string error) {
    if (finished_) return;
    finished_ = true;
    has_pending_ = false;
    result_.finish = reason;
    result_.error = std::move(error);
}

void RunningRequest::report_done() {
    if (done_reported_) return;
    done_reported_ = true;
    result_.total_seconds = std::chrono::duration<double>(ServingClock::now() - submitted_).count();
    if (!request_.on_done) return;
    try {
        request_.on_done(result_);
    } catch (...) {
        // The engine thread must survive a throwing callback; the request is over anyway.
    }
}

}  // namespace hearth::llm
