#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "net/http_client.h"
#include "server/config.h"
#include "server/net.h"

namespace hearth::server {

// The URL a gateway should call this server at: config.advertise when set, else the
// bound address ("http://127.0.0.1:8080"), with this host's name in place of 0.0.0.0 or
// :: (an address nobody can call).
Result<std::string> advertise_url(const ServerConfig& config, const std::string& bound_address);

// Membership in a gateway (config.join): a heartbeat POSTs {"url","api_key","heartbeat"}
// to <join>/gateway/join every config.heartbeat seconds, so the gateway adds this
// server and drops it when the heartbeats stop; leave() tells it at shutdown. Logs on
// stderr only when the state changes (registered, unreachable, refused).
class GatewayJoin {
public:
    // `config` is validated (join parses as a URL).
    static Result<std::unique_ptr<GatewayJoin>> create(const ServerConfig& config, std::string advertise);

    // Runs the heartbeat on `ex` until its io_context stops.
    void start(const asio::any_io_executor& ex);
    // POSTs <join>/gateway/leave and waits for the answer at most `limit`; best effort
    // (a gateway that is down learns it from the missing heartbeats). Call once the
    // server's io_context has stopped: runs its own.
    // Later calls do nothing; heartbeats stop first, so that none joins again after.
    void leave(std::chrono::milliseconds limit);

    std::string gateway() const { return gateway_.to_string(); }
    const std::string& advertise() const { return advertise_; }

private:
    GatewayJoin() = default;
    asio::awaitable<void> heartbeat_loop();
    std::vector<std::pair<std::string, std::string>> auth_headers() const;
    void report(const Result<net::ClientResponse>& r);

    net::Url gateway_;
    std::string advertise_;
    std::string join_key_;
    std::string api_key_;
    double heartbeat_seconds_ = 2;
    std::string state_;  // the last state logged; touched by the heartbeat coroutine only
    std::atomic<bool> left_{false};
};

}  // namespace hearth::server
