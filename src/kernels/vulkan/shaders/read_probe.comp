#version 450
// Reads src once, 16 bytes per load, for the device read-bandwidth probe
// (vk_bandwidth.cpp). Consecutive invocations read consecutive vectors (coalesced), and
// each keeps four loads in flight per step. Nothing is written unless the folded sum
// equals `never`, which the host picks so that it cannot: the loads stay, the writes
// cost nothing.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer SrcBuf { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer SinkBuf { uint sink[]; };

layout(push_constant) uniform Push {
    uint n;      // vectors in src
    uint never;  // a value the sum cannot take
} pc;

#include "common.glsl"

void main() {
    const uint stride = gl_NumWorkGroups.x * gl_NumWorkGroups.y * 256u;
    uint i = flat_workgroup() * 256u + gl_LocalInvocationID.x;
    uvec4 acc = uvec4(0);
    for (; i + 3u * stride < pc.n; i += 4u * stride) {
        acc ^= src[i] ^ src[i + stride] ^ src[i + 2u * stride] ^ src[i + 3u * stride];
    }
    for (; i < pc.n; i += stride) acc ^= src[i];
    const uint s = acc.x ^ acc.y ^ acc.z ^ acc.w;
    if (s == pc.never) sink[0] = s;
}
