// The speech-layer side of SpokenReply (chat_audio.h), for SpeechRoutes: built only
// with hearth_tts.
#pragma once

#include <atomic>
#include <memory>

#include "server/chat_audio.h"
#include "tts/speech_service.h"

namespace hearth::server {

// A reply spoken by `session` (opened for its voice, format and rate). Sentences are
// synthesized by tasks posted to `synth`, one at a time; `stopping` (the server shutting
// down) stops them like cancel().
std::shared_ptr<SpokenReply> make_spoken_reply(std::unique_ptr<tts::SpeechSession> session, tts::AudioFormat format,
                                               asio::any_io_executor synth, const std::atomic<bool>* stopping,
                                               bool starts_in_think);

}  // namespace hearth::server
