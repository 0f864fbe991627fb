// `hearth serve`: the OpenAI-compatible HTTP server. Flags override the --config file.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/engine_options.h"
#include "server/config.h"
#include "server/server.h"

namespace hearth::cli {

void add_serve_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("serve", "Serve models over an OpenAI-compatible HTTP API");
    struct Args {
        server::ServerConfig flags;
        std::string config_file;
    };
    auto a = std::make_shared<Args>();
    auto& f = a->flags;
    cmd->add_option("--config", a->config_file, "TOML file with the same keys as the flags (flags win)");
    cmd->add_option("-m,--model", f.model, "GGUF model to serve");
    cmd->add_option("--alias", f.alias, "model id for --model (default: the file stem)");
    cmd->add_option("--models-dir", f.models_dir, "serve every .gguf in this folder, loaded on first use");
    cmd->add_option("--host", f.host, "address to listen on")->capture_default_str();
    cmd->add_option("--port", f.port, "port (0: any free port)")->capture_default_str();
    cmd->add_option("--parallel", f.parallel, "sequences generated at once per model")->capture_default_str();
    cmd->add_option("-c,--ctx-size", f.ctx_size, "context per sequence (0: the model's, at most 4096)")
        ->capture_default_str();
    cmd->add_option("--queue", f.queue, "waiting requests per model before 503")->capture_default_str();
    cmd->add_option("-t,--threads", f.threads, "compute threads per model (0: all cores)")->capture_default_str();
    cmd->add_option("--http-threads", f.http_threads, "I/O threads for all connections")->capture_default_str();
    cmd->add_option("--api-key", f.api_key, "require 'Authorization: Bearer KEY' on /v1 routes");
    cmd->add_option("--max-body-bytes", f.max_body_bytes, "largest request body")->capture_default_str();
    cmd->add_option("--timeout", f.timeout, "seconds per request (0: none)")->capture_default_str();
    cmd->add_option("--idle-unload", f.idle_unload, "unload --models-dir models unused this many seconds (0: never)")
        ->capture_default_str();
    cmd->add_option("--max-loaded", f.max_loaded, "--models-dir models in memory at once")->capture_default_str();
    add_mmap_flag(*cmd, f.mmap);
    add_device_options(*cmd, f.device, f.gpu_layers);
    cmd->add_option("--ui-dir", f.ui_dir, "serve the web UI from this folder instead of the built-in one (UI development)");
    cmd->add_option("--chat-template-file", f.chat_template_file, "Jinja chat template to use for every model");
    cmd->add_flag("--speech,!--no-speech", f.speech, "text to speech: /v1/audio/speech and spoken chat replies")
        ->capture_default_str();
    cmd->add_option("--voices-dir", f.voices_dir, "Piper voices for /v1/audio/speech (built-in espeak-ng voices need none)");
    cmd->add_option("--default-voice", f.default_voice, "voice when a request names none it knows");
    cmd->add_option("--voice-aliases", f.voice_aliases, "OpenAI voice names to voice ids: alloy=ID,echo=ID");
    cmd->add_option("--join", f.join, "gateway to join (http://HOST:PORT): heartbeats register this server there");
    cmd->add_option("--join-key", f.join_key, "sent to the gateway as 'Authorization: Bearer KEY'");
    cmd->add_option("--advertise", f.advertise,
                    "URL the gateway calls this server at (default: the bound address; the host name for 0.0.0.0)");
    cmd->add_option("--heartbeat", f.heartbeat, "seconds between heartbeats to the gateway")->capture_default_str();
    cmd->add_flag("--access-log,!--no-access-log", f.access_log, "one line per request on stderr")
        ->capture_default_str();
    cmd->add_option("--drain-timeout", f.drain_timeout, "at SIGTERM, seconds running requests may take to finish")
        ->capture_default_str();
    cmd->callback([a, cmd] {
        server::ServerConfig config;
        if (!a->config_file.empty()) {
            auto loaded = server::load_config_file(a->config_file);
            if (!loaded) return fail(loaded.error().message);
            config = std::move(*loaded);
        }
        for (const auto& key : server::config_keys()) {
            const auto* opt = cmd->get_option_no_throw("--" + key);
            if (opt && opt->count() > 0) server::copy_setting(a->flags, config, key);
        }
        auto ok = server::run_server(config, [](const std::string& address) {
            std::printf("listening on %s\n", address.c_str());
            std::fflush(stdout);
        });
        if (!ok) return fail(ok.error().message);
        std::fprintf(stderr, "server stopped\n");
    });
}

}  // namespace hearth::cli
