#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "gguf/gguf_file.h"
#include "kernels/backend.h"
#include "llm/model_spec.h"

namespace hearth::llm {

// What distinguishes one llama-family architecture from another in the shared decoder.
// Each architecture file (arch_*.cpp) defines one; see arch_registry.cpp.
struct ArchTraits {
    Arch arch = Arch::Llama;
    bool neox_rope = false;   // rotate (i, i + d/2) pairs instead of (2i, 2i + 1)
    bool qkv_bias = false;    // attn_{q,k,v}.bias (Qwen2)
    bool qk_norm = false;     // per-head RMS norm of q and k before rope (Qwen3)
};

const ArchTraits& arch_traits(Arch arch);

struct LayerWeights {
    kernels::WeightMatrix attn_q, attn_k, attn_v, attn_output;
    kernels::WeightMatrix ffn_gate, ffn_up, ffn_down;
    const float* attn_norm = nullptr;
    const float* ffn_norm = nullptr;
    const float* q_bias = nullptr;
    const float* k_bias = nullptr;
    const float* v_bias = nullptr;
    const float* q_norm = nullptr;
    const float* k_norm = nullptr;
};

// A loaded model: hyper-parameters and weight views into the memory-mapped GGUF, with
// every multiplied matrix copied into memory of its own at load, re-laid out where the
// CPU kernels want another layout (see pack_for_matmul; HEARTH_WEIGHT_PANELS=0 copies
// them as stored) and as stored otherwise (LoadOptions::mmap leaves those in the
// mapping). The mapping's pages of matrices placed elsewhere are released (see
// MappedFile::release). Immutable after load, so many inference contexts can share it.
struct LoadOptions {
    // Multiplied matrices the kernels take as stored are read from the file's mapping
    // instead of copied at load: less memory while the file is in the page cache (and
    // those pages shared between processes), slower decode where the page cache reads
    // slower than anonymous memory (the KVM host: x1.20 tg for the copy).
    bool mmap = false;
};

class Model {
public:
    static Result<std::shared_ptr<const Model>> load(const std::string& path, const LoadOptions& options = {});
    static Result<std::shared_ptr<const Model>> from_file(gguf::GgufFile file, const LoadOptions& options = {});

    const HyperParams& hparams() const { return hp_; }
    const ArchTraits& traits() const { return *traits_; }
    const gguf::GgufFile& file() const { return file_; }
    const gguf::Metadata& metadata() const { return file_.metadata(); }
    const std::vector<LayerWeights>& layers() const { return layers_; }
    const kernels::WeightMatrix& token_embd() const { return token_embd_; }
    const kernels::WeightMatrix& output() const { return output_; }
    const float* output_norm() const { return output_norm_; }
    const float* rope_freqs() const { return rope_freqs_; }
    uint64_t weight_bytes() const { return weight_bytes_; }
    // What one decode step reads of the weights: all of them but an untied token
    // embedding table, of which only the token's own row is read.
    uint64_t decode_weight_bytes() const {
        const bool tied = output_.data == token_embd_.data;
        return weight_bytes_ - (tied ? 0 : static_cast<uint64_t>(token_embd_.rows) * token_embd_.row_bytes);
    }

private:
    Result<void> bind_weights();
    void pack_weights(const LoadOptions& options);
    Result<kernels::WeightMatrix> matrix(const std::string& name, int64_t cols, int64_t rows);
    Result<const float*> vector(const std::string& name, int64_t n, bool required = true);

    gguf::GgufFile file_;
    HyperParams hp_;
    const ArchTraits* traits_ = nullptr;
    kernels::WeightMatrix token_embd_, output_;
    const float* output_norm_ = nullptr;
    const float* rope_freqs_ = nullptr;
    std::vector<LayerWeights> layers_;
    std::vector<std::vector<float>> converted_;  // 1-D weights stored in other types, as f32
    std::vector<kernels::PackedWeights> packed_;  // the matrices' own memory (pack_weights)
    uint64_t weight_bytes_ = 0;
};

}  // namespace hearth::llm
