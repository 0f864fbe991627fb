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

// One decoder block's weights, prepared by the model's device. Optional ones are null
// when the architecture has none.
struct LayerWeights {
    const kernels::Weights* attn_q = nullptr;
    const kernels::Weights* attn_k = nullptr;
    const kernels::Weights* attn_v = nullptr;
    const kernels::Weights* attn_output = nullptr;
    const kernels::Weights* ffn_gate = nullptr;
    const kernels::Weights* ffn_up = nullptr;
    const kernels::Weights* ffn_down = nullptr;
    const kernels::Weights* attn_norm = nullptr;
    const kernels::Weights* ffn_norm = nullptr;
    const kernels::Weights* q_bias = nullptr;
    const kernels::Weights* k_bias = nullptr;
    const kernels::Weights* v_bias = nullptr;
    const kernels::Weights* q_norm = nullptr;
    const kernels::Weights* k_norm = nullptr;
};

struct LoadOptions {
    // Multiplied matrices the CPU kernels take as stored are read from the file's mapping
    // instead of copied at load: less memory while the file is in the page cache (and
    // those pages shared between processes), slower decode where the page cache reads
    // slower than anonymous memory (the KVM host: x1.20 tg for the copy).
    bool mmap = false;
    // Where the weights live and the forward passes run (kernels::open_device); null: the CPU.
    std::shared_ptr<kernels::Device> device = nullptr;
    // On a GPU: the first gpu_layers layers there, the rest on the CPU (llama.cpp's -ngl);
    // -1: as many as fit beside their share of the KV cache the contexts will want
    // (kv_ctx positions x kv_seq sequences of kv_type; kv_ctx 0: the model's context,
    // capped at 4096, as ContextOptions::n_ctx).
    int gpu_layers = -1;
    int64_t kv_ctx = 0;
    int kv_seq = 1;
    kernels::KvType kv_type = kernels::KvType::F16;
};

// A loaded model: hyper-parameters and its weights, read from the memory-mapped GGUF and
// handed to the device, which lays them out for its kernels (Device::prepare_matrix: on
// the CPU, copies or Q4_K panels; on a GPU, device memory). The mapping's pages of
// weights the device holds elsewhere are released (see MappedFile::release). Immutable
// after load, so many inference contexts can share it.
class Model {
public:
    static Result<std::shared_ptr<const Model>> load(const std::string& path, const LoadOptions& options = {});
    static Result<std::shared_ptr<const Model>> from_file(gguf::GgufFile file, const LoadOptions& options = {});

    const HyperParams& hparams() const { return hp_; }
    const ArchTraits& traits() const { return *traits_; }
    const gguf::GgufFile& file() const { return file_; }
    const gguf::Metadata& metadata() const { return file_.metadata(); }
    // The devices holding the layers: one, or a GPU and then the CPU (LoadOptions::gpu_layers).
    const std::vector<std::shared_ptr<kernels::Device>>& devices() const { return devices_; }
    const std::shared_ptr<kernels::Device>& device() const { return devices_.front(); }
    int layer_device(int64_t layer) const { return layer_device_[static_cast<size_t>(layer)]; }  // into devices()
    int embedding_device() const { return layer_device_.front(); }
    int output_device() const { return layer_device_.back(); }
    uint64_t device_weight_bytes(int device) const { return device_bytes_[static_cast<size_t>(device)]; }
    std::string placement() const;  // which layers run where, for logs
    const std::vector<LayerWeights>& layers() const { return layers_; }
    const kernels::Weights& token_embd() const { return *token_embd_; }
    const kernels::Weights& output() const { return *output_; }
    const kernels::Weights& output_norm() const { return *output_norm_; }
    const float* rope_freqs() const { return rope_freqs_; }  // host memory, or null
    uint64_t weight_bytes() const { return weight_bytes_; }
    // What one decode step reads of the weights: all of them but an untied token
    // embedding table, of which only the token's own row is read.
    uint64_t decode_weight_bytes() const { return weight_bytes_ - (tied_ ? 0 : token_embd_view_.bytes()); }

private:
    Result<void> bind_weights();
    Result<void> place_layers(const LoadOptions& options);
    Result<const kernels::Weights*> matrix(const std::string& name, int64_t cols, int64_t rows,
                                           const kernels::PrepareOptions& o, int device);
    Result<const kernels::Weights*> place(const std::string& name, const kernels::WeightView& v,
                                          const kernels::PrepareOptions& o, int device, bool release = true);
    Result<const kernels::Weights*> prepared_vector(const std::string& name, int64_t n, int device,
                                                    bool required = true);
    Result<const float*> vector(const std::string& name, int64_t n, bool required = true);
    Result<kernels::WeightView> view(const std::string& name, int64_t cols, int64_t rows);

    gguf::GgufFile file_;
    HyperParams hp_;
    const ArchTraits* traits_ = nullptr;
    std::vector<std::shared_ptr<kernels::Device>> devices_;
    std::vector<int> layer_device_;      // per layer, into devices_
    std::vector<uint64_t> device_bytes_;  // weights prepared on each device
    std::string placement_note_;          // why a GPU holds no layer
    bool copy_ = true;  // !LoadOptions::mmap
    bool tied_ = false;
    kernels::WeightView token_embd_view_;
    const kernels::Weights* token_embd_ = nullptr;
    const kernels::Weights* output_ = nullptr;
    const kernels::Weights* output_norm_ = nullptr;
    const float* rope_freqs_ = nullptr;
    std::vector<LayerWeights> layers_;
    std::vector<std::vector<float>> converted_;  // 1-D weights stored in other types, as f32
    std::vector<std::unique_ptr<kernels::Weights>> prepared_;  // everything the pointers above point to
    uint64_t weight_bytes_ = 0;
};

}  // namespace hearth::llm
