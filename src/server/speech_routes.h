#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "server/net.h"
#include "server/chat_audio.h"
#include "server/config.h"

namespace hearth::server {

struct ServerContext;


// The speech "models" /v1/models lists when the server has speech (OpenAI's names; the
// model field of /v1/audio/speech is not otherwise used: the voice picks the voice).
inline const std::vector<std::string>& speech_model_ids() {
    static const std::vector<std::string> ids = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"};
    return ids;
}
inline bool is_speech_model(const std::string& id) {
    for (const auto& m : speech_model_ids()) {
        if (m == id) return true;
    }
    return false;
}

// POST /v1/audio/speech (OpenAI's text-to-speech, audio streamed as it is
// synthesized; with stream_format "sse" as speech.audio.delta events and a final
// speech.audio.done) and GET /v1/audio/voices, on top of tts::SpeechService. Synthesis runs
// on its own threads; the service is created on first use.
class SpeechRoutes {
public:
    static Result<std::unique_ptr<SpeechRoutes>> create(const ServerConfig& config);
    ~SpeechRoutes();

    asio::awaitable<void> speech(ServerContext& ctx, HttpConnection& conn, const HttpRequest& req);
    asio::awaitable<void> voices(ServerContext& ctx, HttpConnection& conn);
    // A chat reply to be spoken as it streams, in `request.format` at kChatAudioRate.
    // The voice is resolved first: an unknown one is 400 voice_not_found.
    asio::awaitable<std::variant<std::shared_ptr<SpokenReply>, ApiError>> open_spoken_reply(
        const AudioOutputRequest& request, bool starts_in_think);
    // The ids /v1/audio/voices lists; [] when speech is unavailable (its error is for
    // the speech routes to report).
    asio::awaitable<std::vector<std::string>> voice_ids();
    // Creates the speech service now, in the background, rather than on first use: for a
    // server in a gateway, whose /status polls would otherwise wait for it.
    void warm_up();
    // One line for the start banner, without loading any voice.
    std::string describe() const;

    // At shutdown, before the I/O context goes: stops running syntheses and waits for
    // the synthesis threads, so none completes into a destroyed context.
    void shutdown();

    class Impl;

private:
    explicit SpeechRoutes(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::server
