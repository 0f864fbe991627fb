#version 450
// Causal attention of one batch token for up to MAX_G query heads that share a KV head
// (a GQA group, or a chunk of a larger one): every key and value row is read once for
// all of them. Positions go in blocks of BLOCK: each thread scores one position for
// every head (q sits in shared memory), the block's maxima and sums rescale a running
// (online) softmax, and then each thread accumulates its own output dimensions over the
// block's values.
//
// Long contexts with few workgroups (decode) split the positions over n_splits
// workgroups; each writes its unnormalized accumulator with its max and sum to
// `partial`, and attention_combine.comp merges them.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define WG 128
#define BLOCK WG
#define MAX_G 8
#define MAX_D 256
#define DIMS_PER_THREAD (MAX_D / WG)
layout(local_size_x = WG) in;

layout(std430, binding = 0) readonly buffer QueryBuf { float q[]; };
#if defined(KV_F16)
layout(std430, binding = 1) readonly buffer KCacheBuf { uint k_cache[]; };
layout(std430, binding = 2) readonly buffer VCacheBuf { uint v_cache[]; };
#else
layout(std430, binding = 1) readonly buffer KCacheBuf { float k_cache[]; };
layout(std430, binding = 2) readonly buffer VCacheBuf { float v_cache[]; };
#endif
layout(std430, binding = 3) writeonly buffer OutputBuf { float o[]; };
layout(std430, binding = 4) readonly buffer BatchBuf { int batch[]; };
layout(std430, binding = 5) writeonly buffer PartialBuf { float partial[]; };

layout(push_constant) uniform Push {
    uint q_base;
    uint o_base;
    uint n_head;
    uint n_head_kv;
    uint head_dim;
    uint group;         // n_head / n_head_kv
    uint n_ctx;
    float scale;
    uint seq_at;        // element of batch[] where sequence ids start
    uint positions_at;
    uint n_splits;      // workgroups sharing one token's positions
    uint split_span;    // positions per split (a multiple of BLOCK)
} pc;

const float NEG_BIG = -3.0e38;  // finite, so exp(NEG_BIG - m) is 0 and never NaN

shared float q_s[MAX_G * MAX_D];
shared float p_s[MAX_G][BLOCK];
shared float red_s[WG][MAX_G];

float key_dot(uint row, uint g) {
    const uint qo = g * pc.head_dim;
    float s = 0.0;
#if defined(KV_F16)
    const uint kb = row * (pc.head_dim / 2u);
    for (uint d = 0u; d < pc.head_dim; d += 2u) {
        const vec2 kv = unpackHalf2x16(k_cache[kb + d / 2u]);
        s = fma(q_s[qo + d], kv.x, s);
        s = fma(q_s[qo + d + 1u], kv.y, s);
    }
#else
    const uint kb = row * pc.head_dim;
    for (uint d = 0u; d < pc.head_dim; ++d) s = fma(q_s[qo + d], k_cache[kb + d], s);
#endif
    return s;
}

float value_at(uint row, uint d) {
#if defined(KV_F16)
    const uint i = row * pc.head_dim + d;
    const vec2 pair = unpackHalf2x16(v_cache[i / 2u]);
    return (i & 1u) == 0u ? pair.x : pair.y;
#else
    return v_cache[row * pc.head_dim + d];
#endif
}

// Combines one value per thread and head into a workgroup-wide max or sum for every head.
void reduce_heads(inout float vals[MAX_G], bool is_max) {
    [[unroll]] for (uint g = 0u; g < MAX_G; ++g) {
        const float r = is_max ? subgroupMax(vals[g]) : subgroupAdd(vals[g]);
        if (subgroupElect()) red_s[gl_SubgroupID][g] = r;
    }
    barrier();
    [[unroll]] for (uint g = 0u; g < MAX_G; ++g) {
        float r = is_max ? NEG_BIG : 0.0;
        for (uint s = 0u; s < gl_NumSubgroups; ++s) r = is_max ? max(r, red_s[s][g]) : r + red_s[s][g];
        vals[g] = r;
    }
    barrier();
}

