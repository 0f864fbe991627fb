// hearth_convert: Hugging Face models to GGUF without Python. `convert_hf_model` reads a
// model folder (config.json, tokenizer.json and tokenizer_config.json, safetensors shards)
// and writes the GGUF file llama.cpp's converter would: its tensor names and metadata keys,
// Q/K rows of llama-style RoPE permuted, tied embeddings, Llama 3.1 RoPE frequencies. The
// weights stream through one tensor at a time, converted on all threads.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "gguf/gguf_writer.h"

namespace hearth::convert {

struct ConvertOptions {
    std::string input_dir;
    std::string output_path;
    // f32, f16, bf16, q8_0, or auto: the checkpoint's own 16-bit type (bf16 or f16), else f16.
    std::string type = "auto";
    std::string name;  // general.name (default: the folder's name)
    std::string pre;   // tokenizer.ggml.pre instead of the one recognised from tokenizer.json
    int threads = 0;   // 0: all cores
    gguf::GgufWriter::Progress progress;
};

struct ConvertSummary {
    std::string hf_class;
    std::string gguf_arch;
    std::string type;  // of the matrices
    std::string pre;
    size_t tensors = 0;
    int64_t vocab = 0;
    uint64_t parameters = 0;
};

Result<ConvertSummary> convert_hf_model(const ConvertOptions& options);

}  // namespace hearth::convert
