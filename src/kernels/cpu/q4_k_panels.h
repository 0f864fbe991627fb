// Q4_K weights re-laid out once, at load time, for the one-token matmul. In the GGUF
// layout a decode kernel spends about 33 vector ops per 144-byte block on one row
// (unpacking nibbles, spreading the row's 6-bit scales over lanes, a float epilogue
// per block), which on 2 cores keeps it below the memory bandwidth. Here 16 rows are
// interleaved so that int32 lane r of every vector belongs to row r: a vpdpbusd
// against one token's 4 activations broadcast to all lanes does 64 products for 16
// rows, and scales, mins and the float epilogue are shared by all 16 rows.
//
// The panel of rows 16p..16p+15 takes the bytes those rows take in the GGUF tensor
// (so row r's panel starts at r · row_bytes), as one 2304-byte unit per super-block
// (256 columns) i, in order:
//   quants  32 × 64 bytes: vector v = 8c + k holds in lane r row r's qs[32c + 4k .. +3]
//           (low nibbles: elements 64c + 4k.. of sub-block 2c; high: 64c + 32 + 4k..
//           of sub-block 2c + 1)
//   scales  12 × 16 bytes: byte b of every row's 12 packed 6-bit scales and mins
//   d       16 × f16, then dmin 16 × f16
// Nothing is decoded or rounded: unpack_q4_k_panels() gives back the original bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/matmul.h"

namespace hearth::kernels {

inline constexpr int64_t kQ4KPanelRows = 16;
inline constexpr size_t kQ4KPanelQuants = 2048, kQ4KPanelScales = 2048, kQ4KPanelD = kQ4KPanelScales + 192,
                        kQ4KPanelDmin = kQ4KPanelD + 32, kQ4KPanelUnit = kQ4KPanelDmin + 32;
static_assert(kQ4KPanelUnit == 16 * 144);

// Whether `w` can be laid out in panels: Q4_K, whole panels of rows, no row padding.
bool q4_k_panels_fit(const WeightMatrix& w);
// Writes w's rows as panels to dst (w.rows · w.row_bytes bytes).
void pack_q4_k_panels(const WeightMatrix& w, uint8_t* dst);
// The inverse: the GGUF bytes of w's rows from their panels.
void unpack_q4_k_panels(const WeightMatrix& w, const uint8_t* panels, uint8_t* dst);

}  // namespace hearth::kernels
