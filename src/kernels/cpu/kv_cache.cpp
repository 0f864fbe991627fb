#include "kernels/cpu/kv_cache.h"

namespace hearth::kernels {

KvCache::KvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, KvType type)
    : n_layer_(n_layer), n_seq_(n_seq), n_ctx_(n_ctx), n_head_kv_(n_head_kv), head_dim_(head_dim), type_(type) {
    const auto n = static_cast<size_t>(KvCacheShape::bytes_per_position(n_layer, n_head_kv, head_dim, type) / 2) *
                   static_cast<size_t>(n_seq * n_ctx);  // each of k and v
    k_.resize(n);
    v_.resize(n);
}

}  // namespace hearth::kernels
