#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_type.h"
#include "kernels/cpu/cpu_features.h"

namespace hearth::kernels {

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using DotF32Fn = float (*)(const float* a, const float* b, int64_t n);
using DotF16F32Fn = float (*)(const uint16_t* a, const float* b, int64_t n);
using AxpyF32Fn = void (*)(float* y, float a, const float* x, int64_t n);       // y += a * x
using AxpyF16Fn = void (*)(float* y, float a, const uint16_t* x, int64_t n);    // y += a * x
using F32ToF16Fn = void (*)(const float* x, uint16_t* y, int64_t n);
using SwigluFn = void (*)(float* gate, const float* up, int64_t n);  // gate = silu(gate) * up
// y = x / sqrt(mean(x²) + eps) · w over n values (y may be x).
using RmsNormFn = void (*)(const float* x, const float* w, float* y, int64_t n, float eps);
// How far ahead of the row in use the decode matmul prefetches weights: near into L1,
// far into L2 (see DecodePrefetch in isa_gemm_common.h); the bandwidth probe reads the
// same way. prefetch_decode_line asks for the lines both distances past `at`. With
// kDecodeStreams streams a thread has four far distances in flight, enough at 3 KiB
// each; and what is in flight when a range of rows ends is compute with no new miss
// behind it, so a shorter distance wastes less at each range's end. (Xeon, the
// matmuls of one tg run alternating call by call between 1/3 KiB and 2/16 KiB:
// matmul time 2 threads Qwen3-0.6B-shape Q4_K_M -4 to -6%, Llama-1B-shape Q8_0 -2%,
// AVX2 -4 to -6%, 1 thread -3 to -4%; 2 KiB far lost 2%. The read probe: 2 threads
// +10%, 1 thread equal.)
inline constexpr size_t kDecodeNearPrefetch = 1024, kDecodeFarPrefetch = 3072;
// How many separate streams one thread reads at once in decode: its rows split into
// this many ranges, walked side by side block by block. One core's misses to DRAM
// come from more places at a time than one sequential stream (whose prefetchers
// track it a page at a time) keeps going, and the bandwidth follows (Xeon, a read of
// a 1 GiB buffer: 1 thread 8.9 -> 11.3-12.5 GB/s with 4-8 streams, 2 threads
// 16.2-17.3 -> 19.2-21.8; bench_matmul Q8_0 decode 2048x8192:
// 1 thread 7.9 -> 10.3-10.9 GB/s, 2 threads 14.5 -> 19.3-20.0 with 4, 18.1 with 2,
// 17.6 with 8). Interleaved a row (2-8 KiB) at a time it gains nothing: the ranges
// must advance together, a few hundred bytes each in turn.
inline constexpr int kDecodeStreams = 4;
inline void prefetch_decode_line(const void* at) {
    __builtin_prefetch(static_cast<const char*>(at) + kDecodeNearPrefetch, 0, 3);
    __builtin_prefetch(static_cast<const char*>(at) + kDecodeFarPrefetch, 0, 2);
}
// The wrapping sum of `bytes` / 8 uint64 words (p 64-byte aligned): a read of memory
// as fast as the ISA's widest loads go, for the bandwidth probe (memory_bandwidth.h).
using ReadSumFn = uint64_t (*)(const void* p, size_t bytes);
// Activation quantizer of matmul (kernels/cpu/matmul.h): n floats to a row of Q8_0
// blocks (followed by their f32 scales, see quant_dot.h) or of Q8_K blocks.
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
// Matmul tile: weight rows [0, n_rows) (row_bytes apart, n columns each) against
// n_tokens activation rows (x_stride bytes apart, in the type's activation format:
// f32, Q8_0 or Q8_K); y[t * y_stride + r] = row r · token t.
using GemmFn = void (*)(const void* w, size_t row_bytes, int64_t n_rows, const void* x, size_t x_stride,
                        int64_t n_tokens, float* y, int64_t y_stride, int64_t n);

// Causal attention of up to kAttendRows query rows that share one KV head and one
// sequence (the heads of a GQA group for a run of tokens): out[m] =
// softmax(scale · q[m] · K[0..pos[m]]ᵀ) · V[0..pos[m]]. k and v point at position 0 of
// the head, kv_stride bytes between positions, f16 or f32.
inline constexpr int kAttendRows = 32;
struct AttendRows {
    int n_rows = 0;
    const float* q[kAttendRows] = {};
    float* out[kAttendRows] = {};
    int32_t pos[kAttendRows] = {};
    const uint8_t* k = nullptr;
    const uint8_t* v = nullptr;
    size_t kv_stride = 0;
    bool f16 = true;
    int64_t head_dim = 0;
    float scale = 1;
};
// Floats of scratch attend_rows needs for keys up to max_pos.
inline size_t attend_rows_scratch(int64_t head_dim, int64_t max_pos) {
    return static_cast<size_t>((head_dim + max_pos + 1) * kAttendRows + 2 * kAttendRows);
}
// The head sizes attend_rows handles.
inline bool attend_rows_supports(int64_t head_dim) { return head_dim == 64 || head_dim == 128; }
using AttendRowsFn = void (*)(const AttendRows& a, float* scratch);

// Decode attention (attend_group): the query rows of one token's GQA group, all at
// position pos[0], against one KV head; any n_rows up to kAttendRows, taken
// kAttendGroupRows at a time. Scratch: kAttendGroupRows rows of attend_group_stride floats.
inline constexpr int kAttendGroupRows = 4;
inline int64_t attend_group_stride(int64_t pos) { return (pos + 1 + 15) / 16 * 16; }
inline size_t attend_group_scratch(int64_t pos) { return static_cast<size_t>(kAttendGroupRows * attend_group_stride(pos)); }

// One instruction set's kernels. Each table is built by the same source file
// compiled with that ISA's flags (isa_kernels.cpp).
struct CpuKernels {
    Isa isa = Isa::Generic;
    DotF32Fn dot_f32 = nullptr;
    DotF16F32Fn dot_f16_f32 = nullptr;
    AxpyF32Fn axpy_f32 = nullptr;
    AxpyF16Fn axpy_f16 = nullptr;
    F32ToF16Fn f32_to_f16 = nullptr;
    SwigluFn swiglu = nullptr;
    RmsNormFn rms_norm = nullptr;
    ReadSumFn read_sum = nullptr;
    DequantizeRowFn dequantize_f16 = nullptr;
    DequantizeRowFn dequantize_bf16 = nullptr;
    DequantizeRowFn dequantize_q8_0 = nullptr;
    DequantizeRowFn dequantize_q4_0 = nullptr;
    DequantizeRowFn dequantize_q4_k = nullptr;
    DequantizeRowFn dequantize_q5_k = nullptr;
    DequantizeRowFn dequantize_q6_k = nullptr;

