#include "cli/engine_options.h"

#include <cstdio>

namespace hearth::cli {

void add_engine_options(CLI::App& cmd, EngineOptions& o) {
    cmd.add_option("-t,--threads", o.threads, "threads (0: all cores)")->capture_default_str();
    cmd.add_option("-c,--ctx-size", o.ctx, "context length (0: the model's, at most 4096)")->capture_default_str();
    cmd.add_option("-b,--batch-size", o.batch, "tokens per forward pass")->capture_default_str();
    cmd.add_option("--cache-type", o.cache_type, "KV cache type: f16 or f32")
        ->check(CLI::IsMember({"f16", "f32"}))
        ->capture_default_str();
    add_mmap_flag(cmd, o.mmap);
    add_device_options(cmd, o.device, o.gpu_layers);
}

void add_device_options(CLI::App& cmd, std::string& device, int& gpu_layers) {
    cmd.add_option("--device", device,
                   "where the model runs: auto (a GPU when one is usable), cpu, vulkan or vulkan:N")
        ->capture_default_str();
    cmd.add_option("-g,--gpu-layers", gpu_layers,
                   "layers on the GPU, the rest on the CPU: a number, or auto (as many as fit)")
        ->transform(CLI::Transformer({{"auto", "-1"}}))
        ->check(CLI::Range(-1, 1 << 20))
        ->default_str("auto");
}

void print_devices() {
    for (const kernels::DeviceInfo& d : kernels::list_devices()) std::printf("device: %s\n", d.describe().c_str());
    if (const std::string why = kernels::vulkan_unavailable_reason(); !why.empty()) std::printf("vulkan: %s\n", why.c_str());
}

Result<std::shared_ptr<const llm::Model>> load_model_logged(const std::string& path, const std::string& spec,
                                                            llm::LoadOptions load) {
    std::string note;
    auto device = kernels::open_device(spec, &note);
    if (!device) return device.error();
    std::fprintf(stderr, "%s\n", note.c_str());
    load.device = *device;
    auto model = llm::Model::load(path, load);
    if (model && (*device)->info().kind != "cpu") std::fprintf(stderr, "placement: %s\n", (*model)->placement().c_str());
    return model;
}

void add_mmap_flag(CLI::App& cmd, bool& mmap) {
    cmd.add_flag("--mmap", mmap,
                 "read the weights the kernels take as stored from the file's mapping instead of copying them at "
                 "load: faster load, less memory while the file is cached, slower decode on some hosts");
}

void add_sampling_options(CLI::App& cmd, llm::SamplingParams& s) {
    cmd.add_option("--temp", s.temperature, "temperature (0: greedy)")->capture_default_str();
    cmd.add_option("--top-k", s.top_k, "top-k (0: off)")->capture_default_str();
    cmd.add_option("--top-p", s.top_p, "top-p (1: off)")->capture_default_str();
    cmd.add_option("--min-p", s.min_p, "min-p (0: off)")->capture_default_str();
    cmd.add_option("--repeat-penalty", s.repeat_penalty, "repetition penalty (1: off)")->capture_default_str();
    cmd.add_option("--repeat-last-n", s.repeat_last_n, "tokens the penalties look back (-1: all)")->capture_default_str();
    cmd.add_option("--presence-penalty", s.presence_penalty, "presence penalty")->capture_default_str();
    cmd.add_option("--frequency-penalty", s.frequency_penalty, "frequency penalty")->capture_default_str();
    cmd.add_option("-s,--seed", s.seed, "random seed")->capture_default_str();
}

Result<Engine> load_engine(const std::string& path, const EngineOptions& o) {
    const kernels::KvType kv_type = o.cache_type == "f32" ? kernels::KvType::F32 : kernels::KvType::F16;
    auto model = load_model_logged(path, o.device,
                                   {.mmap = o.mmap, .gpu_layers = o.gpu_layers, .kv_ctx = o.ctx, .kv_type = kv_type});
    if (!model) return model.error();
    auto tok = tokenizer::Tokenizer::from_gguf((*model)->metadata());
    if (!tok) return make_error(path + ": " + tok.error().message);
    llm::ContextOptions co;
    co.n_ctx = o.ctx;
    co.n_threads = o.threads;
    co.n_batch = o.batch;
    co.kv_type = kv_type;
    auto ctx = llm::InferenceContext::create(*model, co);
    if (!ctx) return ctx.error();
    return Engine{std::move(model).value(), std::move(tok).value(), std::move(ctx).value()};
}

}  // namespace hearth::cli
