#pragma once

#include <boost/asio/thread_pool.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "server/net.h"
#include "server/config.h"
#include "server/generation.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/request_log.h"
#include "server/speech_routes.h"

namespace hearth::server {

// What every handler may use.
struct ServerContext {
    ServerConfig config;
    ModelRegistry* registry = nullptr;
    Metrics* metrics = nullptr;
    asio::thread_pool* blocking = nullptr;  // for work that must not stall the I/O threads
    std::shared_ptr<PostGate> gate;          // see Generation
    SpeechRoutes* speech = nullptr;          // null when built without hearth_tts
    SpokenReplies* spoken_replies = nullptr;  // their text, for clients that send only the audio id
};

// When a request that arrived at `start` times out (config.timeout seconds; never when 0).
std::chrono::steady_clock::time_point request_deadline(const ServerContext& ctx,
                                                       std::chrono::steady_clock::time_point start);

// The loaded model for `id`, loading it on the blocking pool; 404 model_not_found when unknown.
asio::awaitable<std::variant<std::shared_ptr<LoadedModel>, ApiError>> acquire_model(ServerContext& ctx,
                                                                                  const std::string& id);

// Route handlers (one file per concern). Completion handlers fill in the request's
// model and token counts for the access log.
asio::awaitable<void> handle_chat_completions(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req,
                                              RequestRecord& rec);
asio::awaitable<void> handle_completions(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req,
                                         RequestRecord& rec);
// GET /status: what this server offers and how busy it is, for a gateway.
asio::awaitable<void> handle_status(ServerContext& ctx, HttpConnection& conn);
asio::awaitable<void> handle_models(ServerContext& ctx, HttpConnection& conn, const std::string* id);

}  // namespace hearth::server
