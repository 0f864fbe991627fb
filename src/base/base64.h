// Standard base64 (RFC 4648, with padding), for binary data inside JSON: audio in
// OpenAI's speech events and chat audio replies.
#pragma once

#include <string>
#include <string_view>

namespace hearth {

std::string base64_encode(std::string_view bytes);

}  // namespace hearth
