#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/backend.h"

namespace hearth::kernels {

// Keys and values of every layer for `n_seq` independent sequences of up to `n_ctx`
// positions each, in host memory (the CPU backend's cache): [layer][seq][kv head][pos]
// [head_dim]. Head-major, so the keys (and values) one attention head reads are contiguous: the decode step
// streams them with the hardware prefetchers instead of one 2-4 KiB stride per key.
// F16 halves the memory of F32 at a small precision cost; F32 is for exact
// comparisons with references.
class KvCache {
public:
    KvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, KvType type);

    KvType type() const { return type_; }
    int64_t n_layer() const { return n_layer_; }
    int64_t n_seq() const { return n_seq_; }
    int64_t n_ctx() const { return n_ctx_; }
    int64_t n_head_kv() const { return n_head_kv_; }
    int64_t head_dim() const { return head_dim_; }
    int64_t kv_dim() const { return n_head_kv_ * head_dim_; }
    size_t element_size() const { return type_ == KvType::F16 ? 2 : 4; }
    // Bytes from one position of a head to the next.
    size_t pos_stride() const { return static_cast<size_t>(head_dim_) * element_size(); }
    size_t bytes() const { return k_.size() * 2; }

    // The head_dim elements of one head at one position.
    uint8_t* k(int64_t layer, int64_t seq, int64_t head, int64_t pos) { return k_.data() + offset(layer, seq, head, pos); }
    uint8_t* v(int64_t layer, int64_t seq, int64_t head, int64_t pos) { return v_.data() + offset(layer, seq, head, pos); }
    const uint8_t* k(int64_t layer, int64_t seq, int64_t head, int64_t pos) const {
        return k_.data() + offset(layer, seq, head, pos);
    }
    const uint8_t* v(int64_t layer, int64_t seq, int64_t head, int64_t pos) const {
        return v_.data() + offset(layer, seq, head, pos);
    }

private:
    size_t offset(int64_t layer, int64_t seq, int64_t head, int64_t pos) const {
        return static_cast<size_t>((((layer * n_seq_ + seq) * n_head_kv_ + head) * n_ctx_ + pos) * head_dim_) *
               element_size();
    }

    int64_t n_layer_, n_seq_, n_ctx_, n_head_kv_, head_dim_;
    KvType type_;
    std::vector<uint8_t> k_, v_;
};

}  // namespace hearth::kernels