    // nullptr for F32 (nothing to do) and types without a kernel.
    DequantizeRowFn dequantize(gguf::GgmlType type) const;

    // Matmul kernels (isa_quant_dot.cpp).
    QuantizeRowFn quantize_row_q8_0 = nullptr;
    QuantizeRowFn quantize_row_q8_k = nullptr;
    GemmFn gemm_f32 = nullptr;
    GemmFn gemm_f16 = nullptr;
    GemmFn gemm_bf16 = nullptr;
    GemmFn gemm_q8_0 = nullptr;
    GemmFn gemm_q4_0 = nullptr;
    GemmFn gemm_q4_k = nullptr;
    GemmFn gemm_q5_k = nullptr;
    GemmFn gemm_q6_k = nullptr;
    // Q4_K weights in 16-row panels (q4_k_panels.h): w points at the panel of the
    // first row, row_bytes is the GGUF row size, n_rows a multiple of 16. nullptr where
    // the ISA has no such kernel, and then weights are not packed for it.
    GemmFn gemm_q4_k_panels = nullptr;
    // nullptr for types without a matmul kernel.
    GemmFn gemm(gguf::GgmlType type) const;
    // Bytes of quantized activations matmul() hands a GemmFn at once: the one-row
    // tiles want them to stay in L2 while rows stream past; the AVX-512 row panels
    // re-interleave them and instead want every token in one call, so each panel
    // is packed once.
    size_t gemm_token_budget = 512 * 1024;

    // Prefill attention (isa_attention.cpp); nullptr where the ISA has none.
    AttendRowsFn attend_rows = nullptr;
    // Decode attention (isa_attention.cpp); nullptr where the ISA has none.
    AttendRowsFn attend_group = nullptr;
};

// The kernels of the preferred ISA (see preferred_isa()).
const CpuKernels& cpu_kernels();
// The kernels of one ISA, or nullptr when this CPU cannot run them.
const CpuKernels* cpu_kernels_for(Isa isa);

}  // namespace hearth::kernels
