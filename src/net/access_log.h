#pragma once

#include <cstdint>
#include <string>

namespace hearth::net {

// One request as the access log tells it; -1 / empty where it does not apply.
struct AccessRecord {
    std::string id;      // X-Request-Id
    std::string method;
    std::string route;
    std::string model;
    std::string node;    // the gateway's upstream
    int status = 0;
    int64_t prompt_tokens = -1;
    int64_t completion_tokens = -1;
    double ttft_ms = -1;
    double ms = 0;
};

// "2026-12-07T21:40:00.123Z req-1f... POST /v1/chat/completions model=m status=200
//  prompt=12 completion=40 ttft_ms=35.1 ms=420.7" (node=... when set). Fields are cut to
// 128 bytes, spaces and control bytes become '?'.
std::string format_access_line(const AccessRecord& r);

}  // namespace hearth::net
