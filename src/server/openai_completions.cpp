// POST /v1/completions: raw prompt (text or token ids) -> text_completion, whole or streamed.
#include <chrono>

#include <fmt/format.h>

#include "server/generation.h"
#include "server/openai_params.h"
#include "server/server_context.h"
#include "server/sse.h"

namespace hearth::server {
namespace {

bool is_token_array(const ojson& j) {
    if (!j.is_array() || j.empty()) return false;
    for (const auto& x : j) {
        if (!x.is_number_integer()) return false;
    }
    return true;
}

// prompt: "text" | ["text"] | [ids...] | [[ids...]] -> text or ids (one prompt only).
std::optional<ApiError> parse_prompt(const ojson& body, std::string& text, std::vector<int32_t>& ids, bool& is_ids) {
    auto it = body.find("prompt");
    if (it == body.end() || it->is_null()) return bad_request("Missing required parameter: 'prompt'", "prompt");
    const ojson* p = &*it;
    if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || is_token_array((*p)[0]))) p = &(*p)[0];
    is_ids = false;
    if (p->is_string()) {
        text = p->get<std::string>();
        return std::nullopt;
    }
    if (is_token_array(*p)) {
        is_ids = true;
        for (const auto& x : *p) {
            if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX) {
                return bad_request("prompt token ids must be non-negative integers", "prompt");
            }
            ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
        }
        return std::nullopt;
    }
    if (p->is_array() && p->size() > 1) return bad_request("only one prompt per request is supported", "prompt");
    return bad_request("'prompt' must be a string, an array of one string, or an array of token ids", "prompt");
}

}  // namespace

