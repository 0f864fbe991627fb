// The HTTP layer's names (hearth_net), used unqualified throughout the gateway.
#pragma once

#include "net/access_log.h"
#include "net/request.h"
#include "net/responses.h"
#include "net/asio.h"
#include "net/errors.h"
#include "net/http_client.h"
#include "net/http_connection.h"
#include "net/sse.h"

namespace hearth::gateway {
using namespace hearth::net;
}  // namespace hearth::gateway
