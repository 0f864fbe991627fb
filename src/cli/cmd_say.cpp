// `hearth say "text"`: speaks a text with a Piper voice or the built-in espeak-ng voice
// and writes the audio (wav, pcm, flac, mp3, opus) to a file or to stdout, streaming
// sentence by sentence. Timings (first audio, real-time factor) go to stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "tts/audio_encoder.h"
#include "tts/speech_service.h"

namespace hearth::cli {

namespace {

struct SayOptions {
    std::string text;
    std::string voice;
    std::string voices_dir;
    std::string output;
    std::string format;
    float speed = 1.0f;
    int speaker = -1;
    int threads = 0;
    bool list_voices = false;
    bool phonemes = false;
    bool quiet = false;
};

std::string extension_format(const std::string& path) {
    const auto ext = std::filesystem::path(path).extension().string();
    if (ext.size() > 1) return ext.substr(1);
    return {};
}

void list_voices(const tts::SpeechService& service) {
    const auto default_voice = service.find_voice("");
    std::printf("%-28s %-7s %-14s %8s %8s\n", "id", "kind", "language", "rate", "speakers");
    for (const auto& v : service.voices()) {
        const bool is_default = default_voice.ok() && default_voice->id == v.id;
        std::printf("%-28s %-7s %-14s %8d %8d%s\n", v.id.c_str(), v.kind.c_str(), v.language.c_str(), v.sample_rate,
                    v.num_speakers, is_default ? "  (default)" : "");
    }
}

void run_say(const SayOptions& o) {
    tts::SpeechServiceOptions service_options;
    service_options.voices_dir = o.voices_dir;
    service_options.n_threads = o.threads;
    std::string voice = o.voice;
    // A path to a Piper model works as --voice too.
    if (voice.size() > 5 && voice.compare(voice.size() - 5, 5, ".onnx") == 0 && std::filesystem::exists(voice)) {
        const std::filesystem::path p(voice);
        if (!o.voices_dir.empty() && std::filesystem::path(o.voices_dir) != p.parent_path()) {
            return fail("--voice given as a file must be inside --voices-dir");
        }
        service_options.voices_dir = p.parent_path().empty() ? "." : p.parent_path().string();
        voice = p.stem().string();
    }
    auto service = tts::SpeechService::create(service_options);
    if (!service) return fail(service.error().message);
    if (o.list_voices) return list_voices(**service);
    std::string text = o.text;
    if (text == "-") {  // read the text from stdin
        text.clear();
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) text.append(buf, n);
    }
    if (text.empty()) return fail("no text given (hearth say \"text\", or - to read stdin)");

    if (o.phonemes) {
        auto sentences = (*service)->phonemize(text, voice);
        if (!sentences) return fail(sentences.error().message);
        for (const auto& s : *sentences) std::printf("%s\n", s.c_str());
        return;
    }

    std::string format_name = o.format;
    if (format_name.empty()) format_name = o.output.empty() ? "wav" : extension_format(o.output);
    if (format_name.empty()) format_name = "wav";
    const auto format = tts::parse_audio_format(format_name);
    if (!format) return fail("unknown format '" + format_name + "' (wav, pcm, flac, mp3, opus)");

    tts::SpeechRequest request;
    request.text = text;
    request.voice = voice;
    request.format = *format;
    request.speed = o.speed;
    if (o.speaker >= 0) request.speaker_id = o.speaker;
    auto info = (*service)->find_voice(voice);
    if (!info) return fail(info.error().message);

    FILE* out = stdout;
    std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, &std::fclose);
    if (!o.output.empty() && o.output != "-") {
        file.reset(std::fopen(o.output.c_str(), "w+b"));  // + : headers are patched at the end
        if (!file) return fail("cannot write " + o.output);
        out = file.get();
    } else if (isatty(fileno(stdout))) {
        return fail("refusing to write audio to a terminal: use -o FILE or redirect stdout");
    }

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    std::optional<double> first_audio_s;
    size_t total_bytes = 0;
    bool write_failed = false;
    tts::SpeechService::Stats stats;
    auto r = (*service)->synthesize(request, [&](std::span<const uint8_t> chunk) {
        if (!first_audio_s) first_audio_s = std::chrono::duration<double>(Clock::now() - start).count();
        total_bytes += chunk.size();
        if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
            write_failed = true;
            return false;
        }
        std::fflush(out);
        return true;
    }, stats);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (!r) return fail(r.error().message);
    if (write_failed) return fail("writing audio failed");

    // A wav or FLAC written to a file gets the lengths the stream had to leave unknown,
    // as SpeechService::synthesize_all() gives whole files.
    if (file && (*format == tts::AudioFormat::Wav || *format == tts::AudioFormat::Flac)) {
        std::vector<uint8_t> head(std::min<size_t>(total_bytes, 44));
        if (std::fseek(file.get(), 0, SEEK_SET) != 0 || std::fread(head.data(), 1, head.size(), file.get()) != head.size()) {
            return fail("cannot update the header of " + o.output);
        }
        if (*format == tts::AudioFormat::Wav) tts::set_wav_sizes(head, total_bytes);
        else tts::set_flac_total_samples(head, stats.samples);
        if (std::fseek(file.get(), 0, SEEK_SET) != 0 || std::fwrite(head.data(), 1, head.size(), file.get()) != head.size()) {
            return fail("cannot update the header of " + o.output);
        }
    }
    if (!o.quiet) {
        std::fprintf(stderr, "voice %s (%s, %d Hz): first audio after %.0f ms, total %.3f s", info->id.c_str(),
                     info->kind.c_str(), info->sample_rate, first_audio_s.value_or(elapsed) * 1000.0, elapsed);
        const double audio_s = stats.seconds();
        std::fprintf(stderr, ", %.2f s of audio, RTF %.3f", audio_s, audio_s > 0 ? elapsed / audio_s : 0.0);
        std::fprintf(stderr, "\n");
    }
}

}  // namespace

void add_say_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("say", "Speak a text: write wav/pcm/flac/mp3/opus audio");
    auto o = std::make_shared<SayOptions>();
    cmd->add_option("text", o->text, "Text to speak (- reads stdin)");
    cmd->add_option("--voice", o->voice, "Voice id (see --list-voices), or a Piper .onnx file; default: first Piper voice, else builtin:en-us");
    cmd->add_option("--voices-dir", o->voices_dir, "Folder of Piper voices (<name>.onnx + <name>.onnx.json)");
    cmd->add_option("-o,--output", o->output, "Output file (default: stdout when it is not a terminal)");
    cmd->add_option("--format", o->format, "wav, pcm, flac, mp3 or opus (default: from the -o extension, else wav)");
    cmd->add_option("--speed", o->speed, "Speaking rate, 0.25 to 4.0")->check(CLI::Range(0.25f, 4.0f));
    cmd->add_option("--speaker", o->speaker, "Speaker id of a multi-speaker voice");
    cmd->add_option("-t,--threads", o->threads, "Threads for Piper inference (0: all cores)");
    cmd->add_flag("--list-voices", o->list_voices, "List the voices and exit");
    cmd->add_flag("--phonemes", o->phonemes, "Print the IPA phonemes of each sentence instead of speaking");
    cmd->add_flag("-q,--quiet", o->quiet, "No timings on stderr");
    cmd->callback([o] { run_say(*o); });
}

}  // namespace hearth::cli
