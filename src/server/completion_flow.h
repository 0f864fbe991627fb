#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/generation.h"
#include "server/openai_params.h"
#include "server/server_context.h"

// What /v1/chat/completions and /v1/completions share around a generation: the request
// prologue (JSON body, common params, the model, logit_bias), running the generation
// under the deadline with its failure replies, and the response envelope, usage and
// stream ending. Each handler keeps only what is its own: prompt, logprobs shape, deltas.
namespace hearth::server {

// A validated request whose model is loaded. Holds the model while the handler runs
// (see Generation), so it must outlive the handler's GenerationRun.
struct Prologue {
    std::chrono::steady_clock::time_point t_start;
    ojson body;
    CommonParams params;
    std::shared_ptr<LoadedModel> model;
    RequestRecord* record = nullptr;  // the router's, outliving the handler
};

// Parses the body, the common params and then, with `validate`, the endpoint's own
// fields; loads the model and applies logit_bias. On failure sends the error and
// returns nullopt. `rec` gets the model the request names.
asio::awaitable<std::optional<Prologue>> begin_completion_request(
    ServerContext& ctx, HttpConnection& conn, const HttpRequest& req, RequestRecord& rec, Endpoint endpoint,
    const std::function<std::optional<ApiError>(const ojson& body)>& validate);

// Sends `e` as the reply: once a stream has begun, as a last SSE event that ends it
// (without [DONE]); otherwise as a JSON error response.
asio::awaitable<void> send_failure(HttpConnection& conn, bool streaming, const ApiError& e);

// A generation the handler is running. Cancels the request in the engine when dropped
// before its result arrived (client gone, handler error, shutdown), so no engine slot
// keeps generating for nobody. Keeps the request's record up to date with its token
// counts and time to first token.
class GenerationRun {
public:
    // Copies the common params (options, logprobs) into `request` and submits it; the
    // deadline counts from the prologue's start. On failure (queue full, prompt too
    // long: its param "messages" renamed `prompt_param`) sends the error and returns
    // nullopt.
    static asio::awaitable<std::optional<GenerationRun>> start(ServerContext& ctx, HttpConnection& conn,
                                                               const Prologue& prologue, llm::CompletionRequest request,
                                                               const char* prompt_param);
    GenerationRun(GenerationRun&&) noexcept = default;
    GenerationRun& operator=(GenerationRun&&) = delete;
    ~GenerationRun();

    // The next batch, its generated tokens counted in the metrics; nullopt when the
    // handler is done: the client went away, or the deadline passed (504 sent).
    asio::awaitable<std::optional<Generation::Batch>> next(HttpConnection& conn, bool streaming);

    // Counts the finished generation in the metrics; on an engine error or cancellation
    // sends that error and returns false.
    asio::awaitable<bool> accept_result(HttpConnection& conn, bool streaming, const llm::CompletionResult& r);

    void cancel();

    // Wakes next() from any thread (see Generation::notify).
    std::function<void()> notifier() const {
        return [gen = gen_] { gen->notify(); };
    }

private:
    GenerationRun(ServerContext& ctx, std::shared_ptr<Generation> gen, std::chrono::steady_clock::time_point deadline,
                  RequestRecord* record)
        : ctx_(&ctx), gen_(std::move(gen)), deadline_(deadline), record_(record) {}

    ServerContext* ctx_;
    std::shared_ptr<Generation> gen_;
    std::chrono::steady_clock::time_point deadline_;
    RequestRecord* record_;
    bool finished_ = false;
};

// The fields every response object and stream chunk of one request starts with.
struct ResponseHead {
    std::string id;
    int64_t created = 0;
    std::string model;
    std::string chunk_object;  // "chat.completion.chunk", "text_completion"
    bool include_usage = false;

    // {"id","object","created","model","system_fingerprint","choices"}.
    ojson envelope(const std::string& object, ojson choices) const;
    // One streamed chunk with a single choice (usage: null when usage was asked for).
    std::string chunk(ojson choice) const;
};

// {"prompt_tokens","completion_tokens","total_tokens"} (+ cached prompt tokens when asked).
ojson usage_json(const llm::CompletionResult& r, bool with_cached_tokens);

// Ends a stream: the chunk with the finish reason, the usage chunk when asked, [DONE].
asio::awaitable<void> finish_stream(HttpConnection& conn, const ResponseHead& head, ojson finish_choice,
                                    const ojson& usage);

}  // namespace hearth::server
