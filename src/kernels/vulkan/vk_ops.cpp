// VulkanBackend's ops: each checks its arguments on the host, binds buffer ranges and
// records dispatches of the shaders in shaders/. The push-constant structs mirror the
// `Push` blocks of the shaders field for field.

#include <algorithm>
#include <string>

#include "kernels/vulkan/vk_backend.h"
#include "kernels/vulkan/vk_util.h"

namespace hearth::kernels::vk {
namespace {

// matmul_vec.comp: up to this many tokens per pass, ROWS rows per workgroup.
constexpr int64_t kVecMaxTokens = 8;
constexpr int64_t kVecRows = 2;
// matmul_tile.comp: BM rows × BN tokens per workgroup.
constexpr int64_t kTileRows = 64, kTileTokens = 64;
// attention.comp: MAX_G heads per workgroup, head_dim up to MAX_D, BLOCK positions per step.
constexpr int64_t kAttnMaxGroup = 8, kAttnMaxHeadDim = 256, kAttnBlock = 128;
// Decode attention splits a long context over workgroups of at least this many positions
// when there would otherwise be fewer than kAttnMinWorkgroups workgroups.
constexpr int64_t kAttnSplitSpan = 256, kAttnMinWorkgroups = 128, kAttnMaxSplits = 32;

struct MatmulPush {
    uint32_t x_base, y_base, rows, cols, row_bytes, n_tokens, y_stride, n_groups;
};
struct GetRowsPush {
    uint32_t y_base, rows, cols, row_bytes, row0, tokens_at;
};
struct RmsNormPush {
    uint32_t x_base, y_base, n_rows, dim;
    float eps;
};
struct RopePush {
    uint32_t x_base, n_heads, head_dim, half_dims, neox, positions_at, total;
};
struct ElementwisePush {
    uint32_t x_base, y_base, n, dim;
};
struct StoreKvPush {
    uint32_t k_base, v_base, n_head_kv, head_dim, n_ctx, seq_at, positions_at, total;
};
struct AttentionPush {
    uint32_t q_base, o_base, n_head, n_head_kv, head_dim, group, n_ctx;
    float scale;
    uint32_t seq_at, positions_at, n_splits, split_span;
};
struct CombinePush {
    uint32_t o_base, head_dim, n_splits, n_heads_total;
};

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

Binding whole(const DeviceBuffer& b) { return Binding{b.handle(), 0, b.size()}; }

}  // namespace

void VulkanBackend::get_rows(const Weights& table, Buffer& out) {
    const auto& w = static_cast<const VulkanWeights&>(table);
    const int64_t n = static_cast<int64_t>(tokens_.size());
    if (n == 0) return;
    for (int32_t id : tokens_) {
        if (id < 0 || id >= w.rows()) return recorder_.fail(make_error("Vulkan get_rows: token " + std::to_string(id) + " out of range"));
    }
    Binding ob;
    uint32_t out_base;
    if (!bind(out, 0, n * w.cols(), ob, out_base)) return;
    const std::string pipeline = std::string("get_rows_") + weight_type_suffix(w.type());
    const int64_t unit_groups = (w.cols() + 8 * 64 - 1) / (8 * 64);
    for (const WeightChunk& c : w.chunks()) {
        const bool used = std::any_of(tokens_.begin(), tokens_.end(),
                                      [&](int32_t id) { return id >= c.first_row && id < c.first_row + c.rows; });
        if (!used) continue;
        const GetRowsPush push{out_base, u32(c.rows), u32(w.cols()), u32(w.row_bytes()), u32(c.first_row), 0};
        const Binding b[] = {whole(c.buffer), ob, bind_batch()};
        recorder_.dispatch(pipeline, b, &push, sizeof push, u32(unit_groups), u32(n), 1);
    }
}

// Tokens [t0, t0 + nt) of x against one chunk of W's rows.
void VulkanBackend::matmul_chunk(const VulkanWeights& w, const WeightChunk& c, const Buffer& x, int64_t t0, int64_t nt,
                                 Buffer& y) {
    const int64_t rows = w.rows(), cols = w.cols();
    Binding xb, yb;
    uint32_t x_base, y_base;
    if (!bind(x, t0 * cols, nt * cols, xb, x_base)) return;
    if (!bind(y, t0 * rows + c.first_row, (nt - 1) * rows + c.rows, yb, y_base)) return;
    const Binding b[] = {whole(c.buffer), xb, yb};
    const char* suffix = weight_type_suffix(w.type());
    if (nt <= kVecMaxTokens) {
        const int64_t groups = (c.rows + kVecRows - 1) / kVecRows;
        const MatmulPush push{x_base, y_base, u32(c.rows), u32(cols), u32(w.row_bytes()), u32(nt), u32(rows), u32(groups)};
        recorder_.dispatch_flat(std::string("matmul_vec_") + suffix, b, &push, sizeof push, static_cast<uint64_t>(groups));
    } else {
        const MatmulPush push{x_base, y_base, u32(c.rows), u32(cols), u32(w.row_bytes()), u32(nt), u32(rows), 0};
        recorder_.dispatch(std::string("matmul_tile_") + suffix, b, &push, sizeof push,
                           u32((c.rows + kTileRows - 1) / kTileRows), u32((nt + kTileTokens - 1) / kTileTokens), 1);
    }
}

void VulkanBackend::matmul(const Weights& weights, const Buffer& x, int64_t n_tokens, Buffer& y) {
    const auto& w = static_cast<const VulkanWeights&>(weights);
    if (n_tokens <= 0) return;
    if (x.size() < n_tokens * w.cols() || y.size() < n_tokens * w.rows()) {
        return recorder_.fail(make_error("Vulkan matmul: buffers smaller than n_tokens rows"));
    }
    // Token ranges whose x and y spans each fit one binding (a large vocabulary's logits
    // for many tokens may not).
    const int64_t max_elems = static_cast<int64_t>(device_->max_binding_bytes() / 4);
    const int64_t per_pass = std::max<int64_t>(1, max_elems / std::max(w.rows(), w.cols()) - 1);
    // The mat-vec kernel reads the weights once per 8 tokens: past that, tile.
    const int64_t step = n_tokens <= kVecMaxTokens ? n_tokens : std::min(n_tokens, per_pass);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += step) {
        const int64_t nt = std::min(step, n_tokens - t0);
        for (const WeightChunk& c : w.chunks()) matmul_chunk(w, c, x, t0, nt, y);
    }
}

