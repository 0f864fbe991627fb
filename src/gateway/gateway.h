// hearth/gateway — `hearth gateway`: one OpenAI endpoint in front of many nodes
// (hearth servers or any OpenAI-compatible server). It loads no models: it learns
// what each node serves and how busy it is from probes (hearth's /status, else
// /v1/models), routes each request by model, prefix affinity (rendezvous hashing, so
// that several gateways agree without talking) and load (power of two choices),
// retries a request on another node when one fails before answering, ejects failing
// nodes with backoff, queues when every node is full, and relays event streams as
// they arrive. Nodes are configured or join themselves (`hearth serve --join`).
// Layers: config (settings), routing (pure choice), node_pool (shared node state),
// probe (health), proxy (one request), gateway.cpp (routes and the listener).
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "gateway/config.h"

namespace hearth::gateway {

// Listens and routes until SIGINT/SIGTERM. `on_listening` gets the bound address.
Result<void> run_gateway(const GatewayConfig& config, const std::function<void(const std::string&)>& on_listening);

}  // namespace hearth::gateway
