#include "webui/embedded_files.h"

#include <array>
#include <cstdint>
#include <string>

namespace hearth::webui {

#ifdef HEARTH_WEBUI_EMBEDDED
extern "C" {
extern const char hearth_webui_index_html[], hearth_webui_index_html_end[];
extern const char hearth_webui_js[], hearth_webui_js_end[];
extern const char hearth_webui_wasm[], hearth_webui_wasm_end[];
}

namespace {

std::string_view between(const char* begin, const char* end) { return {begin, size_t(end - begin)}; }

// FNV-1a of the bytes: an entity tag that changes whenever the file does.
std::string etag_of(std::string_view bytes) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    static const char* kHex = "0123456789abcdef";
    std::string tag = "\"";
    for (int shift = 60; shift >= 0; shift -= 4) tag += kHex[(h >> shift) & 15];
    return tag + "\"";
}

struct Table {
    std::array<std::string, 3> etags;
    std::array<EmbeddedFile, 3> files;
    Table() {
        const std::array<std::pair<std::string_view, std::string_view>, 3> raw = {{
            {"/index.html", between(hearth_webui_index_html, hearth_webui_index_html_end)},
            {"/hearth-ui.js", between(hearth_webui_js, hearth_webui_js_end)},
            {"/hearth-ui.wasm", between(hearth_webui_wasm, hearth_webui_wasm_end)},
        }};
        for (size_t i = 0; i < raw.size(); ++i) {
            etags[i] = etag_of(raw[i].second);
            files[i] = EmbeddedFile{raw[i].first, raw[i].second, etags[i]};
        }
    }
};

}  // namespace

std::span<const EmbeddedFile> embedded_files() {
    static const Table table;
    return table.files;
}
#else
std::span<const EmbeddedFile> embedded_files() { return {}; }
#endif

const EmbeddedFile* find_embedded_file(std::string_view url_path) {
    if (url_path == "/") url_path = "/index.html";
    for (const auto& f : embedded_files())
        if (f.path == url_path) return &f;
    return nullptr;
}

}  // namespace hearth::webui
