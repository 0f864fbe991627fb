#include "tts/espeak_runtime.h"

#include <espeak-ng/speak_lib.h>
#include <fmt/format.h>

#include <strings.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace hearth::tts {

std::mutex& espeak_mutex() {
    static std::mutex m;
    return m;
}

Result<int> ensure_espeak_initialized_locked() {
    static int sample_rate = 0;
    static std::string init_error;
    static bool tried = false;
    if (!tried) {
        tried = true;
        const char* path = std::getenv("HEARTH_ESPEAK_DATA");
        // DONT_EXIT: a missing data directory must be an error value, not exit(1).
        const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, (path && *path) ? path : nullptr,
                                           espeakINITIALIZE_DONT_EXIT);
        if (rate <= 0) {
            init_error = fmt::format("espeak-ng failed to initialize (data directory {})",
                                     (path && *path) ? path : "default");
        } else {
            sample_rate = rate;
        }
    }
    if (sample_rate <= 0) return make_error(init_error);
    return sample_rate;
}

Result<void> set_espeak_voice_locked(const std::string& voice) {
    auto init = ensure_espeak_initialized_locked();
    if (!init) return init.error();
    if (voice.empty() || voice.find('\0') != std::string::npos) return make_error("empty espeak voice name");
    if (espeak_SetVoiceByName(voice.c_str()) == EE_OK) return {};
    // Names are voice file names ("en-US"); languages that only appear inside a voice file
    // ("en-gb" is the file "gmw/en") are found by their language property instead.
    // Property matching falls back to the closest voice, so accept it only when the
    // chosen voice really lists this language.
    espeak_VOICE wanted{};
    wanted.languages = voice.c_str();
    const auto lists_language = [&voice](const espeak_VOICE* v) {
        if (v == nullptr || v->languages == nullptr) return false;
        for (const char* l = v->languages; *l != 0; l += std::strlen(l + 1) + 2) {  // priority byte, name, NUL
            if (strcasecmp(l + 1, voice.c_str()) == 0) return true;
        }
        return false;
    };
    if (espeak_SetVoiceByProperties(&wanted) == EE_OK && lists_language(espeak_GetCurrentVoice())) return {};
    return make_error(fmt::format("espeak-ng has no voice '{}'", voice));
}

bool espeak_has_voice(const std::string& voice) {
    std::lock_guard lock(espeak_mutex());
    return set_espeak_voice_locked(voice).ok();
}

}  // namespace hearth::tts
