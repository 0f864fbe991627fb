#include "server/config.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <variant>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "net/http_client.h"

namespace hearth::server {
namespace {

using Field = std::variant<std::string ServerConfig::*, int ServerConfig::*, int64_t ServerConfig::*,
                           double ServerConfig::*, bool ServerConfig::*>;

struct Setting {
    std::string key;
    Field field;
};

const std::vector<Setting>& settings() {
    static const std::vector<Setting> all = {
        {"model", &ServerConfig::model},
        {"alias", &ServerConfig::alias},
        {"models-dir", &ServerConfig::models_dir},
        {"host", &ServerConfig::host},
        {"port", &ServerConfig::port},
        {"parallel", &ServerConfig::parallel},
        {"ctx-size", &ServerConfig::ctx_size},
        {"queue", &ServerConfig::queue},
        {"threads", &ServerConfig::threads},
        {"http-threads", &ServerConfig::http_threads},
        {"api-key", &ServerConfig::api_key},
        {"max-body-bytes", &ServerConfig::max_body_bytes},
        {"timeout", &ServerConfig::timeout},
        {"idle-unload", &ServerConfig::idle_unload},
        {"max-loaded", &ServerConfig::max_loaded},
        {"mmap", &ServerConfig::mmap},
        {"device", &ServerConfig::device},
        {"gpu-layers", &ServerConfig::gpu_layers},
        {"ui-dir", &ServerConfig::ui_dir},
        {"chat-template-file", &ServerConfig::chat_template_file},
        {"speech", &ServerConfig::speech},
        {"voices-dir", &ServerConfig::voices_dir},
        {"default-voice", &ServerConfig::default_voice},
        {"voice-aliases", &ServerConfig::voice_aliases},
        {"join", &ServerConfig::join},
        {"join-key", &ServerConfig::join_key},
        {"advertise", &ServerConfig::advertise},
        {"heartbeat", &ServerConfig::heartbeat},
        {"access-log", &ServerConfig::access_log},
        {"drain-timeout", &ServerConfig::drain_timeout},
    };
    return all;
}

const Setting* find_setting(std::string_view key) {
    std::string k(key);
    std::replace(k.begin(), k.end(), '_', '-');
    for (const auto& s : settings()) {
        if (s.key == k) return &s;
    }
    return nullptr;
}

Result<void> set_from_toml(ServerConfig& config, const Setting& s, const toml::node& node) {
    const std::string where = fmt::format("config key '{}'", s.key);
    return std::visit(
        [&](auto member) -> Result<void> {
            using T = std::remove_reference_t<decltype(config.*member)>;
            if constexpr (std::is_same_v<T, std::string>) {
                auto v = node.value<std::string>();
                if (!v) return make_error(where + " must be a string");
                config.*member = *v;
            } else if constexpr (std::is_same_v<T, bool>) {
                if (!node.is_boolean()) return make_error(where + " must be true or false");
                config.*member = *node.value<bool>();
            } else if constexpr (std::is_same_v<T, double>) {
                auto v = node.value<double>();  // integers convert too
                if (!v) return make_error(where + " must be a number");
                config.*member = *v;
            } else {
                if (!node.is_integer()) return make_error(where + " must be an integer");
                const int64_t v = *node.value<int64_t>();
                if constexpr (std::is_same_v<T, int>) {
                    if (v < INT32_MIN || v > INT32_MAX) return make_error(where + " is out of range");
                }
                config.*member = static_cast<T>(v);
            }
            return {};
        },
        s.field);
}

}  // namespace

const std::vector<std::string>& config_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k;
        for (const auto& s : settings()) k.push_back(s.key);
        return k;
    }();
    return keys;
}

void copy_setting(const ServerConfig& from, ServerConfig& to, std::string_view key) {
    const Setting* s = find_setting(key);
    if (!s) return;
    std::visit([&](auto member) { to.*member = from.*member; }, s->field);
}

Result<ServerConfig> load_config_file(const std::string& path, ServerConfig base) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return make_error(fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description()));
    }
    for (const auto& [key, node] : table) {
        const Setting* s = find_setting(key.str());
        if (!s) return make_error(fmt::format("{}: unknown key '{}'", path, key.str()));
        if (auto ok = set_from_toml(base, *s, node); !ok) return make_error(path + ": " + ok.error().message);
    }
    // Relative paths in the file are relative to the file.
    const auto dir = std::filesystem::path(path).parent_path();
    for (std::string* p : {&base.model, &base.models_dir, &base.ui_dir, &base.chat_template_file, &base.voices_dir}) {
        if (!p->empty() && std::filesystem::path(*p).is_relative() && !dir.empty()) *p = (dir / *p).string();
    }
    return base;
}

Result<void> validate_config(const ServerConfig& c) {
    if (c.model.empty() && c.models_dir.empty()) return make_error("give --model PATH or --models-dir DIR");
    if (c.port < 0 || c.port > 65535) return make_error(fmt::format("port {} is out of range", c.port));
    if (c.parallel < 1 || c.parallel > 256) return make_error("parallel must be 1..256");
    if (c.queue < 0) return make_error("queue must be >= 0");
    if (c.ctx_size < 0) return make_error("ctx-size must be >= 0");
    if (c.threads < 0) return make_error("threads must be >= 0");
    if (c.http_threads < 1 || c.http_threads > 64) return make_error("http-threads must be 1..64");
    if (c.max_body_bytes < 1024) return make_error("max-body-bytes must be >= 1024");
    if (c.timeout < 0) return make_error("timeout must be >= 0");
    if (!(c.drain_timeout >= 0)) return make_error("drain-timeout must be >= 0");
    if (c.idle_unload < 0) return make_error("idle-unload must be >= 0");
    if (c.max_loaded < 1) return make_error("max-loaded must be >= 1");
    if (c.gpu_layers < -1) return make_error("gpu-layers must be -1 (auto) or more");
    if (c.device != "auto" && c.device != "cpu" && c.device != "vulkan" && c.device.rfind("vulkan:", 0) != 0)
        return make_error("device must be auto, cpu, vulkan or vulkan:N, not '" + c.device + "'");
    // URLs are checked here so that a typo stops the start, not the first heartbeat.
    if (!c.join.empty()) {
        if (auto u = net::Url::parse(c.join); !u) return make_error("join: " + u.error().message);
    }
    if (!c.advertise.empty()) {
        if (auto u = net::Url::parse(c.advertise); !u) return make_error("advertise: " + u.error().message);
    }
    if (!(c.heartbeat > 0) || c.heartbeat > 3600) return make_error("heartbeat must be > 0 and at most 3600 seconds");
    return {};
}

}  // namespace hearth::server
