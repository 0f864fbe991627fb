#include "server/server.h"

#include <boost/asio/thread_pool.hpp>

#include <cstdio>

#include <fmt/format.h>

#include "net/listener.h"
#include "server/gateway_join.h"
#include "server/router.h"
#include "server/server_context.h"

#ifndef HEARTH_VERSION
#define HEARTH_VERSION "dev"
#endif

namespace hearth::server {
namespace {

using namespace std::chrono_literals;

// What this server offers, a few lines on stderr once it listens, so whoever started it
// sees at a glance what a client (or a gateway) will find.
void print_banner(const ServerContext& ctx, const std::string& address, const GatewayJoin* join) {
    std::string out = fmt::format("hearth {} serving on {}\n", HEARTH_VERSION, address);
    const auto models = ctx.registry->status();
    constexpr size_t kListed = 8;  // a big --models-dir would push the rest off the screen
    for (size_t i = 0; i < models.size() && i < kListed; ++i) {
        const auto& m = models[i];
        out += fmt::format("  model {}: {}, {}\n", m.id, m.loaded ? "loaded" : "on demand", m.path);
    }
    if (models.size() > kListed) out += fmt::format("  ... and {} more models (GET /v1/models)\n", models.size() - kListed);
    if (models.empty()) out += fmt::format("  no models yet in {} (each .gguf put there is served)\n", ctx.config.models_dir);
    out += fmt::format("  device: {}\n", ctx.registry->device_info().describe());
    if (ctx.speech) out += fmt::format("  voices: {}\n", ctx.speech->describe());
    out += ctx.config.api_key.empty() ? "  API key: none (open to anyone who can connect)\n" : "  API key: required\n";
    if (join) {
        out += fmt::format("  gateway: joining {} as {} every {}s\n", join->gateway(), join->advertise(),
                           ctx.config.heartbeat);
    }
    std::fwrite(out.data(), 1, out.size(), stderr);
}

}  // namespace

Result<void> run_server(const ServerConfig& config, const std::function<void(const std::string&)>& on_listening) {
    if (auto ok = validate_config(config); !ok) return ok.error();
    auto registry = ModelRegistry::create(config);
    if (!registry) return registry.error();

    std::unique_ptr<SpeechRoutes> speech;
#ifdef HEARTH_SERVER_SPEECH
    if (config.speech) {
        auto created = SpeechRoutes::create(config);
        if (!created) return created.error();
        speech = std::move(*created);
    }
#endif
    Metrics metrics;
    asio::thread_pool blocking(1);
    auto gate = std::make_shared<PostGate>();
    SpokenReplies spoken_replies;
    ServerContext ctx{config, registry->get(), &metrics, &blocking, gate, speech.get(), &spoken_replies};
    std::unique_ptr<GatewayJoin> join;  // outlives the io_context its heartbeat runs on
    {
        asio::io_context ioc(config.http_threads);
        auto listener = net::Listener::open(ioc, {config.host, config.port, config.max_body_bytes});
        if (!listener) return listener.error();
        const std::string address = (*listener)->address();
        if (!config.join.empty()) {
            auto advertise = advertise_url(config, address);
            if (!advertise) return advertise.error();
            auto made = GatewayJoin::create(config, *advertise);
            if (!made) return made.error();
            join = std::move(*made);
        }
        (*listener)->start([&ctx](HttpConnection& conn, const HttpRequest& req) { return route_request(ctx, conn, req); },
                           [&metrics, &config](const net::RefusedRequest& r) {
                               metrics.count_request("unmatched", r.status, 0);
                               if (config.access_log) {
                                   const std::string line = net::format_access_line(r.access_record()) + "\n";
                                   std::fwrite(line.data(), 1, line.size(), stderr);
                               }
                           });
        print_banner(ctx, address, join.get());
        if (join) {
            join->start(asio::make_strand(ioc));
            if (speech) speech->warm_up();  // the gateway's /status polls list the voices
        }
        on_listening(address);
        // Draining starts by leaving the gateway, so that it stops sending requests here.
        net::run_until_signal(ioc, config.http_threads, listener->get(),
                              std::chrono::milliseconds(static_cast<int64_t>(config.drain_timeout * 1000)), [&join] {
                                  if (join) join->leave(1s);
                              });
        (*listener)->close();
        if (join) join->leave(1s);  // when there was no draining
        // Engines that finish requests from now on must not post to the dying context.
        gate->close();
        // Work on the other pools (a model load, a synthesis) completes into this
        // context: wait for it while the context still exists.
        blocking.join();
#ifdef HEARTH_SERVER_SPEECH
        if (speech) speech->shutdown();
#endif
    }  // the io_context goes: suspended handlers drop their requests' models
    return {};
}

}  // namespace hearth::server
