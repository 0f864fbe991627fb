// /v1/audio/speech and /v1/audio/voices: text to speech through tts::SpeechService.
#include "server/speech_routes.h"

#include <atomic>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include <fmt/format.h>

#include "base/base64.h"
#include "base/utf8.h"
#include "net/request.h"
#include "server/server_context.h"
#include "server/spoken_reply.h"
#include "tts/speech_service.h"

namespace hearth::server {

class SpeechRoutes::Impl {
public:
    tts::SpeechServiceOptions options;
    // Synthesis threads, never the I/O threads: one per core (at least two), shared by
    // speech requests and spoken replies, which take turns sentence by sentence.
    asio::thread_pool pool{std::max(2u, std::thread::hardware_concurrency())};
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
    void finish(std::optional<std::string> error, const tts::SpeechService::Stats& stats) {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
            error_ = std::move(error);
            stats_ = stats;
        }
        ring();
    }
    // What synthesis produced (complete once `done`).
    tts::SpeechService::Stats stats() {
        std::lock_guard lock(mutex_);
        return stats_;
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
    tts::SpeechService::Stats stats_;
    std::atomic<bool> rung_{false};
};

// How the audio goes out: raw bytes (OpenAI's "audio", the default) or server-sent events.
enum class StreamFormat { Audio, Sse };

// One chunk of audio as speech.audio.delta events, each at most 32 KiB of audio (an even
// count, so 16-bit samples are never split across events).
std::string audio_delta_events(std::string_view audio) {
    constexpr size_t kMaxBytes = 32 * 1024;
    std::string out;
    for (size_t at = 0; at < audio.size(); at += kMaxBytes) {
        const nlohmann::ordered_json e = {{"type", "speech.audio.delta"},
                                          {"audio", base64_encode(audio.substr(at, kMaxBytes))}};
        out += sse_event(e);
    }
    return out;
}

// The closing event. Speech has no tokenizer, so usage counts the input's characters
// (code points) as input tokens and the audio in 50 ms frames as output tokens.
std::string audio_done_event(const std::string& input, const tts::SpeechService::Stats& stats) {
    const auto chars = static_cast<int64_t>(utf8_to_u32(input).size());
    const int64_t frames = stats.frames();
    const nlohmann::ordered_json e = {
        {"type", "speech.audio.done"},
        {"usage", {{"input_tokens", chars}, {"output_tokens", frames}, {"total_tokens", chars + frames}}}};
    return sse_event(e);
}

std::optional<ApiError> parse_speech_request(const nlohmann::ordered_json& body, tts::SpeechRequest& out,
                                             StreamFormat& stream) {
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
    stream = StreamFormat::Audio;
    if (const auto* sf = str("stream_format")) {
        const std::string name = sf->is_string() ? sf->get<std::string>() : "";
        if (name == "sse") {
            stream = StreamFormat::Sse;
        } else if (name != "audio") {
            return bad_request("'stream_format' must be \"audio\" (raw audio, the default) or \"sse\" (server-sent events)",
                               "stream_format");
        }
    }
    // OpenAI's default is mp3; events carry raw samples, so pcm there.
    out.format = stream == StreamFormat::Sse ? tts::AudioFormat::Pcm : tts::AudioFormat::Mp3;
    if (const auto* f = str("response_format")) {
        auto fmt = f->is_string() ? tts::parse_audio_format(f->get<std::string>()) : std::nullopt;
        if (!fmt) return bad_request("'response_format' must be wav, pcm, flac, mp3 or opus", "response_format");
        out.format = *fmt;
    }
    // Raw pcm has no header to say its rate: OpenAI's is 24 kHz, which clients assume.
    if (out.format == tts::AudioFormat::Pcm) out.sample_rate = kChatAudioRate;
    if (stream == StreamFormat::Sse && out.format != tts::AudioFormat::Pcm && out.format != tts::AudioFormat::Wav) {
        return bad_request(fmt::format("stream_format \"sse\" supports response_format pcm or wav, not {}",
                                       str("response_format")->get<std::string>()),
                           "response_format");
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
                    // The names that resolve to this voice (OpenAI's by default, --voice-aliases).
                    nlohmann::ordered_json names = nlohmann::ordered_json::array();
                    for (const auto& [name, target] : s->aliases()) {
                        if (target != v.id) continue;
                        auto resolved = s->find_voice(name);  // the first of a name wins
                        if (resolved && resolved->id == v.id) names.push_back(name);
                    }
                    data.push_back({{"id", v.id}, {"object", "voice"}, {"kind", v.kind}, {"language", v.language},
                                    {"sample_rate", v.sample_rate}, {"num_speakers", v.num_speakers},
                                    {"aliases", std::move(names)}});
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

asio::awaitable<std::variant<std::shared_ptr<SpokenReply>, ApiError>> SpeechRoutes::open_spoken_reply(
    const AudioOutputRequest& request, bool starts_in_think) {
    tts::SpeechRequest sreq;
    sreq.voice = request.voice;
    sreq.format = request.format == "pcm16" ? tts::AudioFormat::Pcm : *tts::parse_audio_format(request.format);
    sreq.sample_rate = kChatAudioRate;
    std::string error;
    std::optional<ApiError> voice_error;
    std::unique_ptr<tts::SpeechSession> session;
    auto open = [&] {
        const auto* service = impl_->service(error);
        if (!service) return;
        if (auto v = service->find_voice(sreq.voice); !v) {
            voice_error = bad_request(v.error().message, "audio.voice", "voice_not_found");
            return;
        }
        auto s = service->open_session(sreq);
        if (s) session = std::move(*s);
        else error = s.error().message;
    };
    if (impl_->created()) {
        open();  // voices are loaded: no hop to a pool whose threads may all be speaking
    } else {
        co_await asio::co_spawn(  // the first use loads the voices: not on an I/O thread
            impl_->pool,
            [&]() -> asio::awaitable<void> {
                open();
                co_return;
            },
            asio::use_awaitable);
    }
    if (voice_error) co_return *voice_error;
    if (!session) co_return server_error(500, "speech unavailable: " + error, "speech_unavailable");
    co_return make_spoken_reply(std::move(session), sreq.format, impl_->pool.get_executor(), &impl_->stopping,
                                starts_in_think);
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
    auto parsed = net::parse_json_body(req.body());
    tts::SpeechRequest sreq;
    StreamFormat stream = StreamFormat::Audio;
    std::optional<ApiError> invalid;
    nlohmann::ordered_json body;
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        invalid = *e;
    } else {
        body = std::move(std::get<nlohmann::ordered_json>(parsed));
        invalid = parse_speech_request(body, sreq, stream);
    }
    const bool sse = stream == StreamFormat::Sse;
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
        tts::SpeechService::Stats stats;
        auto r = service->synthesize(
            sreq, [&](std::span<const uint8_t> audio) { return !impl->stopping.load() && job->push(audio); }, stats);
        job->finish(r ? std::nullopt : std::optional<std::string>(r.error().message), stats);
    });
    const char* content_type = sse ? "text/event-stream" : tts::audio_format_mime(sreq.format);
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
            if (!co_await conn.begin_stream(200, content_type)) break;
            started = true;
        }
        bool ok = true;
        for (const auto& c : chunks) {
            if (sse) {
                const std::string events = audio_delta_events(c);
                ok = co_await conn.write_chunk(events);
            } else {
                ok = co_await conn.write_chunk(c);
            }
            if (!ok) break;
        }
        if (!ok) break;
        if (done) {
            if (sse) {
                // Events end with speech.audio.done, or an error object after a failure.
                std::string last;
                if (failed) {
                    last = sse_event(server_error(500, "speech synthesis failed: " + *failed).to_json());
                } else {
                    last = audio_done_event(sreq.text, job->stats());
                }
                if (co_await conn.write_chunk(last)) co_await conn.end_stream();
            } else if (failed) {
                // A failure after audio went out can only be signalled by cutting the stream.
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
