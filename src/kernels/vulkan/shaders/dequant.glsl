// Dequantization of one "unit" (8 consecutive elements of a row) of a weight matrix
// stored in GGUF block layout. The including shader declares the weight buffer as
// `uint w32[]` (32-bit words: no 8/16-bit storage feature needed, and word loads are
// what every GPU is fastest at). The math matches src/tensor/dequant_blocks.h.
//
// rb: byte offset of the row in the buffer; u: unit index in the row; cols: the row's
// element count (float types may have a partial last unit, masked to zero).

uint w_byte(uint o) { return (w32[o >> 2] >> ((o & 3u) * 8u)) & 0xFFu; }
// A 16-bit value at an even byte offset never straddles a word.
uint w_u16(uint o) { return (w32[o >> 2] >> ((o & 2u) * 8u)) & 0xFFFFu; }
float w_half(uint o) { return unpackHalf2x16(w_u16(o)).x; }
// Four bytes at an even (maybe not 4-aligned) byte offset: Q8_0/Q4_0/Q6_K blocks are
// only 2-aligned.
uint w_word2(uint o) {
    const uint i = o >> 2;
    return (o & 2u) == 0u ? w32[i] : ((w32[i] >> 16) | (w32[i + 1u] << 16));
}
// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block (tensor::k_scale_min).
void k_scale_min(uint sc_off, uint j, out float sc, out float m) {
    if (j < 4u) {
        sc = float(w_byte(sc_off + j) & 63u);
        m = float(w_byte(sc_off + j + 4u) & 63u);
    } else {
        const uint a = w_byte(sc_off + j + 4u), lo = w_byte(sc_off + j - 4u), hi = w_byte(sc_off + j);
        sc = float((a & 0xFu) | ((lo >> 6) << 4));
        m = float((a >> 4) | ((hi >> 6) << 4));
    }
}

#if defined(TYPE_F32)
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        const uint c = u * 8u + e;
        v[e] = c < cols ? uintBitsToFloat(w32[(rb >> 2) + c]) : 0.0;
    }
}
#elif defined(TYPE_F16)
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        const uint c = u * 8u + e;
        v[e] = c < cols ? w_half(rb + 2u * c) : 0.0;
    }
}
#elif defined(TYPE_BF16)
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        const uint c = u * 8u + e;
        v[e] = c < cols ? uintBitsToFloat(w_u16(rb + 2u * c) << 16) : 0.0;
    }
}
#elif defined(TYPE_Q8_0)
// 34-byte blocks: f16 d, 32 int8.
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    const uint bo = rb + 34u * (u >> 2);
    const float d = w_half(bo);
    const uint qo = bo + 2u + 8u * (u & 3u);
    const uint q[2] = uint[2](w_word2(qo), w_word2(qo + 4u));
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        v[e] = d * float(bitfieldExtract(int(q[e >> 2]), int(8u * (e & 3u)), 8));
    }
}
#elif defined(TYPE_Q4_0)
// 18-byte blocks: f16 d, 16 bytes; element j in the low nibble of byte j, j+16 in the high.
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    const uint bo = rb + 18u * (u >> 2);
    const uint part = u & 3u;
    const float d = w_half(bo);
    const uint qo = bo + 2u + 8u * (part & 1u);
    const uint q[2] = uint[2](w_word2(qo), w_word2(qo + 4u));
    const uint shift = part >= 2u ? 4u : 0u;
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        const uint nib = (q[e >> 2] >> (8u * (e & 3u) + shift)) & 0xFu;
        v[e] = d * (float(nib) - 8.0);
    }
}
#elif defined(TYPE_Q4_K)
// 144-byte super-blocks of 256: f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes.
// Sub-block s (32 elements) is the low (even s) or high (odd s) nibbles of bytes 32*(s/2)...
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    const uint bo = rb + 144u * (u >> 5);
    const uint s = (u >> 2) & 7u, part = u & 3u;
    float sc, m;
    k_scale_min(bo + 4u, s, sc, m);
    const float d = w_half(bo) * sc, dm = w_half(bo + 2u) * m;
    const uint qi = (bo + 16u + 32u * (s >> 1) + 8u * part) >> 2;
    const uint q[2] = uint[2](w32[qi], w32[qi + 1u]);
    const uint shift = (s & 1u) * 4u;
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        v[e] = d * float((q[e >> 2] >> (8u * (e & 3u) + shift)) & 0xFu) - dm;
    }
}
#elif defined(TYPE_Q5_K)
// 176-byte super-blocks: d, dmin, 12 scale bytes, 32 bytes of high bits (bit s of byte l
// for element l of sub-block s), 128 nibble bytes laid out as in Q4_K.
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    const uint bo = rb + 176u * (u >> 5);
    const uint s = (u >> 2) & 7u, part = u & 3u;
    float sc, m;
    k_scale_min(bo + 4u, s, sc, m);
    const float d = w_half(bo) * sc, dm = w_half(bo + 2u) * m;
    const uint qi = (bo + 48u + 32u * (s >> 1) + 8u * part) >> 2;
    const uint hi = (bo + 16u + 8u * part) >> 2;
    const uint q[2] = uint[2](w32[qi], w32[qi + 1u]);
    const uint h[2] = uint[2](w32[hi], w32[hi + 1u]);
    const uint shift = (s & 1u) * 4u;
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        const uint lo = (q[e >> 2] >> (8u * (e & 3u) + shift)) & 0xFu;
        const uint hb = (h[e >> 2] >> (8u * (e & 3u) + s)) & 1u;
        v[e] = d * float(lo | (hb << 4)) - dm;
    }
}
#elif defined(TYPE_Q6_K)
// 210-byte super-blocks: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8
// scales (one per 16 elements), f16 d. Element 128n + 32k + l (l < 32) takes nibble
// k/2 of ql[64n + 32(k%2) + l], bits 2k of qh[32n + l], scale 8n + l/16 + 2k.
void dequant8(uint rb, uint u, uint cols, out float v[8]) {
    const uint bo = rb + 210u * (u >> 5);
    const uint c = (u >> 2) & 7u, part = u & 3u;
    const uint n = c >> 2, k = c & 3u;
    const uint l0 = 8u * part;
    const uint qlo = bo + 64u * n + 32u * (k & 1u) + l0;
    const uint qho = bo + 128u + 32u * n + l0;
    const uint ql[2] = uint[2](w_word2(qlo), w_word2(qlo + 4u));
    const uint qh[2] = uint[2](w_word2(qho), w_word2(qho + 4u));
    const int scale = bitfieldExtract(int(w_byte(bo + 192u + 8u * n + (l0 >> 4) + 2u * k)), 0, 8);
    const float d = w_half(bo + 208u) * float(scale);
    const uint lshift = (k >> 1) * 4u, hshift = 2u * k;
    [[unroll]] for (uint e = 0u; e < 8u; ++e) {
        const uint b = 8u * (e & 3u);
        const uint q = ((ql[e >> 2] >> (b + lshift)) & 0xFu) | (((qh[e >> 2] >> (b + hshift)) & 3u) << 4);
        v[e] = d * float(int(q) - 32);
    }
}
#else
#error "define one TYPE_*"
#endif
