#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hearth::server {

// Everything `hearth serve` can be told, by flags or a TOML file with the same keys
// (dashes or underscores), e.g. `port = 8080`, `models-dir = "/models"`.
struct ServerConfig {
    std::string model;          // one model file, served under `alias` or its file stem
    std::string alias;
    std::string models_dir;     // every .gguf in it, loaded on first use
    std::string host = "127.0.0.1";
    int port = 8080;
    int parallel = 4;           // sequence slots per model
    int64_t ctx_size = 0;       // per sequence; 0: the model's, capped at 4096
    int queue = 64;             // waiting requests per model beyond the slots
    int threads = 0;            // compute threads per model (0: all cores)
    int http_threads = 2;       // I/O threads serving every connection
    std::string api_key;        // when set, /v1/* needs "Authorization: Bearer <key>"
    int64_t max_body_bytes = 8 << 20;
    double timeout = 600;       // seconds per request (0: none)
    double idle_unload = 0;     // seconds unused before a --models-dir model is unloaded (0: never)
    int max_loaded = 2;         // loaded models at once; the least recently used goes first
    bool mmap = false;          // weights read from the file's mapping (llm::LoadOptions::mmap)
    std::string device = "auto";  // kernels::open_device: auto, cpu, vulkan, vulkan:N
    int gpu_layers = -1;          // layers on the GPU, the rest on the CPU (-1: as many as fit)
    std::string ui_dir;         // the web UI from this folder instead of the embedded one
    std::string chat_template_file;  // overrides every model's chat template
    // Speech (/v1/audio/speech and spoken chat replies, when built with hearth_tts).
    bool speech = true;         // false: an LLM-only server (no speech routes, no voices)
    std::string voices_dir;     // Piper voices; the built-in espeak-ng voices need none
    std::string default_voice;  // empty: first Piper voice, else builtin:en-us
    std::string voice_aliases;  // "alloy=en_US-lessac-medium,echo=builtin:en-gb"
    // Joining a gateway (`hearth gateway`): a heartbeat to <join>/gateway/join.
    std::string join;           // the gateway's base URL (http://host:port); empty: none
    std::string join_key;       // sent to the gateway as "Authorization: Bearer <key>"
    std::string advertise;      // the URL the gateway calls this server at; empty: the bound
                                // address, or http://<hostname>:<port> when bound to 0.0.0.0 / ::
    double heartbeat = 2;       // seconds between heartbeats
    bool access_log = true;     // one line per request on stderr
    double drain_timeout = 30;  // at SIGTERM: seconds running requests may take to finish
};

// Names of every setting, as flags spell them ("models-dir").
const std::vector<std::string>& config_keys();

// Copies the setting `key` (a name from config_keys()) from one config to another;
// lets flags given on the command line win over the file.
void copy_setting(const ServerConfig& from, ServerConfig& to, std::string_view key);

// Reads a TOML file over `base`. Unknown keys and wrong types are errors.
Result<ServerConfig> load_config_file(const std::string& path, ServerConfig base = {});

// Checks ranges and that a model source is given.
Result<void> validate_config(const ServerConfig& config);

}  // namespace hearth::server
