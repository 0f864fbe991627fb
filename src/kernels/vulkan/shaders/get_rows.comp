#version 450
// out[i] = row tokens[i] of a weight table, dequantized to f32. One dispatch per chunk
// of the table (a table larger than one storage-buffer binding is split by rows);
// tokens whose row lies in another chunk are skipped.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer WeightBuf { uint w32[]; };
layout(std430, binding = 1) writeonly buffer OutputBuf { float y[]; };
layout(std430, binding = 2) readonly buffer BatchBuf { int batch[]; };

layout(push_constant) uniform Push {
    uint y_base;
    uint rows;       // rows of this chunk
    uint cols;
    uint row_bytes;
    uint row0;       // table row of the chunk's first row
    uint tokens_at;  // element of batch[] where the token ids start
} pc;

#include "dequant.glsl"

void main() {
    const uint token = gl_WorkGroupID.y;
    const uint u = gl_WorkGroupID.x * 64u + gl_LocalInvocationID.x;
    if (u * 8u >= pc.cols) return;
    const int id = batch[pc.tokens_at + token] - int(pc.row0);
    if (id < 0 || uint(id) >= pc.rows) return;
    float v[8];
    dequant8(uint(id) * pc.row_bytes, u, pc.cols, v);
    const uint yb = pc.y_base + token * pc.cols + u * 8u;
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        if (u * 8u + e < pc.cols) y[yb + e] = v[e];
    }
}
