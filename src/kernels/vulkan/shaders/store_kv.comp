#version 450
// Writes each batch token's keys and values into the layer's cache at (seq, pos), one
// invocation per pair of elements. Cache layout: [seq][kv_head][pos][head_dim], f16
// values packed two to a word (KV_F16) or f32.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer KeysBuf { float k[]; };
layout(std430, binding = 1) readonly buffer ValuesBuf { float v[]; };
#if defined(KV_F16)
layout(std430, binding = 2) writeonly buffer KCacheBuf { uint k_cache[]; };
layout(std430, binding = 3) writeonly buffer VCacheBuf { uint v_cache[]; };
#else
layout(std430, binding = 2) writeonly buffer KCacheBuf { float k_cache[]; };
layout(std430, binding = 3) writeonly buffer VCacheBuf { float v_cache[]; };
#endif
layout(std430, binding = 4) readonly buffer BatchBuf { int batch[]; };

layout(push_constant) uniform Push {
    uint k_base;
    uint v_base;
    uint n_head_kv;
    uint head_dim;
    uint n_ctx;
    uint seq_at;        // element of batch[] where sequence ids start
    uint positions_at;
    uint total;         // n_tokens * kv_dim / 2
} pc;

#include "common.glsl"

void main() {
    const uint g = flat_workgroup() * 64u + gl_LocalInvocationID.x;
    if (g >= pc.total) return;
    const uint pairs = pc.n_head_kv * pc.head_dim / 2u;
    const uint t = g / pairs, d = 2u * (g % pairs);
    const uint h = d / pc.head_dim, dd = d % pc.head_dim;
    const uint seq = uint(batch[pc.seq_at + t]), pos = uint(batch[pc.positions_at + t]);
    const uint dst = ((seq * pc.n_head_kv + h) * pc.n_ctx + pos) * pc.head_dim + dd;
    const uint src = t * pc.n_head_kv * pc.head_dim + d;
#if defined(KV_F16)
    k_cache[dst / 2u] = packHalf2x16(vec2(k[pc.k_base + src], k[pc.k_base + src + 1u]));
    v_cache[dst / 2u] = packHalf2x16(vec2(v[pc.v_base + src], v[pc.v_base + src + 1u]));
#else
    k_cache[dst] = k[pc.k_base + src];
    k_cache[dst + 1u] = k[pc.k_base + src + 1u];
    v_cache[dst] = v[pc.v_base + src];
    v_cache[dst + 1u] = v[pc.v_base + src + 1u];
#endif
}
