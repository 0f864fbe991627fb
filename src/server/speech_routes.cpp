// /v1/audio/speech and /v1/audio/voices: text to speech through tts::SpeechService.
#include "server/speech_routes.h"

#include <atomic>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>

#include <boost/asio/thread_pool.hpp>

#include <fmt/format.h>

#include "server/server_context.h"
#include "tts/speech_service.h"

namespace hearth::server {

class SpeechRoutes::Impl {
public:
    tts::SpeechServiceOptions options;
    asio::thread_pool pool{2};  // synthesis threads: never the I/O threads
    std::atomic<bool> stopping{false};

    // Created on first use, on a pool thread (loading voices takes a moment).
    const tts::SpeechService* service(std::string& error) {
        std::lock_guard lock(mutex_);
        if (!service_ && error_.empty()) {
            auto s = tts::SpeechService::create(options);
            if (s) {
                service_ = std::move(*s);
            } else {
                error_ = s.error().message;
            }
        }
        error = error_;
        return service_.get();
    }

    // The service if it was created already (never creates it).
    const tts::SpeechService* created() {
        std::lock_guard lock(mutex_);
        return service_.get();
    }

    ~Impl() { pool.join(); }

private:
    std::mutex mutex_;
    std::unique_ptr<tts::SpeechService> service_;
    std::string error_;
};

namespace {

// Audio chunks from a synthesis thread to the connection's strand (as Generation does
// for tokens).
class SpeechJob : public std::enable_shared_from_this<SpeechJob> {
public:
    SpeechJob(asio::any_io_executor ex, std::shared_ptr<PostGate> gate) : bell(ex, 1), gate_(std::move(gate)) {}

    bool push(std::span<const uint8_t> audio) {
        if (cancelled.load()) return false;
        {
            std::lock_guard lock(mutex_);
            chunks_.emplace_back(reinterpret_cast<const char*>(audio.data()), audio.size());
        }
        ring();
        return true;
    }
    void finish(std::optional<std::string> error) {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
            error_ = std::move(error);
        }
        ring();
    }
    // Drains what arrived; `done` once synthesis ended.
    void take(std::deque<std::string>& out, bool& done, std::optional<std::string>& error) {
        rung_.store(false);
        std::lock_guard lock(mutex_);
        out.swap(chunks_);
        chunks_.clear();
        done = done_;
        error = error_;
    }

    Doorbell bell;
    std::atomic<bool> cancelled{false};

private:
    void ring() {
        if (rung_.exchange(true)) return;
        gate_->post(bell.get_executor(), [self = shared_from_this()] { self->bell.try_send(error_code{}); });
    }

    std::shared_ptr<PostGate> gate_;
    std::mutex mutex_;
    std::deque<std::string> chunks_;
    bool done_ = false;
    std::optional<std::string> error_;
    std::atomic<bool> rung_{false};
};

std::optional<ApiError> parse_speech_request(const nlohmann::ordered_json& body, tts::SpeechRequest& out) {
    if (!body.is_object()) return bad_request("The request body must be a JSON object");
    auto str = [&](const char* key) -> const nlohmann::ordered_json* {
        auto it = body.find(key);
        return it == body.end() || it->is_null() ? nullptr : &*it;
    };
    const auto* model = str("model");
    if (!model || !model->is_string()) return bad_request("'model' must be a string (e.g. \"tts-1\")", "model");
    const auto* input = str("input");
    if (!input || !input->is_string() || input->get<std::string>().empty()) {
        return bad_request("'input' must be a non-empty string", "input");
    }
    out.text = input->get<std::string>();
    if (out.text.size() > 16384) return bad_request("'input' is longer than 16384 bytes", "input");
    const auto* voice = str("voice");
    if (!voice || !voice->is_string()) return bad_request("'voice' must be a string", "voice");
    out.voice = voice->get<std::string>();
    out.format = tts::AudioFormat::Mp3;  // OpenAI's default
    if (const auto* f = str("response_format")) {
        auto fmt = f->is_string() ? tts::parse_audio_format(f->get<std::string>()) : std::nullopt;
        if (!fmt) return bad_request("'response_format' must be wav, pcm, flac, mp3 or opus", "response_format");
        out.format = *fmt;
    }
    if (const auto* sp = str("speed")) {
        if (!sp->is_number() || !(sp->get<double>() >= 0.25 && sp->get<double>() <= 4.0)) {
            return bad_request("'speed' must be a number from 0.25 to 4.0", "speed");
        }
        out.speed = sp->get<float>();
    }
    return std::nullopt;
}

}  // namespace

SpeechRoutes::SpeechRoutes(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpeechRoutes::~SpeechRoutes() = default;

Result<std::unique_ptr<SpeechRoutes>> SpeechRoutes::create(const ServerConfig& config) {
    auto impl = std::make_unique<Impl>();
    impl->options.voices_dir = config.voices_dir;
    impl->options.default_voice = config.default_voice;
    impl->options.n_threads = 1;
    // "alloy=voice-a,echo=voice-b"
    std::string_view rest = config.voice_aliases;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
            return make_error(fmt::format("voice-aliases: '{}' is not NAME=VOICE", item));
        }
        impl->options.aliases.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    }
    return std::unique_ptr<SpeechRoutes>(new SpeechRoutes(std::move(impl)));
}

