#include "server/metrics.h"

#include <fmt/format.h>

namespace hearth::server {

Metrics::Metrics() : start_(std::chrono::steady_clock::now()) {
    latency_.bounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    ttft_.bounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    latency_.counts.assign(latency_.bounds.size() + 1, 0);
    ttft_.counts.assign(ttft_.bounds.size() + 1, 0);
}

void Metrics::Histogram::observe(double v) {
    size_t i = 0;
    while (i < bounds.size() && v > bounds[i]) ++i;
    ++counts[i];
    sum += v;
    ++count;
}

void Metrics::Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
        cumulative += counts[i];
        out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds[i], cumulative);
    }
    cumulative += counts.back();
    out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative, name, sum, name,
                       count);
}

void Metrics::count_request(const std::string& route, int status, double seconds) {
    std::lock_guard lock(mutex_);
    ++requests_[{route, status}];
    latency_.observe(seconds);
}

void Metrics::count_generation(uint64_t prompt_tokens, uint64_t generated_tokens, double ttft_seconds) {
    std::lock_guard lock(mutex_);
    prompt_tokens_ += prompt_tokens;
    generated_tokens_ += generated_tokens;
    if (ttft_seconds >= 0) ttft_.observe(ttft_seconds);
}

void Metrics::count_tokens(uint64_t n) {
    std::lock_guard lock(mutex_);
    tokens_per_second_locked();  // advances the ring to the current second
    rate_buckets_[rate_second_ % (kRateWindow + 1)] += n;
}

double Metrics::tokens_per_second_locked() {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_).count();
    // Clear the buckets of seconds that passed without tokens.
    for (int64_t s = rate_second_ + 1; s <= now && s <= rate_second_ + kRateWindow + 1; ++s) {
        rate_buckets_[s % (kRateWindow + 1)] = 0;
    }
    rate_second_ = std::max(rate_second_, now);
    // The current second is incomplete: average over the kRateWindow full seconds before it.
    uint64_t total = 0;
    for (int i = 0; i <= kRateWindow; ++i) {
        if (i != rate_second_ % (kRateWindow + 1)) total += rate_buckets_[i];
    }
    const int64_t seconds = std::min<int64_t>(kRateWindow, std::max<int64_t>(1, now));
    return static_cast<double>(total) / static_cast<double>(seconds);
}

std::string Metrics::render(const EngineGauges& engines) {
    std::lock_guard lock(mutex_);
    std::string out;
    out += "# HELP hearth_requests_total HTTP requests by route and status.\n# TYPE hearth_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
        out += fmt::format("hearth_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
    }
    out += fmt::format(
        "# HELP hearth_prompt_tokens_total Prompt tokens of finished requests.\n"
        "# TYPE hearth_prompt_tokens_total counter\nhearth_prompt_tokens_total {}\n"
        "# HELP hearth_generated_tokens_total Generated tokens of finished requests.\n"
        "# TYPE hearth_generated_tokens_total counter\nhearth_generated_tokens_total {}\n",
        prompt_tokens_, generated_tokens_);
    out += fmt::format(
        "# HELP hearth_queue_depth Requests waiting for a sequence slot.\n"
        "# TYPE hearth_queue_depth gauge\nhearth_queue_depth {}\n"
        "# HELP hearth_active_sequences Sequences being generated.\n"
        "# TYPE hearth_active_sequences gauge\nhearth_active_sequences {}\n"
        "# HELP hearth_models_loaded Models in memory.\n"
        "# TYPE hearth_models_loaded gauge\nhearth_models_loaded {}\n",
        engines.queued, engines.active, engines.models_loaded);
    out += fmt::format(
        "# HELP hearth_tokens_per_second Generated tokens per second over the last {} seconds.\n"
        "# TYPE hearth_tokens_per_second gauge\nhearth_tokens_per_second {:.3f}\n",
        kRateWindow, tokens_per_second_locked());
    latency_.render(out, "hearth_request_duration_seconds", "Time from request to the end of the response.");
    ttft_.render(out, "hearth_time_to_first_token_seconds", "Time from request to the first generated token.");
    return out;
}

}  // namespace hearth::server
