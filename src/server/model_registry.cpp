#include "server/model_registry.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace hearth::server {
namespace fs = std::filesystem;

namespace {

int64_t mtime_seconds(const fs::path& p) {
    std::error_code ec;
    const auto t = fs::last_write_time(p, ec);
    if (ec) return 0;
    const auto sys = std::chrono::file_clock::to_sys(t);
    return std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
}

std::vector<ModelInfo> scan_dir(const std::string& dir) {
    std::vector<ModelInfo> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() != ".gguf") continue;
        std::error_code fec;
        if (!e.is_regular_file(fec)) continue;
        out.push_back({e.path().stem().string(), e.path().string(), mtime_seconds(e.path()), false});
    }
    std::sort(out.begin(), out.end(), [](const ModelInfo& a, const ModelInfo& b) { return a.id < b.id; });
    return out;
}

}  // namespace

ModelRegistry::ModelRegistry(const ServerConfig& config) : config_(config) {}

Result<std::unique_ptr<ModelRegistry>> ModelRegistry::create(const ServerConfig& config) {
    std::unique_ptr<ModelRegistry> r(new ModelRegistry(config));
    std::string note;
    auto device = kernels::open_device(config.device, &note);
    if (!device) return device.error();
    std::fprintf(stderr, "%s\n", note.c_str());
    r->device_ = std::move(device).value();
    if (!config.chat_template_file.empty()) {
        std::ifstream in(config.chat_template_file, std::ios::binary);
        if (!in) return make_error("cannot read chat template " + config.chat_template_file);
        std::stringstream ss;
        ss << in.rdbuf();
        r->chat_template_ = ss.str();
    }
    if (!config.models_dir.empty()) {
        std::error_code ec;
        if (!fs::is_directory(config.models_dir, ec)) return make_error("not a directory: " + config.models_dir);
    }
    if (!config.model.empty()) {
        const fs::path p(config.model);
        ModelInfo info{config.alias.empty() ? p.stem().string() : config.alias, config.model, mtime_seconds(p), true};
        auto loaded = r->load(info);
        if (!loaded) return loaded.error();
        r->pinned_ = info;
        r->loaded_[info.id] = Entry{std::move(*loaded), std::chrono::steady_clock::now()};
    }
    if (config.idle_unload > 0) r->reaper_ = std::thread([p = r.get()] { p->reaper(); });
    return r;
}

ModelRegistry::~ModelRegistry() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    if (reaper_.joinable()) reaper_.join();
}

std::vector<ModelInfo> ModelRegistry::list() const {
    std::vector<ModelInfo> out;
    if (pinned_) out.push_back(*pinned_);
    if (!config_.models_dir.empty()) {
        for (auto& m : scan_dir(config_.models_dir)) {
            if (!pinned_ || m.id != pinned_->id) out.push_back(std::move(m));
        }
    }
    return out;
}

std::optional<ModelInfo> ModelRegistry::find(const std::string& id) const {
    if (pinned_ && pinned_->id == id) return pinned_;
    if (config_.models_dir.empty() || id.empty() || id.find('/') != std::string::npos || id.find('\\') != std::string::npos ||
        id.find('\0') != std::string::npos || id == "." || id == "..") {
        return std::nullopt;
    }
    const fs::path p = fs::path(config_.models_dir) / (id + ".gguf");
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return std::nullopt;
    return ModelInfo{id, p.string(), mtime_seconds(p), false};
}

Result<std::shared_ptr<LoadedModel>> ModelRegistry::load(const ModelInfo& info) const {
    const llm::LoadOptions load{.mmap = config_.mmap, .device = device_, .gpu_layers = config_.gpu_layers,
                                .kv_ctx = config_.ctx_size, .kv_seq = config_.parallel};
    auto model = llm::Model::load(info.path, load);
    if (!model) return make_error(fmt::format("loading {}: {}", info.path, model.error().message));
    if (device_->info().kind != "cpu") std::fprintf(stderr, "%s: %s\n", info.id.c_str(), (*model)->placement().c_str());
    auto tok = tokenizer::Tokenizer::from_gguf((*model)->metadata());
    if (!tok) return make_error(fmt::format("tokenizer of {}: {}", info.path, tok.error().message));
    auto loaded = std::make_shared<LoadedModel>();
    loaded->info = info;
    loaded->model = *model;
    loaded->tokenizer = std::make_shared<const tokenizer::Tokenizer>(std::move(*tok));
    llm::ServingOptions opts;
    opts.n_parallel = config_.parallel;
    opts.n_ctx_per_seq = config_.ctx_size;
    opts.max_queue = config_.queue;
    opts.n_threads = config_.threads;
    auto engine = llm::ServingEngine::create(loaded->model, loaded->tokenizer, opts);
    if (!engine) return make_error(fmt::format("engine for {}: {}", info.path, engine.error().message));
    loaded->engine = std::move(*engine);
    return loaded;
}

