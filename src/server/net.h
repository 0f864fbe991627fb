// The HTTP layer's names (hearth_net: connections, error objects, SSE framing), used
// unqualified throughout the server as they were before that layer was split out.
#pragma once

#include "net/asio.h"
#include "net/errors.h"
#include "net/http_connection.h"
#include "net/responses.h"
#include "net/sse.h"

namespace hearth::server {
using namespace hearth::net;
}  // namespace hearth::server
