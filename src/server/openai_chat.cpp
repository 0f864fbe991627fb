// POST /v1/chat/completions: messages (+ tools, response_format) -> prompt via the
// model's chat template, generation in the model's engine, and the reply as one
// chat.completion or as streamed chat.completion.chunk events.
#include <fmt/format.h>

#include "chat/chat.h"
#include "server/chat_audio.h"
#include "server/completion_flow.h"
#include "server/tool_calls.h"

namespace hearth::server {
namespace {

std::optional<ApiError> check_messages(const ojson& body) {
    auto it = body.find("messages");
    if (it == body.end() || it->is_null()) return bad_request("Missing required parameter: 'messages'", "messages");
    if (!it->is_array() || it->empty()) return bad_request("'messages' must be a non-empty array", "messages");
    for (size_t i = 0; i < it->size(); ++i) {
        const auto& m = (*it)[i];
        const std::string param = fmt::format("messages[{}]", i);
        if (!m.is_object()) return bad_request("each message must be an object", param);
        auto role = m.find("role");
        if (role == m.end() || !role->is_string()) return bad_request("each message needs a string 'role'", param + ".role");
        const auto r = role->get<std::string>();
        if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool") {
            return bad_request(fmt::format("invalid role '{}'", r), param + ".role");
        }
        auto content = m.find("content");
        const bool has_content = content != m.end() && !content->is_null();
        if (has_content && !content->is_string() && !content->is_array()) {
            return bad_request("'content' must be a string or an array of content parts", param + ".content");
        }
        if (!has_content && r != "assistant") return bad_request("'content' is required", param + ".content");
    }
    return std::nullopt;
}

// response_format -> (wanted, schema or null)
std::optional<ApiError> parse_response_format(const ojson& body, bool& json_mode, const ojson*& schema) {
    json_mode = false;
    schema = nullptr;
    auto it = body.find("response_format");
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string()) {
        return bad_request("'response_format' must be an object with a 'type'", "response_format");
    }
    const auto type = (*it)["type"].get<std::string>();
    if (type == "text") return std::nullopt;
    json_mode = true;
    if (type == "json_object") return std::nullopt;
    if (type != "json_schema") {
        return bad_request("'response_format.type' must be text, json_object or json_schema", "response_format.type");
    }
    auto js = it->find("json_schema");
    if (js == it->end() || !js->is_object()) {
        return bad_request("'response_format.json_schema' must be an object", "response_format.json_schema");
    }
    auto s = js->find("schema");
    if (s != js->end() && !s->is_null()) {
        if (!s->is_object()) return bad_request("'json_schema.schema' must be an object", "response_format.json_schema.schema");
        schema = &*s;
    }
    return std::nullopt;
}

ojson bytes_of(const std::string& s) {
    ojson b = ojson::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
}

ojson logprob_entry(const tokenizer::Tokenizer& tok, const llm::TokenEvent& ev, int top_n) {
    const std::string piece = tok.token_to_piece(ev.token, true);
    ojson top = ojson::array();
    for (int i = 0; i < top_n && i < static_cast<int>(ev.top.size()); ++i) {
        top.push_back({{"token", ev.top[i].text}, {"logprob", ev.top[i].logprob}, {"bytes", bytes_of(ev.top[i].text)}});
    }
    return {{"token", piece}, {"logprob", ev.logprob}, {"bytes", bytes_of(piece)}, {"top_logprobs", std::move(top)}};
}

// Accumulates streamed tool-call deltas into complete OpenAI tool calls.
void merge_tool_delta(ojson& calls, const chat::ToolCallDelta& d) {
    while (calls.size() <= static_cast<size_t>(d.index)) {
        calls.push_back({{"id", ""}, {"type", "function"}, {"function", {{"name", ""}, {"arguments", ""}}}});
    }
    auto& c = calls[static_cast<size_t>(d.index)];
    if (!d.id.empty()) c["id"] = d.id;
    if (!d.name.empty()) c["function"]["name"] = d.name;
    c["function"]["arguments"] = c["function"]["arguments"].get<std::string>() + d.arguments;
}

ojson tool_delta_json(const chat::ToolCallDelta& d) {
    ojson j = {{"index", d.index}};
    if (!d.id.empty()) {
        j["id"] = d.id;
        j["type"] = "function";
    }
    ojson fn = ojson::object();
    if (!d.name.empty()) fn["name"] = d.name;
    fn["arguments"] = d.arguments;
    j["function"] = std::move(fn);
    return j;
}