asio::awaitable<void> SpeechRoutes::voices(ServerContext& ctx, HttpConnection& conn) {
    std::string error;
    nlohmann::ordered_json data = nlohmann::ordered_json::array();
    co_await asio::co_spawn(
        impl_->pool,
        [&]() -> asio::awaitable<void> {
            if (const auto* s = impl_->service(error)) {
                for (const auto& v : s->voices()) {
                    data.push_back({{"id", v.id}, {"object", "voice"}, {"kind", v.kind}, {"language", v.language},
                                    {"sample_rate", v.sample_rate}, {"num_speakers", v.num_speakers}});
                }
            }
            co_return;
        },
        asio::use_awaitable);
    if (!error.empty()) {
        co_await send_error(conn, server_error(500, "speech unavailable: " + error));
        co_return;
    }
    const nlohmann::ordered_json list = {{"object", "list"}, {"data", std::move(data)}};
    co_await send_json(conn, 200, list);
}

asio::awaitable<std::vector<std::string>> SpeechRoutes::voice_ids() {
    std::vector<std::string> ids;
    // Once created, no hop: the pool's threads may all be busy synthesizing.
    if (const auto* s = impl_->created()) {
        for (const auto& v : s->voices()) ids.push_back(v.id);
        co_return ids;
    }
    co_await asio::co_spawn(
        impl_->pool,
        [&]() -> asio::awaitable<void> {
            std::string error;
            if (const auto* s = impl_->service(error)) {
                for (const auto& v : s->voices()) ids.push_back(v.id);
            }
            co_return;
        },
        asio::use_awaitable);
    co_return ids;
}

void SpeechRoutes::warm_up() {
    asio::post(impl_->pool, [impl = impl_.get()] {
        std::string error;
        impl->service(error);
    });
}

std::string SpeechRoutes::describe() const {
    // Counts what SpeechService::create will open, without opening it.
    size_t piper = 0;
    if (!impl_->options.voices_dir.empty()) {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(impl_->options.voices_dir, ec)) {
            if (e.path().extension() == ".onnx" && std::filesystem::exists(e.path().string() + ".json", ec)) ++piper;
        }
    }
    if (piper == 0) return "built-in espeak-ng";
    return fmt::format("built-in espeak-ng + {} Piper voice{} in {}", piper, piper == 1 ? "" : "s",
                       impl_->options.voices_dir);
}

asio::awaitable<void> SpeechRoutes::speech(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req) {
    const auto t_start = std::chrono::steady_clock::now();
    auto body = nlohmann::ordered_json::parse(req.body(), nullptr, false);
    tts::SpeechRequest sreq;
    std::optional<ApiError> invalid;
    if (body.is_discarded()) {
        invalid = invalid_json_body();
    } else {
        invalid = parse_speech_request(body, sreq);
    }
    if (invalid) {
        co_await send_error(conn, *invalid);
        co_return;
    }
    // Resolve the voice first, so that an unknown one is a 400 before any audio.
    std::string error;
    const tts::SpeechService* service = nullptr;
    std::optional<ApiError> voice_error;
    co_await asio::co_spawn(
        impl_->pool,
        [&]() -> asio::awaitable<void> {
            service = impl_->service(error);
            if (service) {
                auto v = service->find_voice(sreq.voice);
                if (!v) voice_error = bad_request(v.error().message, "voice", "voice_not_found");
            }
            co_return;
        },
        asio::use_awaitable);
    if (!service) {
        co_await send_error(conn, server_error(500, "speech unavailable: " + error));
        co_return;
    }
    if (voice_error) {
        co_await send_error(conn, *voice_error);
        co_return;
    }

    auto job = std::make_shared<SpeechJob>(co_await asio::this_coro::executor, ctx.gate);
    // Synthesis stops when the handler goes without finishing (client gone, timeout,
    // error, shutdown).
    struct CancelOnExit {
        std::shared_ptr<SpeechJob> job;
        ~CancelOnExit() { job->cancelled = true; }
    } cancel_on_exit{job};
    asio::post(impl_->pool, [job, service, sreq, impl = impl_.get()] {
        auto r = service->synthesize(sreq, [&](std::span<const uint8_t> audio) {
            return !impl->stopping.load() && job->push(audio);
        });
        job->finish(r ? std::nullopt : std::optional<std::string>(r.error().message));
    });
    const auto deadline = request_deadline(ctx, t_start);
    bool started = false;
    for (;;) {
        std::deque<std::string> chunks;
        bool done = false;
        std::optional<std::string> failed;
        job->take(chunks, done, failed);
        if (!started && (!chunks.empty() || done)) {
            if (failed && chunks.empty()) {
                co_await send_error(conn, bad_request("speech synthesis failed: " + *failed, "input"));
                co_return;
            }
            if (!co_await conn.begin_stream(200, tts::audio_format_mime(sreq.format))) break;
            started = true;
        }
        bool ok = true;
        for (const auto& c : chunks) {
            if (!(ok = co_await conn.write_chunk(c))) break;
        }
        if (!ok) break;
        if (done) {
            // A failure after audio went out can only be signalled by cutting the stream.
            if (failed) {
                conn.close();
            } else {
                co_await conn.end_stream();
            }
            co_return;
        }
        const auto w = co_await conn.wait(job->bell, deadline);
        if (w == HttpConnection::WaitResult::ClientGone) break;
        if (w == HttpConnection::WaitResult::Deadline) {
            job->cancelled = true;
            if (!started) {
                co_await send_error(conn, server_error(504, "The request timed out", "timeout"));
            } else {
                conn.close();
            }
            co_return;
        }
    }
}

void SpeechRoutes::shutdown() {
    impl_->stopping = true;
    impl_->pool.join();
}

}  // namespace hearth::server
