#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hearth::server {

// Engine-side numbers summed over the loaded models when /metrics is scraped.
struct EngineGauges {
    int models_loaded = 0;
    int active = 0;
    int queued = 0;
};

// Server-wide counters and histograms, rendered as Prometheus text. Thread-safe.
class Metrics {
public:
    Metrics();

    void count_request(const std::string& route, int status, double seconds);
    // A finished generation: tokens and its time to first token (< 0: none produced).
    void count_generation(uint64_t prompt_tokens, uint64_t generated_tokens, double ttft_seconds);
    // Generated tokens as they stream, for the tokens-per-second gauge.
    void count_tokens(uint64_t n);

    std::string render(const EngineGauges& engines);

private:
    struct Histogram {
        std::vector<double> bounds;
        std::vector<uint64_t> counts;  // per bucket, +Inf last
        double sum = 0;
        uint64_t count = 0;
        void observe(double v);
        void render(std::string& out, const std::string& name, const std::string& help) const;
    };
    double tokens_per_second_locked();

    std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    uint64_t prompt_tokens_ = 0;
    uint64_t generated_tokens_ = 0;
    Histogram latency_, ttft_;
    // Generated tokens per wall-clock second over the last few seconds (ring of buckets).
    static constexpr int kRateWindow = 5;
    std::array<uint64_t, kRateWindow + 1> rate_buckets_{};
    int64_t rate_second_ = 0;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace hearth::server
