#include "net/access_log.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace hearth::net {
namespace {

std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const auto t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

// A field as one word of the line: client-chosen text (a model name) can neither add
// fields nor forge lines.
std::string or_dash(const std::string& s) {
    if (s.empty()) return "-";
    std::string out;
    for (char c : std::string_view(s).substr(0, 128)) out += c > ' ' && c <= '~' ? c : '?';
    return out;
}
std::string or_dash(int64_t v) { return v < 0 ? "-" : std::to_string(v); }

}  // namespace

std::string format_access_line(const AccessRecord& r) {
    std::string line = fmt::format("{} {} {} {} model={}", utc_now(), or_dash(r.id), or_dash(r.method), or_dash(r.route),
                                   or_dash(r.model));
    if (!r.node.empty()) line += " node=" + r.node;
    line += fmt::format(" status={} prompt={} completion={} ttft_ms={} ms={:.1f}", r.status, or_dash(r.prompt_tokens),
                        or_dash(r.completion_tokens), r.ttft_ms < 0 ? std::string("-") : fmt::format("{:.1f}", r.ttft_ms),
                        r.ms);
    return line;
}

}  // namespace hearth::net