// The spoken reply for a request with audio output: 400 when this server has no speech.
asio::awaitable<std::variant<std::shared_ptr<SpokenReply>, ApiError>> open_spoken_reply(ServerContext& ctx,
                                                                                      const AudioOutputRequest& audio,
                                                                                      bool starts_in_reasoning) {
    if (!ctx.speech) {
        co_return bad_request("This server has no speech (started with --no-speech or built without it): "
                              "request modalities [\"text\"] or use a server with voices",
                              "modalities", "audio_unavailable");
    }
    auto opened = co_await ctx.speech->open_spoken_reply(audio, starts_in_reasoning);
    co_return opened;
}

// One chat reply as it is written: engine batches become OpenAI deltas (content, tool
// calls, logprobs) and spoken audio, streamed as chunks or gathered into one
// chat.completion. Lives in the handler's frame; every call is on its strand.
class ChatReply {
public:
    ChatReply(HttpConnection& conn, const CommonParams& p, const tokenizer::Tokenizer& tok,
              chat::ToolCallFormat tool_format, bool forced, std::shared_ptr<SpokenReply> spoken)
        : conn_(conn),
          p_(p),
          tok_(tok),
          head_{random_id("chatcmpl-"), unix_now(), p.model, "chat.completion.chunk", p.include_usage},
          forced_(forced),
          parser_(tool_format),
          spoken_(std::move(spoken)),
          audio_done_(!spoken_) {}

    // Streaming: the response head and the role chunk. False: the client is gone.
    asio::awaitable<bool> begin() {
        if (!p_.stream) co_return true;
        if (!co_await conn_.begin_stream(200, "text/event-stream")) co_return false;
        const std::string first = chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr);
        co_return co_await conn_.write_chunk(first);
    }

    // The text of one batch (the last one with `last`): parsed for tool calls, streamed,
    // and handed to speech.
    asio::awaitable<bool> add(const std::vector<llm::TokenEvent>& tokens, bool last) {
        std::string text;
        ojson lp = ojson::array();
        for (const auto& ev : tokens) {
            text += ev.text;
            if (!ev.release_only && p_.logprobs) lp.push_back(logprob_entry(tok_, ev, p_.top_logprobs));
        }
        chat::ParsedDelta parsed;
        if (forced_) {
            forced_text_ += text;
        } else {
            parsed = parser_.push(text);
            if (last) {
                auto tail = parser_.finish();
                parsed.content += tail.content;
                parsed.tool_calls.insert(parsed.tool_calls.end(), tail.tool_calls.begin(), tail.tool_calls.end());
            }
        }
        for (auto& e : lp) logprobs_.push_back(e);
        if (spoken_ && !parsed.content.empty()) spoken_->add_text(parsed.content);
        ojson delta = to_delta(parsed);
        if (!p_.stream || (delta.empty() && lp.empty())) co_return true;
        if (delta.empty()) delta["content"] = "";
        ojson lpj = p_.logprobs ? ojson{{"content", std::move(lp)}} : ojson(nullptr);
        const std::string event = chunk(std::move(delta), nullptr, std::move(lpj));
        co_return co_await conn_.write_chunk(event);
    }

    // The text is complete: speech finishes what is left (or stops, when generation failed).
    void end_text(bool failed) {
        if (!spoken_) return;
        if (failed) {
            spoken_->cancel();
            audio_done_ = true;
        } else {
            spoken_->end_text();
        }
    }

    bool audio_done() const { return audio_done_; }

    // Audio ready so far: streamed as delta.audio chunks, or kept for the whole reply.
    // False when the reply is over (client gone, or synthesis failed and was reported).
    asio::awaitable<bool> drain_audio() {
        if (!spoken_ || audio_done_) co_return true;
        std::vector<SpokenReply::Piece> pieces;
        std::optional<std::string> failed;
        spoken_->take(pieces, audio_done_, failed);
        if (failed) {
            co_await send_failure(conn_, p_.stream, server_error(500, "speech synthesis failed: " + *failed, "speech_failed"));
            co_return false;
        }
        std::string events;
        for (const auto& piece : pieces) {
            audio_.add(piece);
            if (!p_.stream) {
                audio_file_ += piece.audio;
                continue;
            }
            for (auto& d : audio_.deltas(piece)) events += chunk({{"audio", std::move(d)}}, nullptr, nullptr);
        }
        if (events.empty()) co_return true;
        co_return co_await conn_.write_chunk(events);
    }

    // The end: the forced tool call, finish reason, audio, usage; the whole reply or the
    // stream's last chunks.
    asio::awaitable<void> finish(const llm::CompletionResult& r, SpokenReplies& replies) {
        bool called = false;
        if (forced_) {
            if (!co_await finish_forced_call(called)) co_return;
        } else {
            called = parser_.saw_tool_calls() && !tool_calls_.empty();
        }
        const char* finish = r.finish == llm::FinishReason::Length ? "length" : called ? "tool_calls" : "stop";
        ojson usage = usage_json(r, true);
        if (spoken_) usage["completion_tokens_details"] = ChatAudioFields::usage_details(*spoken_);
        // A reply that is not a tool call has audio even when nothing in it could be
        // spoken (only code, say): clients read its fields.
        const bool has_audio = spoken_ && !called;
        if (has_audio) replies.remember(audio_.id(), content_, audio_.expires_at());
        if (p_.stream) {
            if (has_audio) {
                const std::string event = chunk({{"audio", audio_.closing_delta()}}, nullptr, nullptr);
                if (!co_await conn_.write_chunk(event)) co_return;
            }
            co_await finish_stream(conn_, head_, choice_delta(ojson::object(), finish, nullptr), usage);
            co_return;
        }
        ojson message = {{"role", "assistant"}, {"content", content_.empty() && called ? ojson(nullptr) : ojson(content_)}};
        if (called) message["tool_calls"] = tool_calls_;
        if (has_audio) {
            spoken_->complete_file(audio_file_);
            message["audio"] = audio_.message_audio(audio_file_);
        }
        ojson choice_json = {{"index", 0},
                             {"message", std::move(message)},
                             {"logprobs", p_.logprobs ? ojson{{"content", std::move(logprobs_)}} : ojson(nullptr)},
                             {"finish_reason", finish}};
        ojson out = head_.envelope("chat.completion", ojson::array({std::move(choice_json)}));
        out["usage"] = usage;
        co_await send_json(conn_, 200, out);
    }