void VulkanBackend::matmul_shared_input(std::span<const MatmulProduct> outs, const Buffer& x, int64_t n_tokens) {
    recorder_.begin_independent();
    for (const MatmulProduct& o : outs) matmul(*o.w, x, n_tokens, *o.y);
    recorder_.end_independent();
}

void VulkanBackend::rms_norm(const Buffer& x, const Weights& weight, Buffer& y, int64_t n_rows, int64_t dim, float eps) {
    const auto& w = static_cast<const VulkanWeights&>(weight);
    if (n_rows <= 0 || dim <= 0) return;
    if (w.cols() * w.rows() < dim) return recorder_.fail(make_error("Vulkan rms_norm: weight shorter than dim"));
    Binding xb, yb;
    uint32_t x_base, y_base;
    if (!bind(x, 0, n_rows * dim, xb, x_base) || !bind(y, 0, n_rows * dim, yb, y_base)) return;
    const RmsNormPush push{x_base, y_base, u32(n_rows), u32(dim), eps};
    const Binding b[] = {xb, whole(w.chunks()[0].buffer), yb};
    recorder_.dispatch_flat("rms_norm", b, &push, sizeof push, static_cast<uint64_t>(n_rows));
}

void VulkanBackend::rope(Buffer& x, int64_t n_heads, int64_t head_dim, const RopeParams& p) {
    const int64_t n = static_cast<int64_t>(tokens_.size());
    const int64_t half = p.n_dims / 2;
    if (n == 0 || half == 0) return;
    if (p.n_dims > head_dim || p.n_dims % 2 != 0) return recorder_.fail(make_error("Vulkan rope: bad n_dims"));
    const DeviceBuffer* freqs = rope_frequencies(p);
    if (!freqs) return;
    Binding xb;
    uint32_t x_base;
    if (!bind(x, 0, n * n_heads * head_dim, xb, x_base)) return;
    const int64_t total = n * n_heads * half;
    const RopePush push{x_base, u32(n_heads), u32(head_dim), u32(half), p.neox ? 1u : 0u, u32(n), u32(total)};
    const Binding b[] = {xb, whole(*freqs), bind_batch()};
    recorder_.dispatch_flat("rope", b, &push, sizeof push, static_cast<uint64_t>((total + 63) / 64));
}

// x op= y over n elements, in ranges that fit one binding.
void VulkanBackend::elementwise(const char* pipeline, Buffer& x, const Buffer& y, int64_t n) {
    const int64_t step = static_cast<int64_t>(device_->max_binding_bytes() / 4) - 64;
    for (int64_t first = 0; first < n; first += step) {
        const int64_t count = std::min(step, n - first);
        Binding xb, yb;
        uint32_t x_base, y_base;
        if (!bind(x, first, count, xb, x_base)) return;
        if (!bind(y, first, count, yb, y_base)) return;
        const ElementwisePush push{x_base, y_base, u32(count), 1};
        const Binding b[] = {xb, yb};
        recorder_.dispatch_flat(pipeline, b, &push, sizeof push, static_cast<uint64_t>((count + 255) / 256));
    }
}

