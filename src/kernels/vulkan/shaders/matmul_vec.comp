#version 450
// y = x · Wᵀ for a few tokens (decode): each workgroup owns ROWS weight rows and reads
// every weight byte of them exactly once, multiplying each dequantized unit by all
// (up to MAX_TOKENS) tokens' activations while it is in registers. Threads stride over
// the row's 8-element units; partial sums meet through subgroupAdd and shared memory.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define WG 64
#define ROWS 2
#define MAX_TOKENS 8
layout(local_size_x = WG) in;

layout(std430, binding = 0) readonly buffer WeightBuf { uint w32[]; };
layout(std430, binding = 1) readonly buffer InputBuf { float x[]; };
layout(std430, binding = 2) writeonly buffer OutputBuf { float y[]; };

layout(push_constant) uniform Push {
    uint x_base;     // element of token 0's first input
    uint y_base;     // element of token 0's output for this chunk's row 0
    uint rows;       // rows of this weight chunk
    uint cols;
    uint row_bytes;
    uint n_tokens;   // <= MAX_TOKENS
    uint y_stride;   // elements between consecutive tokens' outputs (all rows of the matrix)
    uint n_groups;   // workgroups that have rows (the grid may be padded)
} pc;

#include "common.glsl"
#include "dequant.glsl"

// One slot per possible subgroup (a subgroup may be as small as one invocation).
shared float partial_s[WG][ROWS * MAX_TOKENS];

void main() {
    const uint group = flat_workgroup();
    if (group >= pc.n_groups) return;  // uniform across the workgroup
    const uint row0 = group * ROWS;
    const uint lid = gl_LocalInvocationID.x;

    float acc[ROWS][MAX_TOKENS];
    [[unroll]] for (uint r = 0u; r < ROWS; ++r)
        [[unroll]] for (uint t = 0u; t < MAX_TOKENS; ++t) acc[r][t] = 0.0;

    const uint units = (pc.cols + 7u) / 8u;
    for (uint u = lid; u < units; u += WG) {
        float w[ROWS][8];
        [[unroll]] for (uint r = 0u; r < ROWS; ++r) {
            float v[8];
            if (row0 + r < pc.rows) {
                dequant8((row0 + r) * pc.row_bytes, u, pc.cols, v);
            } else {
                [[unroll]] for (uint e = 0u; e < 8u; ++e) v[e] = 0.0;
            }
            w[r] = v;
        }
        const uint c0 = u * 8u;
        [[unroll]] for (uint t = 0u; t < MAX_TOKENS; ++t) {
            if (t >= pc.n_tokens) break;
            const uint xb = pc.x_base + t * pc.cols + c0;
            [[unroll]] for (uint e = 0u; e < 8u; ++e) {
                const float xv = c0 + e < pc.cols ? x[xb + e] : 0.0;
                [[unroll]] for (uint r = 0u; r < ROWS; ++r) acc[r][t] = fma(w[r][e], xv, acc[r][t]);
            }
        }
    }

    [[unroll]] for (uint r = 0u; r < ROWS; ++r) {
        [[unroll]] for (uint t = 0u; t < MAX_TOKENS; ++t) {
            const float s = subgroupAdd(acc[r][t]);
            if (subgroupElect()) partial_s[gl_SubgroupID][r * MAX_TOKENS + t] = s;
        }
    }
    barrier();
    if (lid < ROWS * MAX_TOKENS) {
        const uint r = lid / MAX_TOKENS, t = lid % MAX_TOKENS;
        if (row0 + r < pc.rows && t < pc.n_tokens) {
            float sum = 0.0;
            for (uint s = 0u; s < gl_NumSubgroups; ++s) sum += partial_s[s][lid];
            y[pc.y_base + t * pc.y_stride + row0 + r] = sum;
        }
    }
}
