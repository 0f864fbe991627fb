#include "gateway/probe.h"

#include <fmt/format.h>

namespace hearth::gateway {
namespace {

using namespace std::chrono_literals;

net::ClientRequest get(const std::string& target, const std::string& api_key) {
    net::ClientRequest r;
    r.target = target;
    if (!api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + api_key);
    return r;
}

std::string excerpt(const std::string& body) {
    std::string s = body.substr(0, 120);
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return s;
}

Result<NodeReport> parse_status(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("object", "") != "hearth.status" || !j.contains("models") ||
        !j["models"].is_array())
        return make_error("answered /status with something that is not hearth's status: " + excerpt(body));
    NodeReport r;
    r.hearth = true;
    try {
        for (const auto& m : j["models"]) r.models[m.at("id").get<std::string>()] = m.value("loaded", false);
        if (j.contains("voices"))
            for (const auto& v : j["voices"]) r.voices.push_back(v.get<std::string>());
        if (j.contains("speech_models"))
            for (const auto& m : j["speech_models"]) r.speech_models.push_back(m.get<std::string>());
        r.slots_total = j.value("slots_total", 0);
        r.slots_busy = j.value("slots_busy", 0);
        r.queued = j.value("queued", 0);
    } catch (const nlohmann::json::exception& e) {
        return make_error(std::string("answered /status with malformed fields: ") + e.what());
    }
    return r;
}

Result<NodeReport> parse_models(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array())
        return make_error("answered /v1/models with something that is not a model list: " + excerpt(body));
    NodeReport r;
    for (const auto& m : j["data"]) {
        if (!m.is_object() || !m.contains("id") || !m["id"].is_string())
            return make_error("answered /v1/models with an entry without an id");
        r.models[m["id"].get<std::string>()] = true;
    }
    return r;
}

}  // namespace

asio::awaitable<Result<NodeReport>> probe_node(asio::any_io_executor ex, const NodePool::ProbeTarget& target,
                                               const net::ClientTimeouts& timeouts) {
    using Out = Result<NodeReport>;
    if (!target.known_foreign) {
        auto status = co_await net::fetch(ex, target.url, get("/status", target.api_key), timeouts, 1u << 20);
        if (!status) co_return Out(status.error());
        if (status->status == 401) co_return Out(make_error("refused the gateway's API key for the node"));
        if (status->status == 200) {
            auto report = parse_status(status->body);
            if (report) co_return report;
        }
        // Anything else (another server's /status, 404, ...): ask the OpenAI route.
    }
    auto models = co_await net::fetch(ex, target.url, get("/v1/models", target.api_key), timeouts, 4u << 20);
    if (!models) co_return Out(models.error());
    if (models->status == 401) co_return Out(make_error("refused the gateway's API key for the node"));
    if (models->status != 200)
        co_return Out(make_error(fmt::format("answered /v1/models with HTTP {}: {}", models->status, excerpt(models->body))));
    co_return parse_models(models->body);
}

namespace {

// A coroutine of its own (not a lambda): its arguments live in its frame.
asio::awaitable<void> probe_and_record(NodePool& pool, NodePool::ProbeTarget target, net::ClientTimeouts timeouts) {
    auto report = co_await probe_node(co_await asio::this_coro::executor, target, timeouts);
    if (report) {
        pool.probe_succeeded(target.id, std::move(*report));
    } else {
        pool.node_failed(target.id, report.error().message);
    }
}

}  // namespace

asio::awaitable<void> probe_loop(NodePool& pool, const GatewayConfig& config) {
    auto ex = co_await asio::this_coro::executor;
    const auto probe_timeout = std::chrono::milliseconds(
        static_cast<int64_t>(std::max(1000.0, config.connect_timeout * 1000)));
    const net::ClientTimeouts timeouts{std::chrono::milliseconds(static_cast<int64_t>(config.connect_timeout * 1000)),
                                       probe_timeout, probe_timeout};
    asio::steady_timer tick(ex);
    for (;;) {
        for (auto& target : pool.due_probes(Clock::now())) {
            asio::co_spawn(ex, probe_and_record(pool, std::move(target), timeouts), asio::detached);
        }
        tick.expires_after(20ms);
        co_await tick.async_wait(use_tuple);
    }
}

}  // namespace hearth::gateway
