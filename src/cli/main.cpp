#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "kernels/cpu/cpu_features.h"
#include "cli/engine_options.h"
#include "kernels/gpu_devices.h"

#ifndef HEARTH_VERSION
#define HEARTH_VERSION "0.0.0"
#endif

namespace {

void print_version() {
    using namespace hearth::kernels;
    std::printf("hearth %s\n", HEARTH_VERSION);
    std::printf("cpu: %s kernels (features: %s)\n", std::string(isa_name(preferred_isa())).c_str(),
                cpu_feature_string().c_str());
    hearth::cli::print_devices();
    if (cuda_compiled()) {
        const auto gpus = gpu_devices();
        if (gpus.empty()) std::printf("cuda: none (%s)\n", gpu_unavailable_reason().c_str());
        for (const auto& g : gpus) {
            std::printf("cuda %d: %s, sm_%d%d, %.1f GiB\n", g.index, g.name.c_str(), g.compute_major, g.compute_minor,
                        static_cast<double>(g.total_memory) / (1 << 30));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"hearth: local LLM and text-to-speech serving"};
    app.require_subcommand(0, 1);
    bool version = false;
    app.add_flag("--version", version, "Print version, CPU instruction set and GPUs");
    hearth::cli::add_inspect_command(app);
    hearth::cli::add_tokenize_command(app);
    hearth::cli::add_run_command(app);
    hearth::cli::add_bench_command(app);
    hearth::cli::add_serve_command(app);
    hearth::cli::add_say_command(app);
    hearth::cli::add_gateway_command(app);
    hearth::cli::add_convert_command(app);
    CLI11_PARSE(app, argc, argv);
    if (version) {
        print_version();
        return 0;
    }
    if (app.get_subcommands().empty()) {
        std::fputs(app.help().c_str(), stdout);
        return 1;
    }
    return hearth::cli::exit_code();
}
