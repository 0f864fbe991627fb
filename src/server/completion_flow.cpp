#include "server/completion_flow.h"

#include "net/request.h"
#include "server/net.h"

namespace hearth::server {

asio::awaitable<std::optional<Prologue>> begin_completion_request(
    ServerContext& ctx, HttpConnection& conn, const HttpRequest& req, RequestRecord& rec, Endpoint endpoint,
    const std::function<std::optional<ApiError>(const ojson& body)>& validate) {
    Prologue pr;
    pr.t_start = std::chrono::steady_clock::now();
    pr.record = &rec;
    auto parsed = net::parse_json_body(req.body());
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        co_await send_error(conn, *e);
        co_return std::nullopt;
    }
    pr.body = std::move(std::get<ojson>(parsed));
    std::optional<ApiError> invalid = parse_common_params(pr.body, endpoint, pr.params);
    rec.model = pr.params.model;  // also when invalid: the log says what was asked for
    if (!invalid) invalid = validate(pr.body);
    if (invalid) {
        co_await send_error(conn, *invalid);
        co_return std::nullopt;
    }
    auto acquired = co_await acquire_model(ctx, pr.params.model);
    if (auto* e = std::get_if<ApiError>(&acquired)) {
        co_await send_error(conn, *e);
        co_return std::nullopt;
    }
    pr.model = std::get<std::shared_ptr<LoadedModel>>(std::move(acquired));
    if (auto e = parse_logit_bias(pr.body, *pr.model->tokenizer, pr.params)) {
        co_await send_error(conn, *e);
        co_return std::nullopt;
    }
    co_return std::optional<Prologue>(std::move(pr));
}

asio::awaitable<void> send_failure(HttpConnection& conn, bool streaming, const ApiError& e) {
    if (!streaming) {
        co_await send_error(conn, e);
        co_return;
    }
    const std::string event = sse_event(e.to_json());
    if (co_await conn.write_chunk(event)) co_await conn.end_stream();
}

asio::awaitable<std::optional<GenerationRun>> GenerationRun::start(ServerContext& ctx, HttpConnection& conn,
                                                                   const Prologue& prologue,
                                                                   llm::CompletionRequest request,
                                                                   const char* prompt_param) {
    const auto& p = prologue.params;
    const auto n_prompt = static_cast<int64_t>(request.prompt.size());
    request.options = p.gen;
    request.logprobs = p.logprobs;
    request.top_logprobs = p.top_logprobs;
    auto started = Generation::start(prologue.model, std::move(request), co_await asio::this_coro::executor, ctx.gate);
    if (auto* e = std::get_if<ApiError>(&started)) {
        ApiError err = *e;
        if (err.param == "messages") err.param = prompt_param;
        co_await send_error(conn, err);
        co_return std::nullopt;
    }
    RequestRecord* rec = prologue.record;
    rec->prompt_tokens = n_prompt;  // until the result says how many were evaluated
    rec->completion_tokens = 0;
    co_return std::optional<GenerationRun>(GenerationRun(ctx, std::get<std::shared_ptr<Generation>>(std::move(started)),
                                                         request_deadline(ctx, prologue.t_start), rec));
}

GenerationRun::~GenerationRun() {
    if (gen_ && !finished_) gen_->cancel();
}

void GenerationRun::cancel() { gen_->cancel(); }

asio::awaitable<std::optional<Generation::Batch>> GenerationRun::next(HttpConnection& conn, bool streaming) {
    auto batch = co_await gen_->next(conn, deadline_);
    if (batch.end == Generation::Batch::End::ClientGone) co_return std::nullopt;
    if (batch.end == Generation::Batch::End::Timeout) {
        co_await send_failure(conn, streaming, server_error(504, "The request timed out", "timeout"));
        co_return std::nullopt;
    }
    uint64_t n_tokens = 0;
    for (const auto& ev : batch.tokens) n_tokens += ev.release_only ? 0 : 1;
    ctx_->metrics->count_tokens(n_tokens);
    if (n_tokens > 0 && record_->ttft_seconds < 0) {
        record_->ttft_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - record_->start).count();
    }
    record_->completion_tokens += static_cast<int64_t>(n_tokens);
    if (batch.result) finished_ = true;
    co_return std::optional<Generation::Batch>(std::move(batch));
}

asio::awaitable<bool> GenerationRun::accept_result(HttpConnection& conn, bool streaming,
                                                   const llm::CompletionResult& r) {
    ctx_->metrics->count_generation(static_cast<uint64_t>(r.n_prompt), r.tokens.size(),
                                    r.tokens.empty() ? -1.0 : r.ttft_seconds);
    record_->prompt_tokens = r.n_prompt;
    record_->completion_tokens = static_cast<int64_t>(r.tokens.size());
    if (r.finish != llm::FinishReason::Error && r.finish != llm::FinishReason::Cancelled) co_return true;
    const ApiError e = r.finish == llm::FinishReason::Error
                           ? server_error(500, "generation failed: " + r.error, "generation_failed")
                           : server_error(503, "The request was cancelled: " + r.error, "cancelled");
    co_await send_failure(conn, streaming, e);
    co_return false;
}

ojson ResponseHead::envelope(const std::string& object, ojson choices) const {
    return {{"id", id},
            {"object", object},
            {"created", created},
            {"model", model},
            {"system_fingerprint", "hearth"},
            {"choices", std::move(choices)}};
}

std::string ResponseHead::chunk(ojson choice) const {
    ojson c = envelope(chunk_object, ojson::array({std::move(choice)}));
    if (include_usage) c["usage"] = nullptr;
    return sse_event(c);
}

ojson usage_json(const llm::CompletionResult& r, bool with_cached_tokens) {
    ojson u = {{"prompt_tokens", r.n_prompt},
               {"completion_tokens", r.tokens.size()},
               {"total_tokens", r.n_prompt + static_cast<int>(r.tokens.size())}};
    if (with_cached_tokens) u["prompt_tokens_details"] = {{"cached_tokens", r.n_cached}};
    return u;
}

asio::awaitable<void> finish_stream(HttpConnection& conn, const ResponseHead& head, ojson finish_choice,
                                    const ojson& usage) {
    std::string tail = head.chunk(std::move(finish_choice));
    if (head.include_usage) {
        ojson u = head.envelope(head.chunk_object, ojson::array());
        u["usage"] = usage;
        tail += sse_event(u);
    }
    tail += sse_done();
    if (co_await conn.write_chunk(tail)) co_await conn.end_stream();
}

}  // namespace hearth::server
