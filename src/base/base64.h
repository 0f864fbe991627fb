// Standard base64 (RFC 4648, with padding), for binary data inside JSON: audio in
// OpenAI's speech events and chat audio replies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hearth {

std::string base64_encode(std::string_view bytes);

// The bytes of a padded or unpadded base64 text; nullopt for any other character or a
// length no encoder makes.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace hearth