private:
    static ojson choice_delta(ojson delta, const ojson& finish, ojson lp) {
        return ojson{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", std::move(lp)}, {"finish_reason", finish}};
    }
    std::string chunk(ojson delta, const ojson& finish, ojson lp) const {
        return head_.chunk(choice_delta(std::move(delta), finish, std::move(lp)));
    }

    // Generated text as a delta (content and/or tool calls); empty when nothing to send.
    ojson to_delta(const chat::ParsedDelta& d) {
        ojson delta = ojson::object();
        if (!d.content.empty()) {
            delta["content"] = d.content;
            content_ += d.content;
        }
        if (!d.tool_calls.empty()) {
            ojson arr = ojson::array();
            for (const auto& t : d.tool_calls) {
                merge_tool_delta(tool_calls_, t);
                arr.push_back(tool_delta_json(t));
            }
            delta["tool_calls"] = std::move(arr);
        }
        return delta;
    }

    // A forced call's output becomes the call; cut short (max_tokens) before it was
    // complete, it is handed back as text.
    asio::awaitable<bool> finish_forced_call(bool& called) {
        if (auto call = forced_output_to_tool_call(forced_text_)) {
            called = true;
            tool_calls_.push_back(*call);
            if (!p_.stream) co_return true;
            ojson d = {{"index", 0}, {"id", (*call)["id"]}, {"type", "function"}, {"function", (*call)["function"]}};
            const std::string event = chunk({{"tool_calls", ojson::array({d})}}, nullptr, nullptr);
            co_return co_await conn_.write_chunk(event);
        }
        content_ = forced_text_;
        if (!p_.stream || content_.empty()) co_return true;
        const std::string event = chunk({{"content", content_}}, nullptr, nullptr);
        co_return co_await conn_.write_chunk(event);
    }

    HttpConnection& conn_;
    const CommonParams& p_;
    const tokenizer::Tokenizer& tok_;
    const ResponseHead head_;
    const bool forced_;
    chat::ToolCallParser parser_;
    std::shared_ptr<SpokenReply> spoken_;
    std::string content_, forced_text_;
    ojson tool_calls_ = ojson::array();
    ojson logprobs_ = ojson::array();
    ChatAudioFields audio_;
    std::string audio_file_;  // non-streaming: the whole reply's audio
    bool audio_done_;  // no speech, or all of it was handed out
};

}  // namespace

