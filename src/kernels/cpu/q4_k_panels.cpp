#include "kernels/cpu/q4_k_panels.h"

#include <cstring>

#include "tensor/quant_blocks.h"

namespace hearth::kernels {
namespace {

using tensor::BlockQ4_K;

// Where each byte of row r's block goes in its panel unit, for both directions.
template <class Copy>
void for_each_block(const WeightMatrix& w, Copy copy) {
    const int64_t nb = w.cols / tensor::kQK_K;
    for (int64_t p = 0; p < w.rows / kQ4KPanelRows; ++p) {
        const size_t panel = static_cast<size_t>(p * kQ4KPanelRows) * w.row_bytes;
        for (int64_t i = 0; i < nb; ++i) {
            const size_t unit = panel + static_cast<size_t>(i) * kQ4KPanelUnit;
            for (int64_t r = 0; r < kQ4KPanelRows; ++r) {
                const size_t row = panel + static_cast<size_t>(r) * w.row_bytes + static_cast<size_t>(i) * sizeof(BlockQ4_K);
                copy(row, unit, static_cast<size_t>(r));
            }
        }
    }
}

constexpr size_t kQs = offsetof(BlockQ4_K, qs), kScales = offsetof(BlockQ4_K, scales);

}  // namespace

bool q4_k_panels_fit(const WeightMatrix& w) {
    return w.type == gguf::GgmlType::Q4_K && w.rows > 0 && w.rows % kQ4KPanelRows == 0 && w.cols % tensor::kQK_K == 0 &&
           w.row_bytes == static_cast<size_t>(w.cols / tensor::kQK_K) * sizeof(BlockQ4_K);
}

void pack_q4_k_panels(const WeightMatrix& w, uint8_t* dst) {
    const uint8_t* src = w.data;
    for_each_block(w, [&](size_t row, size_t unit, size_t r) {
        for (size_t v = 0; v < kQ4KPanelQuants / 64; ++v) std::memcpy(dst + unit + 64 * v + 4 * r, src + row + kQs + 4 * v, 4);
        for (size_t b = 0; b < 12; ++b) dst[unit + kQ4KPanelScales + 16 * b + r] = src[row + kScales + b];
        std::memcpy(dst + unit + kQ4KPanelD + 2 * r, src + row + offsetof(BlockQ4_K, d), 2);
        std::memcpy(dst + unit + kQ4KPanelDmin + 2 * r, src + row + offsetof(BlockQ4_K, dmin), 2);
    });
}

void unpack_q4_k_panels(const WeightMatrix& w, const uint8_t* panels, uint8_t* dst) {
    for_each_block(w, [&](size_t row, size_t unit, size_t r) {
        for (size_t v = 0; v < kQ4KPanelQuants / 64; ++v) std::memcpy(dst + row + kQs + 4 * v, panels + unit + 64 * v + 4 * r, 4);
        for (size_t b = 0; b < 12; ++b) dst[row + kScales + b] = panels[unit + kQ4KPanelScales + 16 * b + r];
        std::memcpy(dst + row + offsetof(BlockQ4_K, d), panels + unit + kQ4KPanelD + 2 * r, 2);
        std::memcpy(dst + row + offsetof(BlockQ4_K, dmin), panels + unit + kQ4KPanelDmin + 2 * r, 2);
    });
}

}  // namespace hearth::kernels