void VulkanBackend::add_bias(Buffer& x, const Weights& bias, int64_t n_rows, int64_t dim) {
    const auto& w = static_cast<const VulkanWeights&>(bias);
    if (n_rows <= 0 || dim <= 0) return;
    if (w.cols() * w.rows() < dim) return recorder_.fail(make_error("Vulkan add_bias: bias shorter than dim"));
    // The bias is a weight, not a Buffer: bind it directly.
    const int64_t n = n_rows * dim;
    Binding xb;
    uint32_t x_base;
    if (!bind(x, 0, n, xb, x_base)) return;
    const ElementwisePush push{x_base, 0, u32(n), u32(dim)};
    const Binding b[] = {xb, whole(w.chunks()[0].buffer)};
    recorder_.dispatch_flat("add_bias", b, &push, sizeof push, static_cast<uint64_t>((n + 255) / 256));
}

void VulkanBackend::add(Buffer& x, const Buffer& y, int64_t n) {
    if (n > 0) elementwise("add", x, y, n);
}

void VulkanBackend::swiglu(Buffer& gate, const Buffer& up, int64_t n) {
    if (n > 0) elementwise("swiglu", gate, up, n);
}

void VulkanBackend::store_kv(int64_t layer, const Buffer& k, const Buffer& v) {
    const int64_t n = static_cast<int64_t>(tokens_.size());
    const KvCacheShape& s = kv_shape_;
    if (n == 0) return;
    if (layer < 0 || layer >= static_cast<int64_t>(k_cache_.size())) return recorder_.fail(make_error("Vulkan store_kv: no cache for layer " + std::to_string(layer)));
    for (int64_t t = 0; t < n; ++t) {
        if (seq_ids_[static_cast<size_t>(t)] < 0 || seq_ids_[static_cast<size_t>(t)] >= s.n_seq ||
            positions_[static_cast<size_t>(t)] < 0 || positions_[static_cast<size_t>(t)] >= s.n_ctx) {
            return recorder_.fail(make_error("Vulkan store_kv: token " + std::to_string(t) + " outside the cache"));
        }
    }
    const int64_t kv_dim = s.n_head_kv * s.head_dim;
    Binding kb, vb;
    uint32_t k_base, v_base;
    if (!bind(k, 0, n * kv_dim, kb, k_base) || !bind(v, 0, n * kv_dim, vb, v_base)) return;
    const int64_t total = n * kv_dim / 2;
    const StoreKvPush push{k_base, v_base, u32(s.n_head_kv), u32(s.head_dim), u32(s.n_ctx), u32(2 * n), u32(n), u32(total)};
    const Binding b[] = {kb, vb, whole(k_cache_[static_cast<size_t>(layer)]), whole(v_cache_[static_cast<size_t>(layer)]),
                         bind_batch()};
    recorder_.dispatch_flat(s.type == KvType::F16 ? "store_kv_f16" : "store_kv_f32", b, &push, sizeof push,
                            static_cast<uint64_t>((total + 63) / 64));
}

void VulkanBackend::attention(int64_t layer, const Buffer& q, const AttentionParams& p, Buffer& out) {
    const KvCacheShape& s = kv_shape_;
    if (tokens_.empty()) return;
    if (layer < 0 || layer >= static_cast<int64_t>(k_cache_.size())) return recorder_.fail(make_error("Vulkan attention: no cache for layer " + std::to_string(layer)));
    if (p.n_head_kv != s.n_head_kv || p.head_dim != s.head_dim || p.n_head <= 0 || p.n_head % p.n_head_kv != 0) {
        return recorder_.fail(make_error("Vulkan attention: heads do not match the KV cache"));
    }
    if (p.head_dim > kAttnMaxHeadDim) return recorder_.fail(make_error("Vulkan attention: head_dim over 256"));
    for (size_t t = 0; t < tokens_.size(); ++t) {
        if (seq_ids_[t] < 0 || seq_ids_[t] >= s.n_seq || positions_[t] < 0 || positions_[t] >= s.n_ctx) {
            return recorder_.fail(make_error("Vulkan attention: token " + std::to_string(t) + " outside the cache"));
        }
    }
    attention_dispatch(layer, q, p, out);
}

