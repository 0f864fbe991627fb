#pragma once

#include "base/result.h"
#include "gateway/node_pool.h"
#include "gateway/net.h"

namespace hearth::gateway {

// Asks one node what it serves: hearth's /status (models, loaded or not, voices,
// slots and queue), or /v1/models of any other OpenAI-compatible server. Errors say
// why the node cannot be used (unreachable, refused the key, answered garbage).
asio::awaitable<Result<NodeReport>> probe_node(asio::any_io_executor ex, const NodePool::ProbeTarget& target,
                                               const net::ClientTimeouts& timeouts);

// Probes every node when it is due, for as long as the io_context runs.
asio::awaitable<void> probe_loop(NodePool& pool, const GatewayConfig& config);

}  // namespace hearth::gateway
