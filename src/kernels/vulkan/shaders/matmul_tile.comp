#version 450
// y = x · Wᵀ for many tokens (prefill): a workgroup computes a BM-row × BN-token tile.
// Per BK-column step it dequantizes BM×BK weights and loads BN×BK activations into
// shared memory once, then each of the 256 threads accumulates a 4×4 micro-tile, so
// every weight element is dequantized once per BN tokens instead of once per token.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#define BM 64
#define BN 64
#define BK 32
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer WeightBuf { uint w32[]; };
layout(std430, binding = 1) readonly buffer InputBuf { float x[]; };
layout(std430, binding = 2) writeonly buffer OutputBuf { float y[]; };

layout(push_constant) uniform Push {
    uint x_base;
    uint y_base;
    uint rows;
    uint cols;
    uint row_bytes;
    uint n_tokens;
    uint y_stride;
    uint n_groups;  // unused here: the grid is (row tiles, token tiles)
} pc;

#include "dequant.glsl"

// [k][m]: threads of a warp read consecutive m; the +1 keeps the stores of the loading
// pattern (8 consecutive k per thread) on distinct banks.
shared float w_s[BK][BM + 1];
shared float x_s[BK][BN + 1];

void main() {
    const uint lid = gl_LocalInvocationID.x;
    const uint tile_row = gl_WorkGroupID.x * BM, tile_tok = gl_WorkGroupID.y * BN;
    const uint tx = lid % 16u, ty = lid / 16u;
    const uint load_r = lid / 4u, load_part = lid % 4u;  // which row/token and which 8 of BK

    float acc[4][4];
    [[unroll]] for (uint i = 0u; i < 4u; ++i)
        [[unroll]] for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < pc.cols; k0 += BK) {
        float v[8];
        const uint row = tile_row + load_r;
        if (row < pc.rows) {
            dequant8(row * pc.row_bytes, k0 / 8u + load_part, pc.cols, v);
        } else {
            [[unroll]] for (uint e = 0u; e < 8u; ++e) v[e] = 0.0;
        }
        [[unroll]] for (uint e = 0u; e < 8u; ++e) w_s[load_part * 8u + e][load_r] = v[e];

        const uint tok = tile_tok + load_r;
        const uint c0 = k0 + load_part * 8u;
        const uint xb = pc.x_base + tok * pc.cols + c0;
        [[unroll]] for (uint e = 0u; e < 8u; ++e) {
            x_s[load_part * 8u + e][load_r] = (tok < pc.n_tokens && c0 + e < pc.cols) ? x[xb + e] : 0.0;
        }
        barrier();
        [[unroll]] for (uint k = 0u; k < BK; ++k) {
            float a[4], b[4];
            [[unroll]] for (uint i = 0u; i < 4u; ++i) a[i] = w_s[k][tx + 16u * i];
            [[unroll]] for (uint j = 0u; j < 4u; ++j) b[j] = x_s[k][ty + 16u * j];
            [[unroll]] for (uint i = 0u; i < 4u; ++i)
                [[unroll]] for (uint j = 0u; j < 4u; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }

    [[unroll]] for (uint j = 0u; j < 4u; ++j) {
        const uint tok = tile_tok + ty + 16u * j;
        if (tok >= pc.n_tokens) continue;
        [[unroll]] for (uint i = 0u; i < 4u; ++i) {
            const uint row = tile_row + tx + 16u * i;
            if (row < pc.rows) y[pc.y_base + tok * pc.y_stride + row] = acc[i][j];
        }
    }
}