void VulkanBackend::attention_dispatch(int64_t layer, const Buffer& q, const AttentionParams& p, Buffer& out) {
    const KvCacheShape& s = kv_shape_;
    const int64_t n = static_cast<int64_t>(tokens_.size());
    const int64_t group = p.n_head / p.n_head_kv;
    const int64_t chunks = (group + kAttnMaxGroup - 1) / kAttnMaxGroup;
    const int64_t max_keys = *std::max_element(positions_.begin(), positions_.end()) + 1;
    // Few workgroups over a long context leave most of a GPU idle: split the positions.
    int64_t n_splits = 1;
    const int64_t workgroups = n * p.n_head_kv * chunks;
    if (workgroups < kAttnMinWorkgroups && max_keys > kAttnSplitSpan) {
        n_splits = std::min({kAttnMaxSplits, (max_keys + kAttnSplitSpan - 1) / kAttnSplitSpan,
                             (kAttnMinWorkgroups + workgroups - 1) / workgroups});
    }
    const int64_t span = ((max_keys + n_splits - 1) / n_splits + kAttnBlock - 1) / kAttnBlock * kAttnBlock;
    const int64_t hd = p.head_dim;
    Binding qb, ob, partial;
    uint32_t q_base, o_base;
    if (!bind(q, 0, n * p.n_head * hd, qb, q_base) || !bind(out, 0, n * p.n_head * hd, ob, o_base)) return;
    if (n_splits > 1) {
        const VkDeviceSize bytes = static_cast<VkDeviceSize>(n * p.n_head * n_splits * (hd + 2)) * 4;
        if (attention_partial_.size() < bytes) {
            if (attention_partial_) recorder_.retire(std::move(attention_partial_));
            Result<DeviceBuffer> b = device_->create_buffer(bytes, MemoryUse::device_local, "attention partial results");
            if (!b) return recorder_.fail(b.error());
            attention_partial_ = std::move(*b);
        }
        partial = whole(attention_partial_);
    } else {
        partial = ob;  // unused by the shader
    }
    const AttentionPush push{q_base, o_base, u32(p.n_head), u32(p.n_head_kv), u32(hd), u32(group), u32(s.n_ctx),
                             p.scale, u32(2 * n), u32(n), u32(n_splits), u32(span)};
    const Binding b[] = {qb, whole(k_cache_[static_cast<size_t>(layer)]), whole(v_cache_[static_cast<size_t>(layer)]), ob,
                         bind_batch(), partial};
    recorder_.dispatch(s.type == KvType::F16 ? "attention_f16" : "attention_f32", b, &push, sizeof push, u32(n),
                       u32(p.n_head_kv), u32(chunks * n_splits));
    if (n_splits > 1) {
        const CombinePush cpush{o_base, u32(hd), u32(n_splits), u32(n * p.n_head)};
        const Binding cb[] = {partial, ob};
        recorder_.dispatch_flat("attention_combine", cb, &cpush, sizeof cpush, static_cast<uint64_t>(n * p.n_head));
    }
}

int64_t VulkanBackend::gather_logit_rows(const Buffer& x, int64_t dim, Buffer& out) {
    const bool in_place = &x == &out;
    const VkDeviceSize row_bytes = static_cast<VkDeviceSize>(dim) * 4;
    std::vector<VkBufferCopy> regions;
    int64_t count = 0;
    for (size_t t = 0; t < want_logits_.size(); ++t) {
        if (!want_logits_[t]) continue;
        const VkDeviceSize src = t * row_bytes, dst = static_cast<VkDeviceSize>(count++) * row_bytes;
        if (in_place && src == dst) continue;
        // Consecutive wanted rows become one region (not in place: a merged region
        // could overlap itself).
        if (!in_place && !regions.empty() && regions.back().srcOffset + regions.back().size == src &&
            regions.back().dstOffset + regions.back().size == dst) {
            regions.back().size += row_bytes;
        } else {
            regions.push_back({src, dst, row_bytes});
        }
    }
    if (static_cast<int64_t>(want_logits_.size()) * dim > x.size() || count * dim > out.size()) {
        recorder_.fail(make_error("Vulkan gather_logit_rows: buffers too small"));
        return count;
    }
    VkBuffer src = static_cast<const VulkanBuffer&>(x).buffer.handle();
    VkBuffer dst = static_cast<VulkanBuffer&>(out).buffer.handle();
    if (!in_place) {
        recorder_.copy(src, dst, regions);
        return count;
    }
    // In place, rows move to the front one at a time: a row's destination lies before
    // its source and after every row moved so far, and one copy command may not have
    // regions that overlap, so each gets its own (ordered by barriers).
    for (const VkBufferCopy& r : regions) recorder_.copy(src, dst, std::span(&r, 1));
    return count;
}

}  // namespace hearth::kernels::vk
