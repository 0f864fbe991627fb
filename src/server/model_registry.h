#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "llm/model.h"
#include "llm/serving_engine.h"
#include "server/config.h"
#include "server/metrics.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {

struct ModelInfo {
    std::string id;
    std::string path;
    int64_t created = 0;  // file modification time, Unix seconds
    bool pinned = false;  // given with --model: loaded at start, never unloaded
};

// One model as /status reports it: slots and K/V use of its engine when loaded.
struct ModelStatus {
    std::string id;
    std::string path;
    bool loaded = false;
    int slots_total = 0;  // the engine's, or what loading would give (config.parallel)
    int slots_busy = 0;
    int queued = 0;
    int64_t kv_tokens_used = 0;   // held by the slots, prefix caches included
    int64_t kv_tokens_total = 0;  // n_ctx_per_seq * slots; 0 while not loaded
};

// A model in memory with its serving engine. Handlers hold a shared_ptr for the
// duration of a request, so unloading never pulls a model from under a request.
struct LoadedModel {
    ModelInfo info;
    std::shared_ptr<const llm::Model> model;
    std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
    std::unique_ptr<llm::ServingEngine> engine;
};

// The models a server offers: one --model file and/or every .gguf in --models-dir (by
// file stem, rescanned when listed). Directory models load on first use and are
// unloaded after `idle_unload` seconds unused, least recently used first when more
// than `max_loaded` are in memory. Thread-safe.
class ModelRegistry {
public:
    static Result<std::unique_ptr<ModelRegistry>> create(const ServerConfig& config);
    ~ModelRegistry();

    std::vector<ModelInfo> list() const;
    std::optional<ModelInfo> find(const std::string& id) const;
    // The loaded model, loading it first if needed (blocks while loading).
    // Error when the id is unknown (nullopt in `unknown`) or loading fails.
    Result<std::shared_ptr<LoadedModel>> acquire(const std::string& id, bool* unknown = nullptr);
    // The model if it is in memory now (never loads; cheap enough for an I/O thread).
    std::shared_ptr<LoadedModel> find_loaded(const std::string& id);
    EngineGauges gauges() const;
    // Every model offered (list()) and any still loaded whose file went, without
    // loading or touching any (a gateway polling must not keep models from unloading).
    std::vector<ModelStatus> status() const;
    const kernels::DeviceInfo& device_info() const { return device_->info(); }
    const std::string& chat_template_override() const { return chat_template_; }

private:
    explicit ModelRegistry(const ServerConfig& config);
    Result<std::shared_ptr<LoadedModel>> load(const ModelInfo& info) const;
    void reaper();

    ServerConfig config_;
    std::shared_ptr<kernels::Device> device_;  // every model's
    std::string chat_template_;
    std::optional<ModelInfo> pinned_;

    struct Entry {
        std::shared_ptr<LoadedModel> loaded;
        std::chrono::steady_clock::time_point last_used;
    };
    mutable std::mutex mutex_;
    std::mutex load_mutex_;  // one load at a time
    std::map<std::string, Entry> loaded_;

    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::thread reaper_;
};

}  // namespace hearth::server