asio::awaitable<void> handle_completions(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req) {
    const auto t_start = std::chrono::steady_clock::now();
    auto body = ojson::parse(req.body(), nullptr, false);
    if (body.is_discarded()) {
        co_await send_error(conn, bad_request("We could not parse the JSON body of your request: it is not valid JSON"));
        co_return;
    }
    CommonParams p;
    std::string prompt_text;
    std::vector<int32_t> prompt_ids;
    bool is_ids = false;
    bool echo = false;
    std::optional<ApiError> invalid = parse_common_params(body, Endpoint::Completions, p);
    if (!invalid) invalid = parse_prompt(body, prompt_text, prompt_ids, is_ids);
    if (!invalid && body.contains("echo") && !body["echo"].is_null()) {
        if (!body["echo"].is_boolean()) {
            invalid = bad_request("'echo' must be a boolean", "echo");
        } else {
            echo = body["echo"].get<bool>();
        }
    }
    if (!invalid && body.contains("suffix") && !body["suffix"].is_null() &&
        !(body["suffix"].is_string() && body["suffix"].get<std::string>().empty())) {
        invalid = bad_request("'suffix' is not supported", "suffix");
    }
    if (invalid) {
        co_await send_error(conn, *invalid);
        co_return;
    }
    auto acquired = co_await acquire_model(ctx, p.model);
    if (auto* e = std::get_if<ApiError>(&acquired)) {
        co_await send_error(conn, *e);
        co_return;
    }
    const auto model = std::get<std::shared_ptr<LoadedModel>>(std::move(acquired));
    const auto& tok = *model->tokenizer;
    if (auto e = parse_logit_bias(body, tok, p)) {
        co_await send_error(conn, *e);
        co_return;
    }
    llm::CompletionRequest creq;
    if (is_ids) {
        for (int32_t id : prompt_ids) {
            if (static_cast<size_t>(id) >= tok.n_vocab()) {
                co_await send_error(conn, bad_request(fmt::format("token id {} is out of the vocabulary", id), "prompt"));
                co_return;
            }
        }
        creq.prompt = prompt_ids;
        if (echo) prompt_text = tok.decode(prompt_ids);
    } else {
        creq.prompt = tok.encode(prompt_text, true, true);
    }
    if (creq.prompt.empty()) {
        co_await send_error(conn, bad_request("The prompt is empty", "prompt"));
        co_return;
    }
    creq.options = p.gen;
    creq.logprobs = p.logprobs;
    creq.top_logprobs = p.top_logprobs;
    auto started = Generation::start(model, std::move(creq), co_await asio::this_coro::executor, ctx.gate);
    if (auto* e = std::get_if<ApiError>(&started)) {
        ApiError err = *e;
        if (err.param == "messages") err.param = "prompt";
        co_await send_error(conn, err);
        co_return;
    }
    auto gen = std::get<std::shared_ptr<Generation>>(std::move(started));
    const auto deadline = ctx.config.timeout > 0
                              ? t_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              std::chrono::duration<double>(ctx.config.timeout))
                              : std::chrono::steady_clock::time_point::max();
    const std::string id = random_id("cmpl-");
    const int64_t created = unix_now();

    // Completions-style logprobs: parallel arrays over the generated tokens.
    ojson lp_tokens = ojson::array(), lp_values = ojson::array(), lp_top = ojson::array(), lp_offsets = ojson::array();
    size_t offset = echo ? prompt_text.size() : 0;
    auto add_logprobs = [&](const llm::TokenEvent& ev, ojson& tokens, ojson& values, ojson& top, ojson& offsets) {
        const std::string piece = tok.token_to_piece(ev.token, true);
        tokens.push_back(piece);
        values.push_back(ev.logprob);
        ojson t = ojson::object();
        for (int i = 0; i < p.top_logprobs && i < static_cast<int>(ev.top.size()); ++i) t[ev.top[i].text] = ev.top[i].logprob;
        top.push_back(std::move(t));
        offsets.push_back(offset);
        offset += piece.size();
    };
    auto chunk = [&](const std::string& text, const ojson& finish, ojson lp) {
        ojson c = {{"id", id},
                   {"object", "text_completion"},
                   {"created", created},
                   {"model", p.model},
                   {"system_fingerprint", "hearth"},
                   {"choices", ojson::array({{{"text", text}, {"index", 0}, {"logprobs", std::move(lp)},
                                              {"finish_reason", finish}}})}};
        if (p.include_usage) c["usage"] = nullptr;
        return sse_event(c);
    };

    if (p.stream) {
        if (!co_await conn.begin_stream(200, "text/event-stream")) co_return gen->cancel();
        const std::string first = echo ? chunk(prompt_text, nullptr, nullptr) : std::string();
        if (echo && !co_await conn.write_chunk(first)) co_return gen->cancel();
    }
    std::string text = echo ? prompt_text : std::string();
    std::optional<llm::CompletionResult> result;
    while (!result) {
        auto batch = co_await gen->next(conn, deadline);
        if (batch.end == Generation::Batch::End::ClientGone) co_return;
        if (batch.end == Generation::Batch::End::Timeout) {
            const ApiError e = server_error(504, "The request timed out", "timeout");
            if (p.stream) {
                const std::string event = sse_event(e.to_json());
                co_await conn.write_chunk(event);
                co_await conn.end_stream();
            } else {
                co_await send_error(conn, e);
            }
            co_return;
        }
        std::string piece;
        ojson t = ojson::array(), v = ojson::array(), top = ojson::array(), off = ojson::array();
        uint64_t n_tokens = 0;
        for (const auto& ev : batch.tokens) {
            piece += ev.text;
            if (ev.release_only) continue;
            ++n_tokens;
            if (p.logprobs) add_logprobs(ev, t, v, top, off);
        }
        ctx.metrics->count_tokens(n_tokens);
        result = std::move(batch.result);
        text += piece;
        if (p.stream && (!piece.empty() || !t.empty())) {
            ojson lp = p.logprobs ? ojson{{"tokens", t}, {"token_logprobs", v}, {"top_logprobs", top}, {"text_offset", off}}
                                  : ojson(nullptr);
            const std::string event = chunk(piece, nullptr, std::move(lp));
            if (!co_await conn.write_chunk(event)) co_return gen->cancel();
        }
        for (auto& x : t) lp_tokens.push_back(std::move(x));
        for (auto& x : v) lp_values.push_back(std::move(x));
        for (auto& x : top) lp_top.push_back(std::move(x));
        for (auto& x : off) lp_offsets.push_back(std::move(x));
    }
    const auto& r = *result;
    ctx.metrics->count_generation(static_cast<uint64_t>(r.n_prompt), r.tokens.size(),
                                  r.tokens.empty() ? -1.0 : r.ttft_seconds);
    if (r.finish == llm::FinishReason::Error || r.finish == llm::FinishReason::Cancelled) {
        const ApiError e = r.finish == llm::FinishReason::Error
                               ? server_error(500, "generation failed: " + r.error, "generation_failed")
                               : server_error(503, "The request was cancelled: " + r.error, "cancelled");
        if (p.stream) {
            const std::string event = sse_event(e.to_json());
            co_await conn.write_chunk(event);
            co_await conn.end_stream();
        } else {
            co_await send_error(conn, e);
        }
        co_return;
    }
    const char* finish = r.finish == llm::FinishReason::Length ? "length" : "stop";
    const ojson usage = {{"prompt_tokens", r.n_prompt},
                         {"completion_tokens", r.tokens.size()},
                         {"total_tokens", r.n_prompt + static_cast<int>(r.tokens.size())}};
    if (p.stream) {
        std::string tail = chunk("", finish, nullptr);
        if (p.include_usage) {
            tail += sse_event({{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", p.model},
                               {"system_fingerprint", "hearth"}, {"choices", ojson::array()}, {"usage", usage}});
        }
        tail += sse_done();
        if (co_await conn.write_chunk(tail)) co_await conn.end_stream();
        co_return;
    }
    ojson lp = p.logprobs ? ojson{{"tokens", std::move(lp_tokens)},
                                  {"token_logprobs", std::move(lp_values)},
                                  {"top_logprobs", std::move(lp_top)},
                                  {"text_offset", std::move(lp_offsets)}}
                          : ojson(nullptr);
    ojson out = {{"id", id},
                 {"object", "text_completion"},
                 {"created", created},
                 {"model", p.model},
                 {"system_fingerprint", "hearth"},
                 {"choices", ojson::array({{{"text", text}, {"index", 0}, {"logprobs", std::move(lp)},
                                            {"finish_reason", finish}}})},
                 {"usage", usage}};
    co_await send_json(conn, 200, out);
}

}  // namespace hearth::server
