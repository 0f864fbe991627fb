#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hearth::kernels {

enum class KvType { F16, F32 };

// Keys and values of every layer for `n_seq` independent sequences of up to `n_ctx`
// positions each, in host memory: [layer][seq][pos][kv_dim]. F16 halves the memory of
// F32 at a small precision cost; F32 is for exact comparisons with references.
class KvCache {
public:
    KvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t kv_dim, KvType type);

    KvType type() const { return type_; }
    int64_t n_layer() const { return n_layer_; }
    int64_t n_seq() const { return n_seq_; }
    int64_t n_ctx() const { return n_ctx_; }
    int64_t kv_dim() const { return kv_dim_; }
    size_t element_size() const { return type_ == KvType::F16 ? 2 : 4; }
    size_t bytes() const { return k_.size() * 2; }

    uint8_t* k(int64_t layer, int64_t seq, int64_t pos) { return k_.data() + offset(layer, seq, pos); }
    uint8_t* v(int64_t layer, int64_t seq, int64_t pos) { return v_.data() + offset(layer, seq, pos); }
    const uint8_t* k(int64_t layer, int64_t seq, int64_t pos) const { return k_.data() + offset(layer, seq, pos); }
    const uint8_t* v(int64_t layer, int64_t seq, int64_t pos) const { return v_.data() + offset(layer, seq, pos); }

private:
    size_t offset(int64_t layer, int64_t seq, int64_t pos) const {
        return static_cast<size_t>(((layer * n_seq_ + seq) * n_ctx_ + pos) * kv_dim_) * element_size();
    }

    int64_t n_layer_, n_seq_, n_ctx_, kv_dim_;
    KvType type_;
    std::vector<uint8_t> k_, v_;
};

}  // namespace hearth::kernels
