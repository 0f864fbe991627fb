#include "webui/webui.h"

#include <filesystem>

#include "base/mapped_file.h"
#include "net/errors.h"
#include "net/responses.h"
#include "webui/embedded_files.h"
#include "webui/static_files.h"

namespace hearth::webui {
namespace {
namespace fs = std::filesystem;

constexpr const char* kPagePolicy =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

net::asio::awaitable<void> serve_from_disk(net::HttpConnection& conn, const net::HttpRequest& req,
                                      const std::string& url_path, const std::string& ui_dir) {
    auto file = resolve_static_path(ui_dir, url_path);
    std::error_code ec;
    if (!file || !fs::is_regular_file(*file, ec)) {
        co_await net::send_error(conn, net::not_found("Not found: " + url_path, "not_found"));
        co_return;
    }
    auto bytes = read_text_file(*file);
    if (!bytes) {
        co_await net::send_error(conn, net::server_error(500, "cannot read " + url_path));
        co_return;
    }
    std::string body = req.method() == net::http::verb::head ? std::string() : std::move(bytes).value();
    co_await conn.send(200, mime_type(*file), std::move(body));
}

}  // namespace

bool embedded() { return !embedded_files().empty(); }

net::asio::awaitable<void> serve(net::HttpConnection& conn, const net::HttpRequest& req, const std::string& url_path,
                            const std::string& ui_dir) {
    if (!ui_dir.empty()) {
        co_await serve_from_disk(conn, req, url_path, ui_dir);
        co_return;
    }
    const EmbeddedFile* file = find_embedded_file(url_path);
    if (!file) {
        const std::string why = embedded() ? "Not found: " + url_path
                                           : "Not found: " + url_path + " (this hearth was built without its web UI: "
                                             "install emscripten and rebuild, or pass --ui-dir)";
        co_await net::send_error(conn, net::not_found(why, "not_found"));
        co_return;
    }
    // The names do not change between builds: the browser asks again each time and gets
    // 304 while the bytes are the same.
    net::HttpConnection::Headers headers = {{"Cache-Control", "no-cache"}, {"ETag", std::string(file->etag)},
                                            {"X-Content-Type-Options", "nosniff"}};
    // The page runs only its own loader and module: a reply that got past the Markdown
    // escaping still could not load or run a script, nor send the API key anywhere.
    if (file->path == "/index.html") headers.emplace_back("Content-Security-Policy", kPagePolicy);
    if (auto it = req.find(net::http::field::if_none_match); it != req.end() && it->value() == file->etag) {
        co_await conn.send(304, mime_type(file->path), std::string(), headers);
        co_return;
    }
    std::string body = req.method() == net::http::verb::head ? std::string() : std::string(file->bytes);
    co_await conn.send(200, mime_type(file->path), std::move(body), headers);
}

}  // namespace hearth::webui
