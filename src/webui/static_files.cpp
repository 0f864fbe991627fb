// Files of a UI folder on disk (--ui-dir) and their content types.
#include "webui/static_files.h"

#include <algorithm>
#include <filesystem>

namespace hearth::webui {
namespace fs = std::filesystem;

std::optional<std::string> resolve_static_path(const std::string& root, std::string_view url_path) {
    if (url_path.empty() || url_path.front() != '/') return std::nullopt;
    std::string rel(url_path.substr(1));
    if (rel.empty() || rel.back() == '/') rel += "index.html";
    // Reject any "." or ".." segment and backslashes before touching the file system.
    size_t start = 0;
    while (start <= rel.size()) {
        const size_t end = std::min(rel.find('/', start), rel.size());
        const std::string_view seg(rel.data() + start, end - start);
        if (seg == "." || seg == ".." || (seg.empty() && end != rel.size())) return std::nullopt;
        start = end + 1;
    }
    if (rel.find('\\') != std::string::npos) return std::nullopt;
    std::error_code ec;
    const fs::path base = fs::canonical(root, ec);
    if (ec) return std::nullopt;
    const fs::path full = fs::weakly_canonical(base / rel, ec);
    if (ec) return std::nullopt;
    // Symlinks may still point out of the root: compare canonical prefixes.
    auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
    if (b != base.end()) return std::nullopt;
    return full.string();
}

std::string mime_type(std::string_view path) {
    static const std::pair<const char*, const char*> types[] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".json", "application/json"},
        {".map", "application/json"},           {".svg", "image/svg+xml"},
        {".png", "image/png"},                  {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},                {".gif", "image/gif"},
        {".webp", "image/webp"},                {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},  {".wasm", "application/wasm"},
        {".woff", "font/woff"},                 {".woff2", "font/woff2"},
        {".ttf", "font/ttf"},                   {".wav", "audio/wav"},
        {".mp3", "audio/mpeg"},
    };
    const auto dot = path.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    std::string ext(path.substr(dot));
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const auto& [e, t] : types) {
        if (ext == e) return t;
    }
    return "application/octet-stream";
}

}  // namespace hearth::webui