void main() {
    const uint lid = gl_LocalInvocationID.x;
    const uint t = gl_WorkGroupID.x, kvh = gl_WorkGroupID.y;
    const uint chunk = gl_WorkGroupID.z / pc.n_splits, split = gl_WorkGroupID.z % pc.n_splits;
    const uint h0 = kvh * pc.group + chunk * MAX_G;
    const uint n_g = min(uint(MAX_G), pc.group - chunk * MAX_G);
    const uint seq = uint(batch[pc.seq_at + t]);
    const uint n_keys = uint(batch[pc.positions_at + t]) + 1u;
    const uint first = split * pc.split_span;
    const uint end = min(n_keys, first + pc.split_span);
    const uint D = pc.head_dim;

    for (uint i = lid; i < MAX_G * D; i += WG) {
        q_s[i] = i < n_g * D ? q[pc.q_base + (t * pc.n_head + h0) * D + i] : 0.0;
    }
    barrier();

    const uint row0 = (seq * pc.n_head_kv + kvh) * pc.n_ctx;  // cache row of position 0
    float m_run[MAX_G], l_run[MAX_G], acc[MAX_G][DIMS_PER_THREAD];
    [[unroll]] for (uint g = 0u; g < MAX_G; ++g) {
        m_run[g] = NEG_BIG;
        l_run[g] = 0.0;
        [[unroll]] for (uint j = 0u; j < DIMS_PER_THREAD; ++j) acc[g][j] = 0.0;
    }

    for (uint p0 = first; p0 < end; p0 += BLOCK) {
        const uint p = p0 + lid;
        const bool valid = p < end;
        float s[MAX_G], m_new[MAX_G];
        [[unroll]] for (uint g = 0u; g < MAX_G; ++g) {
            s[g] = (valid && g < n_g) ? key_dot(row0 + p, g) * pc.scale : NEG_BIG;
            m_new[g] = s[g];
        }
        reduce_heads(m_new, true);
        float e[MAX_G];
        [[unroll]] for (uint g = 0u; g < MAX_G; ++g) {
            m_new[g] = max(m_new[g], m_run[g]);
            e[g] = valid ? exp(s[g] - m_new[g]) : 0.0;
            p_s[g][lid] = e[g];
        }
        reduce_heads(e, false);  // its barriers also publish p_s
        [[unroll]] for (uint g = 0u; g < MAX_G; ++g) {
            const float corr = exp(m_run[g] - m_new[g]);
            l_run[g] = l_run[g] * corr + e[g];
            m_run[g] = m_new[g];
            [[unroll]] for (uint j = 0u; j < DIMS_PER_THREAD; ++j) acc[g][j] *= corr;
        }
        const uint n_block = min(uint(BLOCK), end - p0);
        for (uint j = 0u; j < n_block; ++j) {
            [[unroll]] for (uint dj = 0u; dj < DIMS_PER_THREAD; ++dj) {
                const uint d = lid + dj * WG;
                if (d >= D) break;
                const float v = value_at(row0 + p0 + j, d);
                [[unroll]] for (uint g = 0u; g < MAX_G; ++g) if (g < n_g) acc[g][dj] = fma(p_s[g][j], v, acc[g][dj]);
            }
        }
        barrier();  // p_s is rewritten by the next block
    }

    [[unroll]] for (uint g = 0u; g < MAX_G; ++g) {
        if (g >= n_g) break;
        const uint head = t * pc.n_head + h0 + g;
        if (pc.n_splits == 1u) {
            const float inv = 1.0 / l_run[g];
            [[unroll]] for (uint dj = 0u; dj < DIMS_PER_THREAD; ++dj) {
                const uint d = lid + dj * WG;
                if (d < D) o[pc.o_base + head * D + d] = acc[g][dj] * inv;
            }
        } else {
            const uint pb = (head * pc.n_splits + split) * (D + 2u);
            [[unroll]] for (uint dj = 0u; dj < DIMS_PER_THREAD; ++dj) {
                const uint d = lid + dj * WG;
                if (d < D) partial[pb + d] = acc[g][dj];
            }
            if (lid == 0u) {
                partial[pb + D] = m_run[g];
                partial[pb + D + 1u] = l_run[g];
            }
        }
    }
}
