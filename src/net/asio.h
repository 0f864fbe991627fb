#pragma once

// The Boost.Asio/Beast names the server uses, in one place.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace hearth::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

using HttpRequest = http::request<http::string_body>;
// Rung (from any thread, through a post to the connection's strand) when a
// generation has new events; capacity 1, extra rings are dropped.
using Doorbell = asio::experimental::channel<void(error_code)>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace hearth::net
