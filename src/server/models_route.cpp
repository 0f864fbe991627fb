// GET /v1/models and GET /v1/models/{id}: the LLMs, then (with speech) the speech models.
#include <chrono>

#include <fmt/format.h>

#include "server/server_context.h"

namespace hearth::server {

namespace {
nlohmann::ordered_json model_object(const ModelInfo& m) {
    return {{"id", m.id}, {"object", "model"}, {"created", m.created}, {"owned_by", "hearth"}};
}

// tts-1 & co. for clients that discover speech through /v1/models; `type` tells them apart
// from the LLMs (which alone can be used for completions). /status lists the LLMs only.
nlohmann::ordered_json speech_model_object(const std::string& id) {
    static const int64_t started =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return {{"id", id}, {"object", "model"}, {"created", started}, {"owned_by", "hearth"}, {"type", "speech"}};
}

// A speech model id, unless an LLM of that name shadows it.
bool speech_model(ServerContext& ctx, const std::string& id) {
    return ctx.speech && is_speech_model(id) && !ctx.registry->find(id);
}
}  // namespace

asio::awaitable<void> handle_models(ServerContext& ctx, HttpConnection& conn, const std::string* id) {
    if (id) {
        if (speech_model(ctx, *id)) {
            co_await send_json(conn, 200, speech_model_object(*id));
            co_return;
        }
        auto m = ctx.registry->find(*id);
        if (!m) {
            const ApiError e{404, fmt::format("The model '{}' does not exist", *id), "invalid_request_error", "model",
                             "model_not_found"};
            co_await send_error(conn, e);
            co_return;
        }
        co_await send_json(conn, 200, model_object(*m));
        co_return;
    }
    nlohmann::ordered_json data = nlohmann::ordered_json::array();
    for (const auto& m : ctx.registry->list()) data.push_back(model_object(m));
    for (const auto& s : speech_model_ids()) {
        if (speech_model(ctx, s)) data.push_back(speech_model_object(s));
    }
    const nlohmann::ordered_json list = {{"object", "list"}, {"data", std::move(data)}};
    co_await send_json(conn, 200, list);
}

}  // namespace hearth::server
