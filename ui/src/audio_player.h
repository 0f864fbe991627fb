// Plays a reply's speech as it arrives: 16-bit mono PCM pieces (the spoken-chat stream's
// delta.audio, 24 kHz) queued back to back on one WebAudio context, so the first sentence
// is heard while the rest of the reply is still being written and spoken.
#pragma once

#include <string>
#include <vector>

#include "js.h"

namespace hearth::ui {

class AudioPlayer {
public:
    explicit AudioPlayer(int sample_rate) : sample_rate_(sample_rate) {}

    // Opens the audio context; call it from a user's click or key press (browsers start
    // audio only then).
    void prepare();
    // Queues little-endian s16 samples after what is queued already.
    void push(const std::string& pcm16);
    // Silences everything queued.
    void stop();

    double seconds_queued() const { return seconds_queued_; }

private:
    int sample_rate_;
    val context_ = val::undefined();
    std::vector<val> sources_;
    double next_start_ = 0;
    double seconds_queued_ = 0;
    std::string odd_byte_;  // a sample cut between two pieces
};

}  // namespace hearth::ui
