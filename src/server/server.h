// hearth/server — the OpenAI-compatible HTTP server behind `hearth serve`: Boost.Beast
// on C++20 coroutines (a few I/O threads serve every connection; no thread per
// client), routes for /v1/models, /v1/chat/completions and /v1/completions (with
// server-sent-event streaming), /v1/audio/speech (hearth_tts, when built), /health,
// Prometheus /metrics, /status for a gateway, static files for a web UI, API keys, and
// the registry that loads models on first use and unloads idle ones. Every response
// carries an X-Request-Id and every request leaves an access-log line; with `join` the
// server registers itself with a gateway by heartbeats and leaves it at shutdown.
// Each model's ServingEngine (hearth_llm) does the batching; hearth_chat turns
// messages and tools into prompts and constrained output. Handlers never throw errors
// at clients: every failure is an OpenAI error object with the right status.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "server/config.h"

namespace hearth::server {

// Loads the configured model(s), listens, says what it serves on stderr, and serves
// until SIGINT/SIGTERM (then leaves the gateway it joined, if any).
// `on_listening` gets the address ("http://127.0.0.1:8080") once the socket is bound.
Result<void> run_server(const ServerConfig& config, const std::function<void(const std::string&)>& on_listening);

}  // namespace hearth::server
