#pragma once

// The device layer's contract. Everything above kernels/ computes through these two
// interfaces and names no device:
// - Device: one compute device (the CPU, a Vulkan GPU). It owns the memory of the
//   model's weights (prepare_matrix/prepare_vector lay them out for its kernels, e.g.
//   Q4_K panels on the CPU, device buffers on a GPU) and makes Backends. Shared by
//   every context of a model; thread-safe.
// - Backend: one stream of work on a device, used by one thread at a time (one
//   inference context). It owns the activation buffers and the KV cache it allocates,
//   takes a batch's token ids, positions and sequence ids once per forward pass
//   (begin_batch), and hands results back to the host only where asked (read).
// Ops may run as they are called (CPU) or be recorded and run at the next read() or
// synchronize() (GPU); a caller sees their results only through read().

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "gguf/ggml_type.h"

namespace hearth::kernels {

// A weight matrix as stored in GGUF, in host memory: `rows` output features, each a
// row of `cols` input features in `type`'s block layout, rows `row_bytes` apart.
struct WeightView {
    gguf::GgmlType type = gguf::GgmlType::F32;
    const uint8_t* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    size_t row_bytes = 0;

    size_t bytes() const { return static_cast<size_t>(rows) * row_bytes; }
};

// Weights (a matrix or a vector) in a device's memory, laid out for its kernels.
// Opaque above kernels/: made by Device::prepare_*, passed back to Backend ops.
class Weights {
public:
    virtual ~Weights() = default;
    gguf::GgmlType type() const { return type_; }
    int64_t rows() const { return rows_; }
    int64_t cols() const { return cols_; }
    // True while the device reads the host bytes it was prepared from (a CPU matrix left
    // in the file's mapping); false when it holds its own copy, so the caller may release them.
    bool reads_host_bytes() const { return reads_host_bytes_; }

protected:
    Weights(gguf::GgmlType type, int64_t rows, int64_t cols, bool reads_host)
        : type_(type), rows_(rows), cols_(cols), reads_host_bytes_(reads_host) {}

private:
    gguf::GgmlType type_;
    int64_t rows_, cols_;
    bool reads_host_bytes_;
};

// How a device may place a matrix.
struct PrepareOptions {
    bool multiplied = true;  // false: only read row by row (get_rows), e.g. an untied token embedding
    bool copy = true;        // false: a CPU device may read the host bytes in place (mmap)
    bool relayout = true;    // false: keep the stored layout where the device has a choice
};

// Activations: f32 values in a backend's memory, row-major.
class Buffer {
public:
    virtual ~Buffer() = default;
    int64_t size() const { return size_; }

protected:
    explicit Buffer(int64_t size) : size_(size) {}

private:
    int64_t size_;
};

enum class KvType { F16, F32 };

// Keys and values of every layer for `n_seq` independent sequences of up to `n_ctx`
// positions each.
struct KvCacheShape {
    int64_t n_layer = 0, n_seq = 1, n_ctx = 0, n_head_kv = 0, head_dim = 0;
    KvType type = KvType::F16;

    // Bytes of keys and values that one position of one sequence takes over all layers:
    // what a cache holds n_ctx times per sequence, and what a decode step reads once per
    // position before it.
    static double bytes_per_position(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, KvType type) {
        return 2.0 * static_cast<double>(n_layer) * static_cast<double>(n_head_kv * head_dim) *
               (type == KvType::F16 ? 2 : 4);
    }
    double bytes() const {
        return bytes_per_position(n_layer, n_head_kv, head_dim, type) * static_cast<double>(n_seq) *
               static_cast<double>(n_ctx);
    }
};

// The tokens of one forward pass: each has a position in its sequence and asks for
// logits or not. Host memory, valid until the next begin_batch.
struct BatchView {
    std::span<const int32_t> tokens;
    std::span<const int32_t> positions;
    std::span<const int32_t> seq_ids;
    std::span<const uint8_t> want_logits;
    int64_t size() const { return static_cast<int64_t>(tokens.size()); }
};

struct RopeParams {
    int64_t n_dims = 0;        // rotated dimensions of each head (the rest pass through)
    float theta_base = 10000;  // rope.freq_base
    float freq_scale = 1;      // 1 / linear scaling factor
    bool neox = false;         // pairs (i, i + n_dims/2) instead of (2i, 2i+1)
    const float* freq_factors = nullptr;  // host: n_dims/2 divisors of the frequencies (llama 3.1), or null
};

struct AttentionParams {
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t head_dim = 0;
    float scale = 1;  // usually 1/sqrt(head_dim)
};

// One product of matmul_shared_input(): y = x · wᵀ.
struct MatmulProduct {
    const Weights* w = nullptr;
    Buffer* y = nullptr;
};

// The operations a decoder-only transformer needs. Counts of rows and elements start
// at element 0 of each buffer. Ops that read the batch (get_rows, rope, store_kv,
// attention, gather_logit_rows) use the one given to the last begin_batch.
class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    virtual int n_threads() const = 0;

