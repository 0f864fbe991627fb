// GET /status: what this server offers and how busy it is, in one object a gateway can
// route by (the fields are a contract: `hearth gateway` reads them).
#include "server/server_context.h"
#include "server/speech_routes.h"

#ifndef HEARTH_VERSION
#define HEARTH_VERSION "dev"
#endif

namespace hearth::server {

asio::awaitable<void> handle_status(ServerContext& ctx, HttpConnection& conn) {
    std::vector<std::string> voices;
    if (ctx.speech) voices = co_await ctx.speech->voice_ids();
    nlohmann::ordered_json models = nlohmann::ordered_json::array();
    int slots_total = 0, slots_busy = 0, queued = 0;
    for (const ModelStatus& m : ctx.registry->status()) {
        if (m.loaded) {  // a model on demand holds no slots yet
            slots_total += m.slots_total;
            slots_busy += m.slots_busy;
            queued += m.queued;
        }
        models.push_back({{"id", m.id},
                          {"loaded", m.loaded},
                          {"slots_total", m.slots_total},
                          {"slots_busy", m.slots_busy},
                          {"queued", m.queued},
                          {"kv_tokens_used", m.kv_tokens_used},
                          {"kv_tokens_total", m.kv_tokens_total}});
    }
    const nlohmann::ordered_json body = {{"object", "hearth.status"},
                                         {"version", HEARTH_VERSION},
                                         {"slots_total", slots_total},
                                         {"slots_busy", slots_busy},
                                         {"queued", queued},
                                         {"models", std::move(models)},
                                         {"voices", std::move(voices)},
                                         {"speech_models", ctx.speech ? speech_model_ids() : std::vector<std::string>()}};
    co_await send_json(conn, 200, body);
}

}  // namespace hearth::server