Result<std::shared_ptr<LoadedModel>> ModelRegistry::acquire(const std::string& id, bool* unknown) {
    if (unknown) *unknown = false;
    {
        std::lock_guard lock(mutex_);
        if (auto it = loaded_.find(id); it != loaded_.end()) {
            it->second.last_used = std::chrono::steady_clock::now();
            return it->second.loaded;
        }
    }
    auto info = find(id);
    if (!info) {
        if (unknown) *unknown = true;
        return make_error(fmt::format("The model '{}' does not exist", id));
    }
    std::lock_guard load_lock(load_mutex_);
    {
        std::lock_guard lock(mutex_);  // loaded meanwhile by another request?
        if (auto it = loaded_.find(id); it != loaded_.end()) {
            it->second.last_used = std::chrono::steady_clock::now();
            return it->second.loaded;
        }
    }
    auto loaded = load(*info);
    if (!loaded) return loaded.error();
    std::vector<std::shared_ptr<LoadedModel>> evicted;  // destroyed outside the lock
    {
        std::lock_guard lock(mutex_);
        loaded_[id] = Entry{*loaded, std::chrono::steady_clock::now()};
        for (;;) {
            int n_dir = 0;
            auto lru = loaded_.end();
            for (auto it = loaded_.begin(); it != loaded_.end(); ++it) {
                if (it->second.loaded->info.pinned) continue;
                ++n_dir;
                if (it->first != id && (lru == loaded_.end() || it->second.last_used < lru->second.last_used)) lru = it;
            }
            if (n_dir <= config_.max_loaded || lru == loaded_.end()) break;
            evicted.push_back(std::move(lru->second.loaded));
            loaded_.erase(lru);
        }
    }
    return *loaded;
}

std::shared_ptr<LoadedModel> ModelRegistry::find_loaded(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = loaded_.find(id);
    if (it == loaded_.end()) return nullptr;
    it->second.last_used = std::chrono::steady_clock::now();
    return it->second.loaded;
}

EngineGauges ModelRegistry::gauges() const {
    EngineGauges g;
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : loaded_) {
        const auto s = e.loaded->engine->stats();
        ++g.models_loaded;
        g.active += s.active;
        g.queued += s.queued;
    }
    return g;
}

std::vector<ModelStatus> ModelRegistry::status() const {
    std::vector<ModelStatus> out;
    for (const auto& m : list()) {  // scans the folder: outside the lock
        ModelStatus st;
        st.id = m.id;
        st.path = m.path;
        st.slots_total = config_.parallel;
        out.push_back(std::move(st));
    }
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : loaded_) {
        auto it = std::find_if(out.begin(), out.end(), [&](const ModelStatus& s) { return s.id == id; });
        if (it == out.end()) {
            out.push_back(ModelStatus{.id = id, .path = e.loaded->info.path});
            it = out.end() - 1;
        }
        const llm::ServingEngine& engine = *e.loaded->engine;
        const auto stats = engine.stats();
        it->loaded = true;
        it->slots_total = engine.n_parallel();
        it->slots_busy = stats.active;
        it->queued = stats.queued;
        it->kv_tokens_used = stats.kv_tokens;
        it->kv_tokens_total = engine.n_ctx_per_seq() * engine.n_parallel();
    }
    return out;
}

void ModelRegistry::reaper() {
    const auto idle = std::chrono::duration<double>(config_.idle_unload);
    const auto period = std::chrono::milliseconds(
        std::clamp<int64_t>(static_cast<int64_t>(config_.idle_unload * 250), 50, 1000));
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        stop_cv_.wait_for(lock, period);
        if (stopping_) break;
        std::vector<std::shared_ptr<LoadedModel>> evicted;
        const auto now = std::chrono::steady_clock::now();
        for (auto it = loaded_.begin(); it != loaded_.end();) {
            const auto& e = it->second;
            // use_count 1: no request holds it.
            if (!e.loaded->info.pinned && e.loaded.use_count() == 1 && now - e.last_used > idle) {
                evicted.push_back(std::move(it->second.loaded));
                it = loaded_.erase(it);
            } else {
                ++it;
            }
        }
        if (!evicted.empty()) {
            lock.unlock();
            evicted.clear();  // joins the engines' threads without holding the lock
            lock.lock();
        }
    }
}

}  // namespace hearth::server