    // Memory. Errors (out of device memory) are values.
    virtual Result<std::unique_ptr<Buffer>> allocate(int64_t n_floats) = 0;
    virtual Result<void> allocate_kv_cache(const KvCacheShape& shape) = 0;
    virtual size_t kv_cache_bytes() const = 0;
    // Host → buffer (elements [0, values.size())), and buffer → host: read() first runs
    // everything recorded before it. A lost device is an error.
    virtual void write(Buffer& dst, std::span<const float> values) = 0;
    virtual Result<void> read(const Buffer& src, int64_t offset, std::span<float> out) = 0;
    // Runs everything recorded and waits for it.
    virtual Result<void> synchronize() = 0;

    virtual void begin_batch(const BatchView& batch) = 0;

    // out[i] = row tokens[i] of the table, as f32.
    virtual void get_rows(const Weights& table, Buffer& out) = 0;
    // y = x · Wᵀ: x is n_tokens × w.cols(), y is n_tokens × w.rows().
    virtual void matmul(const Weights& w, const Buffer& x, int64_t n_tokens, Buffer& y) = 0;
    // Several products of the same x (attention q/k/v, ffn gate/up): a backend can prepare
    // x once. Results equal one matmul() per output.
    virtual void matmul_shared_input(std::span<const MatmulProduct> outs, const Buffer& x, int64_t n_tokens) = 0;
    // y = x / rms(x) * weight, per row of `dim` (x and y may be the same buffer).
    virtual void rms_norm(const Buffer& x, const Weights& weight, Buffer& y, int64_t n_rows, int64_t dim,
                          float eps) = 0;
    // Rotates each head of each batch token in place; x is n_tokens × n_heads × head_dim.
    virtual void rope(Buffer& x, int64_t n_heads, int64_t head_dim, const RopeParams& p) = 0;
    // x[r] += bias for each row r of `dim`.
    virtual void add_bias(Buffer& x, const Weights& bias, int64_t n_rows, int64_t dim) = 0;
    // x += y elementwise.
    virtual void add(Buffer& x, const Buffer& y, int64_t n) = 0;
    // gate = silu(gate) * up elementwise.
    virtual void swiglu(Buffer& gate, const Buffer& up, int64_t n) = 0;
    // Writes k and v (n_tokens × kv_dim) into the cache at each batch token's (seq, pos).
    virtual void store_kv(int64_t layer, const Buffer& k, const Buffer& v) = 0;
    // Causal attention of each batch token over positions 0..pos of its sequence in the
    // cache. q and out are n_tokens × n_head × head_dim.
    virtual void attention(int64_t layer, const Buffer& q, const AttentionParams& p, Buffer& out) = 0;
    // Copies the rows (of `dim`) of the batch tokens that want logits to the front of
    // out, in batch order; returns how many.
    virtual int64_t gather_logit_rows(const Buffer& x, int64_t dim, Buffer& out) = 0;

    // GB/s at which this backend reads a buffer of its own memory far larger than the
    // caches (the CPU: main memory with its threads; a GPU: device memory): the ceiling
    // on decoding, which reads every weight once per token. Best of a few passes,
    // measured now, so a benchmark can measure right next to each run it bounds. The
    // buffer is allocated on first use and kept.
    virtual Result<double> measure_read_bandwidth() = 0;
};

// What a device reports of itself.
struct DeviceInfo {
    std::string name;        // "cpu-avx512", "NVIDIA GeForce RTX 3060"
    std::string kind;        // "cpu" or "vulkan"
    int index = 0;           // among the devices of its kind
    std::string driver;      // driver name and version ("" for the CPU)
    uint64_t memory_bytes = 0;  // memory the device can hold weights and caches in
    bool int_dot = false;    // integer dot products on 8-bit values
    bool fp16 = false;       // 16-bit float arithmetic
    bool coopmat = false;    // cooperative matrices
    std::string describe() const;  // one line for logs and --version
};

class Device {
public:
    virtual ~Device() = default;
    virtual const DeviceInfo& info() const = 0;
    virtual Result<std::unique_ptr<Weights>> prepare_matrix(const WeightView& w, const PrepareOptions& o) = 0;
    // n f32 values (norm weights, biases).
    virtual Result<std::unique_ptr<Weights>> prepare_vector(const float* values, int64_t n) = 0;
    // A backend with `n_threads` host threads (0: all cores; a GPU backend uses one).
    virtual Result<std::unique_ptr<Backend>> make_backend(int n_threads) = 0;
};

// Whether weights of this type can be multiplied (every device runs the same set).
bool matmul_supported(gguf::GgmlType type);

// The CPU device (its kernels chosen from cpuid).
std::shared_ptr<Device> cpu_device();

// Devices by name: "cpu", "vulkan" (the first usable Vulkan GPU), "vulkan:N", or
// "auto" (a Vulkan GPU when one is usable, else the CPU). `note` receives one line
// saying what was chosen and, where auto fell back to the CPU, why.
Result<std::shared_ptr<Device>> open_device(const std::string& spec, std::string* note = nullptr);

// Every device this build can use, for --version and bench (the CPU first).
std::vector<DeviceInfo> list_devices();

// Why no Vulkan device is usable ("" when one is; "not built" without HEARTH_VULKAN).
std::string vulkan_unavailable_reason();

}  // namespace hearth::kernels
