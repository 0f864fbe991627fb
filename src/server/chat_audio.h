// Spoken chat replies: /v1/chat/completions with modalities ["text", "audio"] and an
// `audio` object, as OpenAI defines them. The reply's text streams as usual; its speech
// is synthesized sentence by sentence on the speech threads while generation goes on,
// and goes out as `delta.audio` chunks (streaming, pcm16) or as `message.audio` (whole,
// in any format). This header is free of the speech layer, so the chat handler builds
// without it; the synthesis side is in spoken_reply.cpp.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include "server/net.h"

namespace hearth::server {

using ojson = nlohmann::ordered_json;

// Audio output as the request asks for it.
struct AudioOutputRequest {
    bool wanted = false;  // "audio" in modalities
    std::string voice;
    std::string format;   // "pcm16", "wav", "mp3", "flac", "opus"
};

// Reads `modalities` and `audio`. Errors: an unknown modality, audio without an `audio`
// object, a missing voice or format, a format other than pcm16 when streaming.
std::optional<ApiError> parse_audio_output(const ojson& body, bool stream, AudioOutputRequest& out);

// The sample rate of chat audio in every format (OpenAI's 24 kHz mono).
constexpr int kChatAudioRate = 24000;

// A reply being spoken. The handler (on its connection's strand) feeds the text as it
// streams and drains the audio; synthesis runs on the speech threads, one sentence
// after another, and calls the wake function after each piece of audio.
class SpokenReply {
public:
    struct Piece {
        std::string audio;       // encoded bytes
        std::string transcript;  // the words this piece starts speaking ("" for later pieces)
    };
    virtual ~SpokenReply() = default;

    // Called from the synthesis threads after each piece; set before the first text.
    virtual void set_wake(std::function<void()> wake) = 0;
    // Reply text as it streams (Markdown, <think> and code blocks are not spoken).
    virtual void add_text(std::string_view text) = 0;
    // The reply is complete: the rest is spoken and the audio closed.
    virtual void end_text() = 0;
    // Stops synthesis (client gone, generation failed); idempotent.
    virtual void cancel() = 0;
    // Moves the ready pieces to `out`, in order. `done` once the audio is closed;
    // `error` when synthesis failed (then done too).
    virtual void take(std::vector<Piece>& out, bool& done, std::optional<std::string>& error) = 0;
    // Audio produced so far: seconds, and the 50 ms frames usage counts as audio tokens.
    virtual double seconds() const = 0;
    virtual int64_t frames() const = 0;
    // A whole file from the concatenated pieces: fills in the sizes a stream could not
    // know (wav, flac).
    virtual void complete_file(std::string& bytes) const = 0;
};

// Turns spoken pieces into OpenAI's chat audio fields for one reply.
class ChatAudioFields {
public:
    ChatAudioFields();
    // Every piece goes through add(); streaming sends what deltas() makes of it.
    void add(const SpokenReply::Piece& piece) { transcript_ += piece.transcript; }
    // `delta.audio` objects for one piece (its audio cut into events of at most 24 KiB,
    // the transcript on the first, the id on the reply's first).
    std::vector<ojson> deltas(const SpokenReply::Piece& piece);
    // The last `delta.audio`: the id and expires_at, closing the audio.
    ojson closing_delta() const;
    // Non-streaming: `message.audio` with the whole file and transcript.
    ojson message_audio(const std::string& file) const;
    const std::string& id() const { return id_; }
    int64_t expires_at() const { return expires_at_; }
    // usage.completion_tokens_details fields for the reply's audio.
    static ojson usage_details(const SpokenReply& spoken);

private:
    std::string id_;
    int64_t expires_at_;
    std::string transcript_;
    bool any_ = false;
};

// The text of this server's spoken replies by audio id, until they expire. OpenAI clients
// send an earlier spoken reply back as {"role": "assistant", "audio": {"id": ...}} without
// its content; the model must still see what it said. Bounded: the oldest go first.
class SpokenReplies {
public:
    void remember(const std::string& audio_id, const std::string& text, int64_t expires_at);
    // Gives assistant messages that have only an audio id their text back. Error (400)
    // for an id this server does not know (never given, expired, or forgotten).
    std::optional<ApiError> restore(ojson& messages);

private:
    static constexpr size_t kMaxBytes = 32u << 20;
    std::mutex mutex_;
    std::unordered_map<std::string, std::pair<std::string, int64_t>> by_id_;  // text, expires_at
    std::deque<std::string> order_;                                          // oldest first
    size_t bytes_ = 0;
};

}  // namespace hearth::server
