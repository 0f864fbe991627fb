// `hearth convert HF_DIR -o OUT.gguf [--type f16]`: a Hugging Face model folder to GGUF.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "convert/convert.h"

namespace hearth::cli {

void add_convert_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("convert", "Convert a Hugging Face model folder (safetensors) to GGUF");
    auto o = std::make_shared<convert::ConvertOptions>();
    o->type = "f16";
    cmd->add_option("input", o->input_dir, "folder with config.json, tokenizer.json and *.safetensors")->required();
    cmd->add_option("-o,--output", o->output_path, "GGUF file to write")->required();
    cmd->add_option("--type", o->type, "matrices as f32, f16, bf16, q8_0, or auto (the checkpoint's 16-bit type)")
        ->capture_default_str();
    cmd->add_option("--name", o->name, "general.name (default: the folder's name)");
    cmd->add_option("--pre", o->pre, "tokenizer.ggml.pre to use instead of the one recognised from tokenizer.json");
    cmd->add_option("-t,--threads", o->threads, "threads (0: all cores)")->capture_default_str();
    cmd->callback([o] {
        // A bar that redraws itself on a terminal, a line per tensor otherwise (logs, CI).
        const bool tty = isatty(fileno(stderr));
        o->progress = [tty](size_t done, size_t total, const std::string& name) {
            if (tty) {
                std::fprintf(stderr, "\r[%4zu/%zu] %3zu%% %-40.40s", done, total, done * 100 / total, name.c_str());
                if (done == total) std::fputc('\n', stderr);
            } else {
                std::fprintf(stderr, "[%zu/%zu] %s\n", done, total, name.c_str());
            }
        };
        auto summary = convert::convert_hf_model(*o);
        if (!summary) return fail(summary.error().message);
        std::printf("%s -> %s: %s (%s), %zu tensors, %.2fB parameters, vocabulary %lld (pre-tokenizer %s), matrices %s\n",
                    o->input_dir.c_str(), o->output_path.c_str(), summary->gguf_arch.c_str(), summary->hf_class.c_str(),
                    summary->tensors, static_cast<double>(summary->parameters) / 1e9,
                    static_cast<long long>(summary->vocab), summary->pre.c_str(), summary->type.c_str());
    });
}

}  // namespace hearth::cli
