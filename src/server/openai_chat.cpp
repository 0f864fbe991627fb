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
    ChatAudioFields audio_fields;
    std::string audio_file;  // non-streaming: the whole reply's audio
    const ResponseHead head{random_id("chatcmpl-"), unix_now(), p.model, "chat.completion.chunk", p.include_usage};
    const bool parse_tools_in_text = !forced && choice.mode != ToolChoice::Mode::None;
    chat::ToolCallParser parser(parse_tools_in_text ? chat.tool_format : chat::ToolCallFormat::None);
    std::string content, forced_text;
    ojson tool_calls = ojson::array();
    ojson logprobs = ojson::array();

    auto choice_delta = [](ojson delta, const ojson& finish, ojson lp) {
        return ojson{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", std::move(lp)}, {"finish_reason", finish}};
    };
    auto chunk = [&](ojson delta, const ojson& finish, ojson lp) {
        return head.chunk(choice_delta(std::move(delta), finish, std::move(lp)));
    };
    // Turns generated text into a delta (content and/or tool calls); empty when nothing to send.
    auto to_delta = [&](const chat::ParsedDelta& d) {
        ojson delta = ojson::object();
        if (!d.content.empty()) {
            delta["content"] = d.content;
            content += d.content;
        }
        if (!d.tool_calls.empty()) {
            ojson arr = ojson::array();
            for (const auto& t : d.tool_calls) {
                merge_tool_delta(tool_calls, t);
                arr.push_back(tool_delta_json(t));
            }
            delta["tool_calls"] = std::move(arr);
        }
        return delta;
    };

    if (p.stream) {
        if (!co_await conn.begin_stream(200, "text/event-stream")) co_return;
        const std::string first = chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr);
        if (!co_await conn.write_chunk(first)) co_return;
    }
    std::optional<llm::CompletionResult> result;
    bool audio_done = !spoken;
    while (!result || !audio_done) {
        auto batch = co_await run->next(conn, p.stream);
        if (!batch) co_return;
        if (!result) {
            std::string text;
            ojson lp = ojson::array();
            for (const auto& ev : batch->tokens) {
                text += ev.text;
                if (!ev.release_only && p.logprobs) lp.push_back(logprob_entry(tok, ev, p.top_logprobs));
            }
            result = std::move(batch->result);
            chat::ParsedDelta parsed;
            if (forced) {
                forced_text += text;
            } else {
                parsed = parser.push(text);
                if (result) {
                    auto tail = parser.finish();
                    parsed.content += tail.content;
                    parsed.tool_calls.insert(parsed.tool_calls.end(), tail.tool_calls.begin(), tail.tool_calls.end());
                }
            }
            for (auto& e : lp) logprobs.push_back(e);
            if (spoken && !parsed.content.empty()) spoken->add_text(parsed.content);
            ojson delta = to_delta(parsed);
            if (p.stream && (!delta.empty() || !lp.empty())) {
                if (delta.empty()) delta["content"] = "";
                ojson lpj = p.logprobs ? ojson{{"content", std::move(lp)}} : ojson(nullptr);
                const std::string event = chunk(std::move(delta), nullptr, std::move(lpj));
                if (!co_await conn.write_chunk(event)) co_return;
            }
            if (result && spoken) {
                // A failed generation is not spoken to its end: its error is the reply.
                const bool failed = result->finish == llm::FinishReason::Error || result->finish == llm::FinishReason::Cancelled;
                if (failed) {
                    spoken->cancel();
                    audio_done = true;
                } else {
                    spoken->end_text();
                }
            }
        }
        if (spoken && !audio_done) {
            std::vector<SpokenReply::Piece> pieces;
            std::optional<std::string> failed;
            spoken->take(pieces, audio_done, failed);
            if (failed) {
                co_await send_failure(conn, p.stream, server_error(500, "speech synthesis failed: " + *failed, "speech_failed"));
                co_return;
            }
            std::string events;
            for (const auto& piece : pieces) {
                audio_fields.add(piece);
                if (!p.stream) {
                    audio_file += piece.audio;
                    continue;
                }
                for (auto& d : audio_fields.deltas(piece)) events += chunk({{"audio", std::move(d)}}, nullptr, nullptr);
            }
            if (!events.empty()) {
                const bool written = co_await conn.write_chunk(events);
                if (!written) co_return;
            }
        }
    }

    const auto& r = *result;
    if (!co_await run->accept_result(conn, p.stream, r)) co_return;
    bool called = false;
    if (forced) {
        if (auto call = forced_output_to_tool_call(forced_text)) {
            called = true;
            tool_calls.push_back(*call);
            if (p.stream) {
                ojson d = {{"index", 0}, {"id", (*call)["id"]}, {"type", "function"}, {"function", (*call)["function"]}};
                const std::string event = chunk({{"tool_calls", ojson::array({d})}}, nullptr, nullptr);
                if (!co_await conn.write_chunk(event)) co_return;
            }
        } else {
            // Cut short (max_tokens) before the call was complete: hand back the text.
            content = forced_text;
            if (p.stream && !content.empty()) {
                const std::string event = chunk({{"content", content}}, nullptr, nullptr);
                if (!co_await conn.write_chunk(event)) co_return;
            }
        }
    } else {
        called = parser.saw_tool_calls() && !tool_calls.empty();
    }
    const char* finish = r.finish == llm::FinishReason::Length ? "length" : called ? "tool_calls" : "stop";
    ojson usage = usage_json(r, true);
    if (spoken) usage["completion_tokens_details"] = ChatAudioFields::usage_details(spoken->seconds());
    // A reply that is not a tool call has audio even when nothing in it could be spoken
    // (only code, say): clients read its fields.
    const bool has_audio = spoken && !called;
    if (has_audio) ctx.spoken_replies->remember(audio_fields.id(), content, audio_fields.expires_at());
    if (p.stream) {
        if (has_audio) {
            const std::string event = chunk({{"audio", audio_fields.closing_delta()}}, nullptr, nullptr);
            if (!co_await conn.write_chunk(event)) co_return;
        }
        co_await finish_stream(conn, head, choice_delta(ojson::object(), finish, nullptr), usage);
        co_return;
    }
    ojson message = {{"role", "assistant"}, {"content", content.empty() && called ? ojson(nullptr) : ojson(content)}};
    if (called) message["tool_calls"] = tool_calls;
    if (has_audio) {
        spoken->complete_file(audio_file);
        message["audio"] = audio_fields.message_audio(audio_file);
    }
    ojson choice_json = {{"index", 0},
                         {"message", std::move(message)},
                         {"logprobs", p.logprobs ? ojson{{"content", std::move(logprobs)}} : ojson(nullptr)},
                         {"finish_reason", finish}};
    ojson out = head.envelope("chat.completion", ojson::array({std::move(choice_json)}));
    out["usage"] = usage;
    co_await send_json(conn, 200, out);
}

}  // namespace hearth::server
