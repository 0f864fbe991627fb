#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hearth::webui {

// The file under `root` that the decoded URL path names ("/" -> index.html), or nullopt
// when the path tries to leave the root (.., symlinks out, absolute tricks).
std::optional<std::string> resolve_static_path(const std::string& root, std::string_view url_path);

// Content-Type from the file extension (application/octet-stream when unknown).
std::string mime_type(std::string_view path);

}  // namespace hearth::webui
