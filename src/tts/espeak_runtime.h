// The one process-wide espeak-ng instance. espeak-ng keeps its state in globals and is not
// thread-safe, so every call into it (phonemization and the built-in voice) holds
// espeak_mutex(); initialization happens once, on first use.
#pragma once

#include <mutex>

#include "base/result.h"

namespace hearth::tts {

std::mutex& espeak_mutex();

// Initializes espeak-ng (synchronous output mode) if not done yet and returns its output
// sample rate. The data directory is espeak-ng's default unless HEARTH_ESPEAK_DATA names
// another. Caller must hold espeak_mutex().
Result<int> ensure_espeak_initialized_locked();

// Selects an espeak voice by name (e.g. "en-us"); caller must hold espeak_mutex().
Result<void> set_espeak_voice_locked(const std::string& voice);

// True when espeak-ng knows a voice of that name (takes the lock itself).
bool espeak_has_voice(const std::string& voice);

}  // namespace hearth::tts
