// Reading server-sent events (the stream format of OpenAI's APIs): used by the gateway on
// its nodes' streams and by the web UI on the server's.
#pragma once

#include <string>
#include <string_view>

namespace hearth {

// Calls `fn` with the data of each complete event in `text` (its "data:" lines joined by
// newlines); an event ends with a blank line ("\n\n" or "\r\n\r\n"). Returns the bytes
// consumed: the caller keeps the rest and calls again when more has arrived.
template <class Fn>
size_t for_each_sse_event(std::string_view text, Fn&& fn) {
    std::string data;
    size_t consumed = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) break;
        std::string_view line = text.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl + 1;
        if (line.empty()) {
            fn(std::string_view(data));
            data.clear();
            consumed = pos;
        } else if (line.rfind("data:", 0) == 0) {
            std::string_view d = line.substr(5);
            if (!d.empty() && d.front() == ' ') d.remove_prefix(1);
            if (!data.empty()) data += '\n';
            data += d;
        }
    }
    return consumed;
}

}  // namespace hearth
