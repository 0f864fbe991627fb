#include "gateway/metrics.h"

#include <fmt/format.h>

namespace hearth::gateway {

void GatewayMetrics::count_request(const std::string& route, const std::string& model, int status) {
    std::lock_guard l(mutex_);
    ++requests_[{route, status}];
    if (!model.empty()) ++models_[model];
}

void GatewayMetrics::observe_ttfb(double seconds) {
    std::lock_guard l(mutex_);
    size_t i = 0;
    while (i < bounds_.size() && seconds > bounds_[i]) ++i;
    ++ttfb_counts_[i];
    ttfb_sum_ += seconds;
    ++ttfb_count_;
}

std::string GatewayMetrics::render(int queued) const {
    std::lock_guard l(mutex_);
    std::string out;
    out += "# HELP hearth_gateway_requests_total Requests answered by the gateway.\n";
    out += "# TYPE hearth_gateway_requests_total counter\n";
    for (const auto& [key, n] : requests_)
        out += fmt::format("hearth_gateway_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
    out += "# HELP hearth_gateway_model_requests_total Requests per requested model.\n";
    out += "# TYPE hearth_gateway_model_requests_total counter\n";
    for (const auto& [model, n] : models_) {
        std::string m;
        for (char c : model) {
            if (c == '"' || c == '\\') m += '\\';
            m += c == '\n' ? ' ' : c;
        }
        out += fmt::format("hearth_gateway_model_requests_total{{model=\"{}\"}} {}\n", m, n);
    }
    out += "# HELP hearth_gateway_retries_total Requests sent again to another node after one failed before answering.\n";
    out += "# TYPE hearth_gateway_retries_total counter\n";
    out += fmt::format("hearth_gateway_retries_total {}\n", retries_);
    out += "# HELP hearth_gateway_queued Requests waiting at the gateway for a node.\n";
    out += "# TYPE hearth_gateway_queued gauge\n";
    out += fmt::format("hearth_gateway_queued {}\n", queued);
    out += "# HELP hearth_gateway_time_to_first_byte_seconds From the request to the node's first response byte.\n";
    out += "# TYPE hearth_gateway_time_to_first_byte_seconds histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += ttfb_counts_[i];
        out += fmt::format("hearth_gateway_time_to_first_byte_seconds_bucket{{le=\"{}\"}} {}\n", bounds_[i], cumulative);
    }
    cumulative += ttfb_counts_.back();
    out += fmt::format("hearth_gateway_time_to_first_byte_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    out += fmt::format("hearth_gateway_time_to_first_byte_seconds_sum {}\n", ttfb_sum_);
    out += fmt::format("hearth_gateway_time_to_first_byte_seconds_count {}\n", ttfb_count_);
    return out;
}

}  // namespace hearth::gateway
