#version 450
// Elementwise ops on f32 buffers, one invocation per element of x:
//   OP_ADD:      x[i] += y[i]
//   OP_ADD_BIAS: x[i] += y[i % dim]     (y: a bias of `dim` values)
//   OP_SWIGLU:   x[i] = silu(x[i]) * y[i]
#extension GL_GOOGLE_include_directive : require

layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer TargetBuf { float x[]; };
layout(std430, binding = 1) readonly buffer OperandBuf { float y[]; };

layout(push_constant) uniform Push {
    uint x_base;
    uint y_base;
    uint n;
    uint dim;
} pc;

#include "common.glsl"

void main() {
    const uint i = flat_workgroup() * 256u + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
#if defined(OP_ADD)
    x[pc.x_base + i] += y[pc.y_base + i];
#elif defined(OP_ADD_BIAS)
    x[pc.x_base + i] += y[pc.y_base + i % pc.dim];
#elif defined(OP_SWIGLU)
    const float g = x[pc.x_base + i];
    x[pc.x_base + i] = g / (1.0 + exp(-g)) * y[pc.y_base + i];
#else
#error "define one OP_*"
#endif
}
