// The UI's files as built by ui/ and embedded into the binary (.incbin, see
// embedded_files.S.in); none in a build without emscripten.
#pragma once

#include <span>
#include <string_view>

namespace hearth::webui {

struct EmbeddedFile {
    std::string_view path;  // URL path: "/index.html", "/hearth-ui.js", "/hearth-ui.wasm"
    std::string_view bytes;
    std::string_view etag;  // quoted, from the bytes: a reload revalidates with If-None-Match
};

std::span<const EmbeddedFile> embedded_files();

// The file a URL path names ("/" is /index.html), or nullptr.
const EmbeddedFile* find_embedded_file(std::string_view url_path);

}  // namespace hearth::webui
