#version 450
// Merges the per-split results of attention.comp: for one (token, head) per workgroup,
// out = Σ_s exp(m_s - m) acc_s / Σ_s exp(m_s - m) l_s with m the largest split max.
// Splits that saw no positions hold m = -3e38, l = 0 and weigh nothing.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x = 128) in;

layout(std430, binding = 0) readonly buffer PartialBuf { float partial[]; };
layout(std430, binding = 1) writeonly buffer OutputBuf { float o[]; };

layout(push_constant) uniform Push {
    uint o_base;
    uint head_dim;
    uint n_splits;
    uint n_heads_total;  // n_tokens * n_head
} pc;

#include "common.glsl"

void main() {
    const uint head = flat_workgroup();
    if (head >= pc.n_heads_total) return;
    const uint D = pc.head_dim, stride = D + 2u;
    const uint base = head * pc.n_splits * stride;
    float m = -3.0e38;
    for (uint s = 0u; s < pc.n_splits; ++s) m = max(m, partial[base + s * stride + D]);
    float l = 0.0;
    for (uint s = 0u; s < pc.n_splits; ++s) {
        l += exp(partial[base + s * stride + D] - m) * partial[base + s * stride + D + 1u];
    }
    const float inv = 1.0 / l;
    for (uint d = gl_LocalInvocationID.x; d < D; d += 128u) {
        float sum = 0.0;
        for (uint s = 0u; s < pc.n_splits; ++s) {
            sum += exp(partial[base + s * stride + D] - m) * partial[base + s * stride + d];
        }
        o[pc.o_base + head * D + d] = sum * inv;
    }
}
