#version 450
// y = x / sqrt(mean(x²) + eps) * weight, one workgroup per row. Each thread sums the
// squares of a strided share of the row; the partial sums meet in a tree (subgroupAdd,
// then shared memory), which keeps the rounding error of long rows small.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define WG 256
layout(local_size_x = WG) in;

layout(std430, binding = 0) readonly buffer InputBuf { float x[]; };
layout(std430, binding = 1) readonly buffer WeightBuf { float w[]; };
layout(std430, binding = 2) buffer OutputBuf { float y[]; };  // may alias x (in place)

layout(push_constant) uniform Push {
    uint x_base;
    uint y_base;
    uint n_rows;
    uint dim;
    float eps;
} pc;

#include "common.glsl"

shared float partial_s[WG];

void main() {
    const uint row = flat_workgroup();
    if (row >= pc.n_rows) return;
    const uint lid = gl_LocalInvocationID.x;
    const uint xb = pc.x_base + row * pc.dim, yb = pc.y_base + row * pc.dim;
    float sum = 0.0;
    for (uint i = lid; i < pc.dim; i += WG) {
        const float v = x[xb + i];
        sum = fma(v, v, sum);
    }
    sum = subgroupAdd(sum);
    if (subgroupElect()) partial_s[gl_SubgroupID] = sum;
    barrier();
    float total = 0.0;
    for (uint s = 0u; s < gl_NumSubgroups; ++s) total += partial_s[s];
    const float scale = 1.0 / sqrt(total / float(pc.dim) + pc.eps);
    for (uint i = lid; i < pc.dim; i += WG) y[yb + i] = x[xb + i] * scale * w[i];
}
