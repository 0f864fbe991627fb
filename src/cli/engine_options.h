#pragma once

#include <memory>
#include <string>

#include "cli/commands.h"
#include "llm/context.h"
#include "llm/model.h"
#include "llm/sampler.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {

// Options shared by the subcommands that load a model for inference.
struct EngineOptions {
    int threads = 0;
    int64_t ctx = 0;
    int64_t batch = 512;
    std::string cache_type = "f16";
    bool mmap = false;  // llm::LoadOptions::mmap
    std::string device = "auto";  // kernels::open_device
    int gpu_layers = -1;          // llm::LoadOptions::gpu_layers (-1: auto)
};

void add_engine_options(CLI::App& cmd, EngineOptions& o);
void add_sampling_options(CLI::App& cmd, llm::SamplingParams& s);
void add_mmap_flag(CLI::App& cmd, bool& mmap);  // --mmap, for commands without add_engine_options
// --device and --gpu-layers, for commands without add_engine_options.
void add_device_options(CLI::App& cmd, std::string& device, int& gpu_layers);
// Opens the device `spec` names and loads the model there (load.device is set), saying on
// stderr which device runs it (and, where auto fell back to the CPU, why) and, on a GPU,
// which layers it holds.
Result<std::shared_ptr<const llm::Model>> load_model_logged(const std::string& path, const std::string& spec,
                                                            llm::LoadOptions load);
void print_devices();  // every device this build can use, a line each, on stdout

struct Engine {
    std::shared_ptr<const llm::Model> model;
    tokenizer::Tokenizer tokenizer;
    std::unique_ptr<llm::InferenceContext> context;
};

Result<Engine> load_engine(const std::string& path, const EngineOptions& o);

}  // namespace hearth::cli
