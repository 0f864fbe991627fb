// Small random-weight models of every architecture and weight type, loaded from memory,
// and how to compare their logits: the engine tests' one fixture.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "llm/model.h"
#include "llm/synthetic_model.h"

namespace hearth::llm {

using gguf::GgmlType;

inline std::shared_ptr<const Model> synthetic(const std::string& arch, GgmlType type, int64_t embd = 256,
                                              const LoadOptions& load = {}) {
    SyntheticModelOptions o;
    o.arch = arch;
    o.n_embd = embd;
    o.n_ff = 512;
    o.n_layer = 2;
    o.n_head = 4;
    o.n_head_kv = 2;
    o.weight_type = type;
    auto w = build_synthetic_model(o);
    EXPECT_TRUE(w.ok());
    auto bytes = std::make_shared<std::vector<uint8_t>>(w->to_bytes().value());
    static std::vector<std::shared_ptr<std::vector<uint8_t>>> keep_alive;  // GgufFile::parse does not own bytes
    keep_alive.push_back(bytes);
    auto file = gguf::GgufFile::parse(*bytes);
    EXPECT_TRUE(file.ok());
    auto model = Model::from_file(std::move(file).value(), load);
    EXPECT_TRUE(model.ok()) << model.error().message;
    return model.ok() ? *model : nullptr;
}

inline double rel_diff(std::span<const float> a, std::span<const float> b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
        den += b[i] * static_cast<double>(b[i]);
    }
    return std::sqrt(num / std::max(den, 1e-30));
}

// How far logits of the same tokens may differ between batch compositions.
inline double batch_tolerance(GgmlType type) {
    const bool float_weights = type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
    return float_weights ? 1e-3 : 3e-2;
}

}  // namespace hearth::llm
