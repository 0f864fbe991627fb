#include "server/chat_audio.h"

#include <fmt/format.h>

#include "base/base64.h"
#include "server/openai_params.h"

namespace hearth::server {

namespace {

constexpr const char* kFormats[] = {"pcm16", "wav", "mp3", "flac", "opus"};

// How long a client may refer to the audio by id (OpenAI's field; hearth keeps no audio,
// and multi-turn requests carry the transcript in the assistant message's content).
constexpr int64_t kAudioLifetimeSeconds = 3600;

}  // namespace

std::optional<ApiError> parse_audio_output(const ojson& body, bool stream, AudioOutputRequest& out) {
    out = {};
    auto mod = body.find("modalities");
    if (mod != body.end() && !mod->is_null()) {
        if (!mod->is_array()) return bad_request("'modalities' must be an array of \"text\" and \"audio\"", "modalities");
        for (const auto& m : *mod) {
            const std::string name = m.is_string() ? m.get<std::string>() : "";
            if (name == "audio") {
                out.wanted = true;
            } else if (name != "text") {
                return bad_request(fmt::format("unknown modality {}: must be \"text\" or \"audio\"", m.dump()), "modalities");
            }
        }
    }
    auto audio = body.find("audio");
    const bool has_audio = audio != body.end() && !audio->is_null();
    if (!out.wanted) return std::nullopt;  // `audio` without the modality is ignored, as OpenAI does
    if (!has_audio || !audio->is_object()) {
        return bad_request("'audio' must be an object {\"voice\", \"format\"} when modalities include \"audio\"", "audio");
    }
    auto voice = audio->find("voice");
    if (voice == audio->end() || !voice->is_string() || voice->get<std::string>().empty()) {
        return bad_request("'audio.voice' must be a voice name (see /v1/audio/voices)", "audio.voice");
    }
    out.voice = voice->get<std::string>();
    auto format = audio->find("format");
    if (format == audio->end() || !format->is_string()) {
        return bad_request("'audio.format' must be one of pcm16, wav, mp3, flac, opus", "audio.format");
    }
    out.format = format->get<std::string>();
    bool known = false;
    for (const char* f : kFormats) known = known || out.format == f;
    if (!known) {
        return bad_request(fmt::format("'audio.format' must be one of pcm16, wav, mp3, flac, opus, not '{}'", out.format),
                           "audio.format");
    }
    if (stream && out.format != "pcm16") {
        return bad_request(fmt::format("streamed audio supports audio.format \"pcm16\" only, not '{}'", out.format),
                           "audio.format");
    }
    return std::nullopt;
}

ChatAudioFields::ChatAudioFields() : id_(random_id("audio_")), expires_at_(unix_now() + kAudioLifetimeSeconds) {}

std::vector<ojson> ChatAudioFields::deltas(const SpokenReply::Piece& piece) {
    // Small events let clients start playing early; an even size keeps samples whole.
    constexpr size_t kMaxBytes = 24 * 1024;
    std::vector<ojson> out;
    const std::string_view audio = piece.audio;
    size_t at = 0;
    do {
        ojson d = ojson::object();
        if (!any_) d["id"] = id_;
        any_ = true;
        if (at == 0 && !piece.transcript.empty()) d["transcript"] = piece.transcript;
        if (at < audio.size()) d["data"] = base64_encode(audio.substr(at, kMaxBytes));
        out.push_back(std::move(d));
        at += kMaxBytes;
    } while (at < audio.size());
    return out;
}

ojson ChatAudioFields::usage_details(const SpokenReply& spoken) {
    return {{"audio_tokens", spoken.frames()}, {"audio_seconds", spoken.seconds()}};
}

ojson ChatAudioFields::closing_delta() const { return {{"id", id_}, {"expires_at", expires_at_}}; }

ojson ChatAudioFields::message_audio(const std::string& file) const {
    return {{"id", id_}, {"data", base64_encode(file)}, {"expires_at", expires_at_}, {"transcript", transcript_}};
}

void SpokenReplies::remember(const std::string& audio_id, const std::string& text, int64_t expires_at) {
    std::lock_guard lock(mutex_);
    if (by_id_.count(audio_id)) return;
    by_id_[audio_id] = {text, expires_at};
    order_.push_back(audio_id);
    bytes_ += text.size() + audio_id.size();
    const int64_t now = unix_now();
    while (!order_.empty()) {
        auto it = by_id_.find(order_.front());
        if (bytes_ <= kMaxBytes && it->second.second > now) break;
        bytes_ -= it->second.first.size() + it->first.size();
        by_id_.erase(it);
        order_.pop_front();
    }
}

std::optional<ApiError> SpokenReplies::restore(ojson& messages) {
    std::lock_guard lock(mutex_);
    const int64_t now = unix_now();
    for (size_t i = 0; i < messages.size(); ++i) {
        auto& m = messages[i];
        auto audio = m.find("audio");
        const auto content = m.find("content");
        if (m["role"] != "assistant" || audio == m.end() || !audio->is_object() ||
            (content != m.end() && !content->is_null())) {
            continue;
        }
        auto id = audio->find("id");
        if (id == audio->end() || !id->is_string()) {
            return bad_request("an assistant message's 'audio' must have the 'id' of a spoken reply",
                               fmt::format("messages[{}].audio.id", i));
        }
        auto known = by_id_.find(id->get<std::string>());
        if (known == by_id_.end() || known->second.second <= now) {
            return bad_request(fmt::format("audio '{}' is unknown or expired (spoken replies are kept for an hour): "
                                           "send the reply's text as the message's 'content'",
                                           id->get<std::string>()),
                               fmt::format("messages[{}].audio.id", i), "audio_not_found");
        }
        m["content"] = known->second.first;
    }
    return std::nullopt;
}

}  // namespace hearth::server
