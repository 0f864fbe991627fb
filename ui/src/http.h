// Requests to the hearth server (or gateway) the page came from: JSON, streamed
// server-sent events and binary bodies, with the API key kept in the browser. Errors arrive
// as values (status and the server's OpenAI-shaped message), never as exceptions.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "js.h"

namespace hearth::ui {

using Json = nlohmann::json;

// What went wrong with a request: HTTP status (0 for a network failure or an abort) and
// the message and code of the server's error object.
struct RequestError {
    int status = 0;
    std::string message;
    std::string code;
    bool aborted = false;
};

std::string api_key();
void set_api_key(const std::string& key);

// GET (body null) or POST JSON; `done` gets the parsed reply or an error.
using JsonDone = std::function<void(const Json* reply, const RequestError* error)>;
void fetch_json(const std::string& path, const Json* body, JsonDone done);
// GET a text body (Prometheus metrics).
using TextDone = std::function<void(const std::string* text, const RequestError* error)>;
void fetch_text(const std::string& path, TextDone done);
// POST JSON, the reply as a Blob (audio).
using BlobDone = std::function<void(val blob, const RequestError* error)>;
void fetch_blob(const std::string& path, const Json& body, BlobDone done);

// A POST whose reply is a stream of server-sent events: `on_event` gets each event's data
// as it arrives, `on_end` once at the end (error null when the stream ended normally).
class EventStream : public std::enable_shared_from_this<EventStream> {
public:
    using OnEvent = std::function<void(const std::string& data)>;
    using OnEnd = std::function<void(const RequestError* error)>;
    static std::shared_ptr<EventStream> post(const std::string& path, const Json& body, OnEvent on_event, OnEnd on_end);
    // Cancels the request; on_end gets an error with aborted set (right away: no event
    // is delivered after this).
    void abort();

private:
    void read_next(std::shared_ptr<EventStream> self);
    void deliver(std::string_view data);
    void finish(const RequestError* error);

    val controller_ = val::undefined();
    val reader_ = val::undefined();
    std::string pending_;
    OnEvent on_event_;
    OnEnd on_end_;
    bool ended_ = false;
    bool aborted_ = false;
    bool saw_done_ = false;  // the server's "[DONE]": a stream closed without it was cut
};

// Safe reading of JSON the server sent: "" / fallback for a missing or mistyped field.
std::string text_field(const Json& j, const char* key);
double number_field(const Json& j, const char* key, double fallback = 0);

}  // namespace hearth::ui
