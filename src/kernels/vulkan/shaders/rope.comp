#version 450
// Rotary position embedding in place: one invocation per (token, head, pair). The
// inverse frequencies come from the host (computed as the CPU backend does); the angle
// pos * inv_freq is reduced modulo 2π in extended precision before sin/cos, because GPU
// sin/cos lose accuracy quickly for arguments of thousands of radians.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer ValuesBuf { float x[]; };
layout(std430, binding = 1) readonly buffer FreqBuf { float inv_freq[]; };
layout(std430, binding = 2) readonly buffer BatchBuf { int batch[]; };

layout(push_constant) uniform Push {
    uint x_base;
    uint n_heads;
    uint head_dim;
    uint half_dims;     // n_dims / 2
    uint neox;          // 1: pairs (i, i + half), 0: (2i, 2i + 1)
    uint positions_at;  // element of batch[] where positions start
    uint total;         // n_tokens * n_heads * half_dims
} pc;

#include "common.glsl"

// 2π split so that k * TWO_PI_HI is exact for k < 2^16 (TWO_PI_HI has 8 significant bits).
const float TWO_PI_HI = 6.28125;
const float TWO_PI_LO = 1.9353071795864769e-3;

void main() {
    const uint g = flat_workgroup() * 64u + gl_LocalInvocationID.x;
    if (g >= pc.total) return;
    const uint per_token = pc.n_heads * pc.half_dims;
    const uint t = g / per_token, rem = g % per_token;
    const uint h = rem / pc.half_dims, i = rem % pc.half_dims;

    const float theta = float(batch[pc.positions_at + t]) * inv_freq[i];
    const float k = round(theta * 0.15915494309189535);
    precise float r = theta - k * TWO_PI_HI;
    r = r - k * TWO_PI_LO;
    const float c = cos(r), s = sin(r);

    const uint base = pc.x_base + (t * pc.n_heads + h) * pc.head_dim;
    const uint a = base + (pc.neox != 0u ? i : 2u * i);
    const uint b = base + (pc.neox != 0u ? i + pc.half_dims : 2u * i + 1u);
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
}