asio::awaitable<void> handle_chat_completions(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req,
                                              RequestRecord& rec) {
    ojson tools;
    ToolChoice choice;
    bool json_mode = false;
    ojson schema;  // null: any JSON object
    AudioOutputRequest audio;
    auto validate = [&](const ojson& body) -> std::optional<ApiError> {
        if (auto e = check_messages(body)) return e;
        auto stream = body.find("stream");  // a bool or null: the common params are checked
        if (auto e = parse_audio_output(body, stream != body.end() && stream->is_boolean() && stream->get<bool>(), audio)) {
            return e;
        }
        if (auto e = parse_tools(body, tools, choice)) return e;
        const ojson* found = nullptr;
        if (auto e = parse_response_format(body, json_mode, found)) return e;
        if (found) schema = *found;
        return std::nullopt;
    };
    auto prologue = co_await begin_completion_request(ctx, conn, req, rec, Endpoint::Chat, validate);
    if (!prologue) co_return;
    CommonParams& p = prologue->params;
    const auto& model = *prologue->model;
    const auto& tok = *model.tokenizer;

    const bool forced = choice.forced();
    chat::ChatOutput output;
    if (forced) {
        output = {chat::ChatOutput::Kind::ForcedToolCall, forced_tool_call_schema(tools, choice)};
    } else if (json_mode) {
        output = {chat::ChatOutput::Kind::Json, schema};
    }
    if (auto e = ctx.spoken_replies->restore(prologue->body["messages"])) {
        co_await send_error(conn, *e);
        co_return;
    }
    chat::ChatPromptOptions popts;
    popts.template_override = ctx.registry->chat_template_override();
    const ojson& prompt_tools = choice.mode == ToolChoice::Mode::None ? ojson(nullptr) : tools;
    auto prepared = chat::prepare_chat(model.model->metadata(), tok, prologue->body["messages"], prompt_tools, output, popts);
    if (auto* e = std::get_if<chat::PrepareError>(&prepared)) {
        const ApiError err = bad_request(e->message, e->field);
        co_await send_error(conn, err);
        co_return;
    }
    auto& chat = std::get<chat::PreparedChat>(prepared);
    llm::CompletionRequest creq;
    creq.prompt = std::move(chat.prompt);
    creq.constraint = std::move(chat.constraint);
    p.gen.stop.insert(p.gen.stop.end(), chat.stops.begin(), chat.stops.end());

    std::shared_ptr<SpokenReply> spoken;
    if (audio.wanted) {
        auto opened = co_await open_spoken_reply(ctx, audio, chat.starts_in_reasoning);
        if (auto* e = std::get_if<ApiError>(&opened)) {
            co_await send_error(conn, *e);
            co_return;
        }
        spoken = std::get<std::shared_ptr<SpokenReply>>(std::move(opened));
    }
    // Synthesis stops whenever the handler leaves (client gone, timeout, error).
    struct CancelSpeech {
        std::shared_ptr<SpokenReply>* reply;
        ~CancelSpeech() {
            if (*reply) (*reply)->cancel();
        }
    } cancel_speech{&spoken};

    auto run = co_await GenerationRun::start(ctx, conn, *prologue, std::move(creq), "messages");
    if (!run) co_return;
    if (spoken) spoken->set_wake(run->notifier());
    const bool parse_tools_in_text = !forced && choice.mode != ToolChoice::Mode::None;
    ChatReply reply(conn, p, tok, parse_tools_in_text ? chat.tool_format : chat::ToolCallFormat::None, forced, spoken);
    if (!co_await reply.begin()) co_return;
    // One wait for tokens and audio alike, until both are done.
    std::optional<llm::CompletionResult> result;
    while (!result || !reply.audio_done()) {
        auto batch = co_await run->next(conn, p.stream);
        if (!batch) co_return;
        if (!result) {
            result = std::move(batch->result);
            if (!co_await reply.add(batch->tokens, result.has_value())) co_return;
            if (result) {
                reply.end_text(result->finish == llm::FinishReason::Error || result->finish == llm::FinishReason::Cancelled);
            }
        }
        if (!co_await reply.drain_audio()) co_return;
    }
    if (!co_await run->accept_result(conn, p.stream, *result)) co_return;
    co_await reply.finish(*result, *ctx.spoken_replies);
}

}  // namespace hearth::server
