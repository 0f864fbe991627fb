#include "kernels/cpu/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/q4_k_panels.h"
#include "kernels/cpu/row_shares.h"
#include "kernels/cpu/quant_dot.h"
#include "tensor/quant.h"

namespace hearth::kernels {
namespace {

using gguf::GgmlType;

enum class ActFormat { F32, Q8_0, Q8_K };

ActFormat act_format(GgmlType type) {
    switch (type) {
        case GgmlType::Q8_0:
        case GgmlType::Q4_0: return ActFormat::Q8_0;
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K: return ActFormat::Q8_K;
        default: return ActFormat::F32;
    }
}

size_t act_row_bytes(ActFormat f, int64_t cols) {
    switch (f) {
        case ActFormat::Q8_0: return q8_0_act_row_bytes(cols / tensor::kQK);
        case ActFormat::Q8_K: return static_cast<size_t>(cols / tensor::kQK_K) * sizeof(BlockQ8_K);
        case ActFormat::F32: break;
    }
    return static_cast<size_t>(cols) * sizeof(float);
}

[[noreturn]] void fail(const char* what, const WeightMatrix& w) {
    std::fprintf(stderr, "hearth matmul: %s (type %s, %lld x %lld, row_bytes %zu)\n", what,
                 std::string(gguf::type_name(w.type)).c_str(), static_cast<long long>(w.rows),
                 static_cast<long long>(w.cols), w.row_bytes);
    std::abort();
}

void check(const WeightMatrix& w) {
    if (!matmul_supported(w.type)) fail("unsupported weight type", w);
    const auto need = gguf::checked_row_bytes(w.type, static_cast<uint64_t>(w.cols));
    if (!need || w.row_bytes < *need) fail("columns do not fit the type's blocks or row_bytes", w);
}

// Activation scratch, one per calling thread: matmuls issued from different threads
// (with different pools) never share it; workers of one call only read it.
std::vector<uint8_t>& scratch(size_t bytes) {
    thread_local std::vector<uint8_t> buf;
    if (buf.size() < bytes) buf.resize(bytes);
    return buf;
}

// Tokens per block: as many as the kernels' activation budget holds (see
// CpuKernels::gemm_token_budget). A multiple of the kernels' token tile, and
// independent of the thread count, so results do not depend on it.
int64_t token_block(size_t x_stride, size_t budget) {
    int64_t tb = static_cast<int64_t>(budget / std::max<size_t>(x_stride, 1));
    tb = std::max<int64_t>(kGemmTokenTile, tb / kGemmTokenTile * kGemmTokenTile);
    return std::min<int64_t>(tb, 4096);
}

static_assert(kGemmRowAlign % kQ4KPanelRows == 0, "threads must split rows at panel boundaries");

// Calls with fewer tokens than this share rows out dynamically (see below).
constexpr int64_t kDynamicTokens = kGemmTokenTile;

}  // namespace

bool matmul_supported(GgmlType type) {
    switch (type) {
        case GgmlType::F32:
        case GgmlType::F16:
        case GgmlType::BF16:
        case GgmlType::Q8_0:
        case GgmlType::Q4_0:
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K: return true;
        default: return false;
    }
}

void matmul_shared_input_with(const CpuKernels& k, std::span<const MatmulOutput> outs, const float* x,
                              int64_t n_tokens, ThreadPool& pool) {
    if (n_tokens <= 0 || outs.empty()) return;
    // The activations once per format the outputs need, back to back in one scratch.
    constexpr int kFormats = 3;
    size_t offset[kFormats] = {}, stride[kFormats] = {};
    bool needed[kFormats] = {};
    int64_t cols = -1;
    for (const MatmulOutput& o : outs) {
        const WeightMatrix& w = *o.w;
        check(w);
        if (k.gemm(w.type) == nullptr) fail("no kernel for this type", w);
        if (cols >= 0 && w.cols != cols) fail("outputs sharing an input differ in columns", w);
        cols = w.cols;
        needed[static_cast<int>(act_format(w.type))] = true;
    }
    size_t total = 0;
    for (int f = 1; f < kFormats; ++f) {
        if (!needed[f]) continue;
        stride[f] = act_row_bytes(static_cast<ActFormat>(f), cols);
        offset[f] = total;
        total += stride[f] * static_cast<size_t>(n_tokens);
    }
    stride[0] = act_row_bytes(ActFormat::F32, cols);
    uint8_t* buf = total > 0 ? scratch(total).data() : nullptr;
    for (int f = 1; f < kFormats; ++f) {
        if (!needed[f]) continue;
        const QuantizeRowFn quant = static_cast<ActFormat>(f) == ActFormat::Q8_0 ? k.quantize_row_q8_0 : k.quantize_row_q8_k;
        uint8_t* dst = buf + offset[f];
        const size_t xs = stride[f];
        if (n_tokens == 1 || pool.size() == 1) {
            for (int64_t t = 0; t < n_tokens; ++t) quant(x + t * cols, dst + t * xs, cols);
        } else {
            pool.run([&](int thread, int n_threads) {
                int64_t t0 = 0, t1 = 0;
                ThreadPool::chunk(n_tokens, thread, n_threads, t0, t1);
                for (int64_t t = t0; t < t1; ++t) quant(x + t * cols, dst + t * xs, cols);
            });
        }
    }

    auto run_rows = [&](const MatmulOutput& o, int64_t r0, int64_t r1) {
        const WeightMatrix& w = *o.w;
        const int f = static_cast<int>(act_format(w.type));
        const uint8_t* xb = f == 0 ? reinterpret_cast<const uint8_t*>(x) : buf + offset[f];
        const size_t x_stride = stride[f];
        const bool panels = w.panels != nullptr && k.gemm_q4_k_panels != nullptr;
        const GemmFn gemm = panels ? k.gemm_q4_k_panels : k.gemm(w.type);
        const uint8_t* wd = panels ? w.panels : w.data;
        const int64_t tb = token_block(x_stride, k.gemm_token_budget);
        for (int64_t t0 = 0; t0 < n_tokens; t0 += tb) {
            const int64_t nt = std::min(tb, n_tokens - t0);
            gemm(wd + static_cast<size_t>(r0) * w.row_bytes, w.row_bytes, r1 - r0, xb + t0 * x_stride, x_stride, nt,
                 o.y + t0 * w.rows + r0, w.rows, cols);
        }
    };
    if (pool.size() == 1) {
        for (const MatmulOutput& o : outs) run_rows(o, 0, o.w->rows);
        return;
    }
    if (n_tokens >= kDynamicTokens) {
        // Prefill is compute bound and evenly split: one contiguous range per thread.
        pool.run([&](int thread, int n_threads) {
            for (const MatmulOutput& o : outs) {
                int64_t r0 = 0, r1 = 0;
                ThreadPool::chunk(o.w->rows, thread, n_threads, r0, r1, kGemmRowAlign);
                if (r0 < r1) run_rows(o, r0, r1);
            }
        });
        return;
    }
    // Decode streams the weights once. Each thread owns an even share of the rows (the
    // outputs' rows end to end) and reads it front to back: first all of it but a
    // 1/16 tail, then halves of what is left; a thread done with its share takes
    // halves from the back of another's. Every range a thread starts costs a ramp-up
    // and a drain of its streams (decode_in_streams), so few long ranges beat many
    // short ones; the tail still lets a thread that started late or was preempted be
    // helped. (Xeon, 2 threads, the matmuls of one tg run alternating call by call
    // with the previous split, chunks claimed from one counter at 1/(2·threads) of
    // the rows left: matmul time Qwen3-0.6B-shape Q4_K_M -14%, Q8_0 -4 to -10%,
    // Llama-1B-shape Q4_K_M -5%, Q8_0 -3 to +1%; with a busy process beside it -6%; as
    // fast as an even split without the tail.) Ranges are multiples of kGemmRowAlign
    // from each output's first row and a row's arithmetic does not depend on who
    // computes it, so the results do not either.
    const int n_threads = pool.size();
    const size_t n_outs = outs.size();
    std::vector<int64_t> first_row(n_outs + 1);  // each output's rows from a multiple of kGemmRowAlign
    for (size_t i = 0; i < n_outs; ++i) {
        first_row[i + 1] = first_row[i] + (outs[i].w->rows + kGemmRowAlign - 1) / kGemmRowAlign * kGemmRowAlign;
    }
    if (first_row[n_outs] >= RowShares::kMaxRows) fail("more rows than a decode share can count", *outs[0].w);
    RowShares shares(first_row[n_outs], n_threads, kGemmRowAlign);
    pool.run([&](int thread, int) {
        auto run_range = [&](int64_t r0, int64_t r1) {
            for (size_t j = 0; j < n_outs; ++j) {
                const int64_t a = std::max(r0, first_row[j]), b = std::min(r1, first_row[j] + outs[j].w->rows);
                if (a < b) run_rows(outs[j], a - first_row[j], b - first_row[j]);
            }
        };
        int64_t r0 = 0, r1 = 0;
        for (bool first = true; shares.take_front(thread, first, r0, r1); first = false) run_range(r0, r1);
        while (shares.take_back(thread, r0, r1)) run_range(r0, r1);
    });
}

PackedWeights pack_for_matmul(WeightMatrix& w) {
    PackedWeights out;
    if (cpu_kernels().gemm_q4_k_panels == nullptr || !q4_k_panels_fit(w)) return out;
    const size_t bytes = static_cast<size_t>(w.rows) * w.row_bytes;
    out.bytes = allocate_large_buffer(bytes);
    if (!out.bytes) return {};  // no memory for the copy: the GGUF layout still works
    out.size = bytes;
    pack_q4_k_panels(w, out.bytes.get());
    w.panels = out.bytes.get();
    return out;
}

void matmul_with(const CpuKernels& k, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
                 ThreadPool& pool) {
    if (w.rows <= 0) return;
    const MatmulOutput out{&w, y};
    matmul_shared_input_with(k, {&out, 1}, x, n_tokens, pool);
}

void matmul_shared_input(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool) {
    matmul_shared_input_with(cpu_kernels(), outs, x, n_tokens, pool);
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
    matmul_with(cpu_kernels(), w, x, n_tokens, y, pool);
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = 0; r < w.rows; ++r) {
        auto ok = tensor::dequantize_row(w.type, w.data + static_cast<size_t>(r) * w.row_bytes, row.data(), w.cols);
        if (!ok) fail("reference cannot dequantize this type", w);
        for (int64_t t = 0; t < n_tokens; ++t) {
            const float* xt = x + t * w.cols;
            double s = 0;
            for (int64_t i = 0; i < w.cols; ++i) s += static_cast<double>(row[i]) * xt[i];
            y[t * w.rows + r] = static_cast<float>(s);
        }
    }
}

}  // namespace hearth::kernels
