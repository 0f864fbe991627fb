// GET /v1/models and GET /v1/models/{id}.
#include <fmt/format.h>

#include "server/server_context.h"

namespace hearth::server {

namespace {
nlohmann::ordered_json model_object(const ModelInfo& m) {
    return {{"id", m.id}, {"object", "model"}, {"created", m.created}, {"owned_by", "hearth"}};
}
}  // namespace

asio::awaitable<void> handle_models(ServerContext& ctx, HttpConnection& conn, const std::string* id) {
    if (id) {
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
    const nlohmann::ordered_json list = {{"object", "list"}, {"data", std::move(data)}};
    co_await send_json(conn, 200, list);
}

}  // namespace hearth::server
