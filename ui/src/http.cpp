#include "http.h"

#include <emscripten/val.h>

#include <cstdio>

#include "base/sse_events.h"

namespace hearth::ui {
namespace {

constexpr const char* kApiKeyStorage = "hearth.apiKey";

val request_init(const char* method, const std::string* body, val signal = val::undefined()) {
    val headers = val::object();
    if (body) headers.set("Content-Type", std::string("application/json"));
    if (const std::string key = api_key(); !key.empty()) headers.set("Authorization", "Bearer " + key);
    val init = val::object();
    init.set("method", std::string(method));
    init.set("headers", headers);
    if (body) init.set("body", *body);
    if (!signal.isUndefined()) init.set("signal", signal);
    return init;
}

RequestError network_error(val reason) {
    RequestError e;
    e.message = "Cannot reach the server: " + describe(reason);
    e.aborted = !reason.isUndefined() && !reason.isNull() && reason["name"].isString() &&
                reason["name"].as<std::string>() == "AbortError";
    if (e.aborted) e.message = "Stopped";
    return e;
}

// The error of a non-2xx reply, from its OpenAI-shaped body when it has one.
RequestError http_error(int status, const std::string& body) {
    RequestError e;
    e.status = status;
    const Json j = Json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
        e.message = text_field(j["error"], "message");
        e.code = text_field(j["error"], "code");
    }
    if (e.message.empty()) e.message = "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 200));
    return e;
}

// Reads a failed reply's body, then reports its error.
void report_http_error(val response, std::function<void(const RequestError&)> report) {
    const int status = response["status"].as<int>();
    then(
        response.call<val>("text"), [status, report](val text) { report(http_error(status, text.as<std::string>())); },
        [status, report](val) { report(http_error(status, "")); });
}

void fetch_body(const std::string& path, const Json* body, const char* reader,
                std::function<void(val value, const RequestError* error)> done) {
    const std::string text = body ? body->dump() : std::string();
    val init = request_init(body ? "POST" : "GET", body ? &text : nullptr);
    then(
        val::global("fetch")(path, init),
        [done, reader](val response) {
            if (!response["ok"].as<bool>()) {
                report_http_error(response, [done](const RequestError& e) { done(val::undefined(), &e); });
                return;
            }
            then(
                response.call<val>(reader), [done](val value) { done(value, nullptr); },
                [done](val reason) {
                    const RequestError e = network_error(reason);
                    done(val::undefined(), &e);
                });
        },
        [done](val reason) {
            const RequestError e = network_error(reason);
            done(val::undefined(), &e);
        });
}

}  // namespace

std::string api_key() { return stored(kApiKeyStorage); }
void set_api_key(const std::string& key) { store(kApiKeyStorage, key); }

void fetch_json(const std::string& path, const Json* body, JsonDone done) {
    fetch_body(path, body, "text", [done](val value, const RequestError* error) {
        if (error) return done(nullptr, error);
        const Json j = Json::parse(value.as<std::string>(), nullptr, false);
        if (j.is_discarded()) {
            const RequestError e{200, "The server's reply is not JSON", "", false};
            return done(nullptr, &e);
        }
        done(&j, nullptr);
    });
}

void fetch_text(const std::string& path, TextDone done) {
    fetch_body(path, nullptr, "text", [done](val value, const RequestError* error) {
        if (error) return done(nullptr, error);
        const std::string text = value.as<std::string>();
        done(&text, nullptr);
    });
}

void fetch_blob(const std::string& path, const Json& body, BlobDone done) {
    fetch_body(path, &body, "blob", std::move(done));
}

std::shared_ptr<EventStream> EventStream::post(const std::string& path, const Json& body, OnEvent on_event, OnEnd on_end) {
    auto stream = std::make_shared<EventStream>();
    stream->on_event_ = std::move(on_event);
    stream->on_end_ = std::move(on_end);
    stream->controller_ = val::global("AbortController").new_();
    const std::string text = body.dump();
    val init = request_init("POST", &text, stream->controller_["signal"]);
    then(
        val::global("fetch")(path, init),
        [stream](val response) {
            if (!response["ok"].as<bool>()) {
                report_http_error(response, [stream](const RequestError& e) {
                    if (!stream->aborted_) stream->finish(&e);
                });
                return;
            }
            if (stream->ended_) return;
            val type = response["headers"].call<val>("get", std::string("Content-Type"));
            if (type.isNull() || type.as<std::string>().find("text/event-stream") == std::string::npos) {
                const RequestError e{response["status"].as<int>(), "The server did not answer with an event stream", "", false};
                return stream->finish(&e);
            }
            stream->reader_ = response["body"].call<val>("getReader");
            stream->read_next(stream);
        },
        [stream](val reason) {
            const RequestError e = network_error(reason);
            stream->finish(&e);
        });
    return stream;
}

void EventStream::abort() {
    if (ended_) return;
    aborted_ = true;
    controller_.call<void>("abort");
    const RequestError e{0, "Stopped", "", true};
    finish(&e);
}

void EventStream::deliver(std::string_view data) {
    if (ended_) return;
    if (data == "[DONE]") {
        saw_done_ = true;
        return;
    }
    try {
        on_event_(std::string(data));
    } catch (const std::exception& e) {  // one bad event must not stall the stream
        std::fprintf(stderr, "hearth-ui: %s\n", e.what());
    }
}

void EventStream::read_next(std::shared_ptr<EventStream> self) {
    then(
        reader_.call<val>("read"),
        [self](val chunk) {
            if (self->ended_) return;
            if (chunk["done"].as<bool>()) {
                if (self->saw_done_) return self->finish(nullptr);
                const RequestError e{0, "The reply ended early: the connection closed before the server finished", "", false};
                return self->finish(&e);
            }
            val bytes = chunk["value"];
            const size_t n = bytes["length"].as<size_t>();
            const size_t old = self->pending_.size();
            self->pending_.resize(old + n);
            val view(emscripten::typed_memory_view(n, reinterpret_cast<unsigned char*>(self->pending_.data() + old)));
            view.call<void>("set", bytes);
            const size_t used = for_each_sse_event(self->pending_, [&](std::string_view data) { self->deliver(data); });
            self->pending_.erase(0, used);
            if (!self->ended_) self->read_next(self);
        },
        [self](val reason) {
            RequestError e = network_error(reason);
            e.aborted = e.aborted || self->aborted_;
            self->finish(&e);
        });
}

void EventStream::finish(const RequestError* error) {
    if (ended_) return;
    ended_ = true;
    const auto keep = shared_from_this();  // on_end_ may drop the owner's last reference
    on_end_(error);
}

std::string text_field(const Json& j, const char* key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double number_field(const Json& j, const char* key, double fallback) {
    if (!j.is_object()) return fallback;
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace hearth::ui
