// POST /v1/completions: raw prompt (text or token ids) -> text_completion, whole or streamed.
#include <fmt/format.h>

#include "server/completion_flow.h"

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

asio::awaitable<void> handle_completions(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req,
                                         RequestRecord& rec) {
    std::string prompt_text;
    std::vector<int32_t> prompt_ids;
    bool is_ids = false;
    bool echo = false;
    auto validate = [&](const ojson& body) -> std::optional<ApiError> {
        if (auto e = parse_prompt(body, prompt_text, prompt_ids, is_ids)) return e;
        if (body.contains("echo") && !body["echo"].is_null()) {
            if (!body["echo"].is_boolean()) return bad_request("'echo' must be a boolean", "echo");
            echo = body["echo"].get<bool>();
        }
        if (body.contains("suffix") && !body["suffix"].is_null() &&
            !(body["suffix"].is_string() && body["suffix"].get<std::string>().empty())) {
            return bad_request("'suffix' is not supported", "suffix");
        }
        return std::nullopt;
    };
    auto prologue = co_await begin_completion_request(ctx, conn, req, rec, Endpoint::Completions, validate);
    if (!prologue) co_return;
    const CommonParams& p = prologue->params;
    const auto& tok = *prologue->model->tokenizer;
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
    auto run = co_await GenerationRun::start(ctx, conn, *prologue, std::move(creq), "prompt");
    if (!run) co_return;
    const ResponseHead head{random_id("cmpl-"), unix_now(), p.model, "text_completion", p.include_usage};

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
    auto choice = [](const std::string& text, ojson logprobs, const ojson& finish) {
        return ojson{{"text", text}, {"index", 0}, {"logprobs", std::move(logprobs)}, {"finish_reason", finish}};
    };

    if (p.stream) {
        if (!co_await conn.begin_stream(200, "text/event-stream")) co_return;
        const std::string first = echo ? head.chunk(choice(prompt_text, nullptr, nullptr)) : std::string();
        if (echo && !co_await conn.write_chunk(first)) co_return;
    }
    std::string text = echo ? prompt_text : std::string();
    std::optional<llm::CompletionResult> result;
    while (!result) {
        auto batch = co_await run->next(conn, p.stream);
        if (!batch) co_return;
        std::string piece;
        ojson t = ojson::array(), v = ojson::array(), top = ojson::array(), off = ojson::array();
        for (const auto& ev : batch->tokens) {
            piece += ev.text;
            if (!ev.release_only && p.logprobs) add_logprobs(ev, t, v, top, off);
        }
        result = std::move(batch->result);
        text += piece;
        if (p.stream && (!piece.empty() || !t.empty())) {
            ojson lp = p.logprobs ? ojson{{"tokens", t}, {"token_logprobs", v}, {"top_logprobs", top}, {"text_offset", off}}
                                  : ojson(nullptr);
            const std::string event = head.chunk(choice(piece, std::move(lp), nullptr));
            if (!co_await conn.write_chunk(event)) co_return;
        }
        for (auto& x : t) lp_tokens.push_back(std::move(x));
        for (auto& x : v) lp_values.push_back(std::move(x));
        for (auto& x : top) lp_top.push_back(std::move(x));
        for (auto& x : off) lp_offsets.push_back(std::move(x));
    }
    const auto& r = *result;
    if (!co_await run->accept_result(conn, p.stream, r)) co_return;
    const char* finish = r.finish == llm::FinishReason::Length ? "length" : "stop";
    const ojson usage = usage_json(r, false);
    if (p.stream) {
        co_await finish_stream(conn, head, choice("", nullptr, finish), usage);
        co_return;
    }
    ojson lp = p.logprobs ? ojson{{"tokens", std::move(lp_tokens)},
                                  {"token_logprobs", std::move(lp_values)},
                                  {"top_logprobs", std::move(lp_top)},
                                  {"text_offset", std::move(lp_offsets)}}
                          : ojson(nullptr);
    ojson out = head.envelope("text_completion", ojson::array({choice(text, std::move(lp), finish)}));
    out["usage"] = usage;
    co_await send_json(conn, 200, out);
}

}  // namespace hearth::server
