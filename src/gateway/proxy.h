#pragma once

#include <atomic>
#include <string>

#include "gateway/config.h"
#include "gateway/metrics.h"
#include "gateway/net.h"
#include "gateway/node_pool.h"
#include "gateway/wait_queue.h"

namespace hearth::gateway {

// What every gateway handler may use.
struct GatewayContext {
    GatewayConfig config;
    NodePool* pool = nullptr;
    GatewayMetrics* metrics = nullptr;
    WaitQueue* waiting = nullptr;  // requests waiting for a node
};

// Sends a POST to a node that serves the body's model and relays the answer: event
// streams and audio as they arrive, JSON whole. A node that fails before its first
// body byte is ejected and the request goes to another, unseen by the client; a
// stream that breaks later ends with an SSE error event and [DONE]. A client that
// goes away cancels the upstream request. Fills `log` (model, node, tokens, ttft).
asio::awaitable<void> forward(GatewayContext& ctx, HttpConnection& conn, const HttpRequest& req,
                              const std::string& route, AccessRecord& log);

}  // namespace hearth::gateway
