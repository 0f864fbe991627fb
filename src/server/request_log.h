#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hearth::server {

// One request as the access log (net::format_access_line) sees it: the router fills in
// who and where, the completion handlers what was generated. Lives on the router's
// coroutine frame for the request's duration and handlers get it by reference, so
// nothing is shared between requests.
struct RequestRecord {
    std::string id;  // X-Request-Id, sent back on the response
    std::string method;
    std::string route = "unmatched";  // as /metrics labels it
    std::chrono::steady_clock::time_point start;
    std::string model;               // as the request names it; empty: none
    int64_t prompt_tokens = -1;      // -1: not a completion request (or it ended before one ran)
    int64_t completion_tokens = -1;
    double ttft_seconds = -1;        // arrival -> first generated token; -1: none
};

}  // namespace hearth::server
