// hearth_webui: the browser UI that `hearth serve` and `hearth gateway` offer at /. The UI
// itself is C++ compiled to WebAssembly (ui/, built with emscripten); its files are embedded
// into this library at build time. A UI folder on disk (--ui-dir) replaces them, for UI
// development. Owns GET / and the files below it; every other route belongs to the caller.
#pragma once

#include <string>
#include <string_view>

#include "net/asio.h"
#include "net/http_connection.h"

namespace hearth::webui {

// Whether this build embeds the UI (it needs emscripten at build time).
bool embedded();

// Answers a GET or HEAD for `url_path` (decoded, starting with "/"): from `ui_dir` when it
// is set, else from the embedded files; 404 (an OpenAI-shaped error) for anything else.
net::asio::awaitable<void> serve(net::HttpConnection& conn, const net::HttpRequest& req, const std::string& url_path,
                            const std::string& ui_dir);

}  // namespace hearth::webui
