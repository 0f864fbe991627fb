#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hearth::gateway {

// The gateway's own counters (per route and status, per model, retries, time to first
// byte), rendered as Prometheus text beside the node pool's. Thread-safe.
class GatewayMetrics {
public:
    void count_request(const std::string& route, const std::string& model, int status);
    void count_retry() { std::lock_guard l(mutex_); ++retries_; }
    void observe_ttfb(double seconds);
    std::string render(int queued) const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    std::map<std::string, uint64_t> models_;
    uint64_t retries_ = 0;
    const std::vector<double> bounds_{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    std::vector<uint64_t> ttfb_counts_ = std::vector<uint64_t>(13, 0);  // per bound, +Inf last
    double ttfb_sum_ = 0;
    uint64_t ttfb_count_ = 0;
};

}  // namespace hearth::gateway
