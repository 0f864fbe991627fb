// The speech page: text to audio through /v1/audio/speech, played in the page and offered
// as a download.
#include "pages.h"

namespace hearth::ui {
namespace {

struct SpeechState {
    val audio_url = val::undefined();  // the object URL of the last result, revoked on the next
    bool busy = false;
};

SpeechState& state() {
    static SpeechState s;
    return s;
}

void synthesize() {
    auto& s = state();
    const std::string text = value_of("speech-text");
    if (s.busy || text.find_first_not_of(" \t\r\n") == std::string::npos) return;
    const std::string format = value_of("speech-format");
    Json body = {{"model", "tts-1"}, {"input", text}, {"voice", value_of("speech-voice")}, {"response_format", format},
                 {"speed", val::global("Number")(value_of("speech-speed")).as<double>()}};
    s.busy = true;
    set_hidden("speech-error", true);
    set_text("speech-state", "Speaking…");
    by_id("synthesize").set("disabled", true);
    fetch_blob("v1/audio/speech", body, [format](val blob, const RequestError* error) {
        auto& s = state();
        s.busy = false;
        by_id("synthesize").set("disabled", false);
        set_text("speech-state", "");
        if (error) {
            set_text("speech-error", error->message);
            set_hidden("speech-error", false);
            if (error->status == 401) ask_for_api_key(*error);
            return;
        }
        if (!s.audio_url.isUndefined()) val::global("URL").call<void>("revokeObjectURL", s.audio_url);
        s.audio_url = val::global("URL").call<val>("createObjectURL", blob);
        val audio = by_id("speech-audio");
        audio.set("src", s.audio_url);
        set_hidden("speech-result", false);
        val link = by_id("speech-download");
        link.set("href", s.audio_url);
        link.set("download", "speech." + std::string(format == "pcm" ? "pcm" : format));
        then(audio.call<val>("play"), [](val) {}, [](val) {});  // a browser may refuse to autoplay
    });
}

void load_voices() {
    fetch_json("v1/audio/voices", nullptr, [](const Json* reply, const RequestError* error) {
        const auto ids = reply ? ids_of(*reply) : std::vector<std::string>();
        const bool available = !ids.empty();
        set_hidden("speech-form", !available);
        set_hidden("speech-unavailable", available);
        if (error && error->status == 401) ask_for_api_key(*error);
        set_html("speech-voice", options_html(ids, value_of("speech-voice")));
    });
}

}  // namespace

void start_speech_page() {
    on_action("synthesize", [](val, val) { synthesize(); });
    on_change("speech-speed", [](val, val el) { set_text("speech-speed-value", el["value"].as<std::string>() + "×"); });
    reload_speech_page();
}

void reload_speech_page() { load_voices(); }

}  // namespace hearth::ui
