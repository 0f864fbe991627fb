// MatMul and Gemm on the blocked sgemm (gemm.h).
#include <fmt/format.h>

#include "onnx/gemm.h"
#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

Result<void> op_matmul(OpContext& ctx) {
    const Tensor* a = ctx.input(0);
    const Tensor* b = ctx.input(1);
    if (!a || !b) return ctx.error("needs two inputs");
    if (a->dtype != DataType::Float || b->dtype != DataType::Float)
        return ctx.error(fmt::format("unsupported types {} x {}", data_type_name(a->dtype), data_type_name(b->dtype)));
    if (a->shape.empty() || b->shape.empty()) return ctx.error("inputs must have rank >= 1");
    std::vector<int64_t> as = a->shape, bs = b->shape;
    const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
    if (a_vec) as.insert(as.begin(), 1);
    if (b_vec) bs.push_back(1);
    const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
    if (bs[bs.size() - 2] != K)
        return ctx.error(fmt::format("shapes {} and {} do not multiply", shape_string(a->shape), shape_string(b->shape)));
    std::span<const int64_t> a_batch(as.data(), as.size() - 2), b_batch(bs.data(), bs.size() - 2);
    auto batch = broadcast_shapes(a_batch, b_batch);
    if (!batch) return ctx.error(batch.error().message);
    std::vector<int64_t> out_shape = *batch;
    if (!a_vec) out_shape.push_back(M);
    if (!b_vec) out_shape.push_back(N);
    if (auto chk = check_shape_size(out_shape); !chk) return ctx.error(chk.error().message);
    if (auto w = charge_work(shape_numel(out_shape) * K); !w) return ctx.error(w.error().message);
    Tensor y = make_tensor(DataType::Float, out_shape);
    const int64_t n_batch = shape_numel(*batch);
    const float* pa = a->data<float>();
    const float* pb = b->data<float>();
    float* py = y.data<float>();
    if (shape_numel(b_batch) == 1) {
        // B is shared: fold A's batch into its rows, one big gemm.
        sgemm(n_batch * M, N, K, GemmA{pa, K, 1}, StridedSource(pb, N, 1), py, N, false, &ctx.pool);
    } else {
        // Offsets of every batch element, element by element (the batch is small).
        const auto a_str = strides_of(a_batch), b_str = strides_of(b_batch);
        const size_t rank = batch->size();
        std::vector<int64_t> pos(rank, 0);
        for (int64_t i = 0; i < n_batch; ++i) {
            int64_t ao = 0, bo = 0;
            for (size_t d = 0; d < rank; ++d) {
                const size_t da = d + a_batch.size() - rank, db = d + b_batch.size() - rank;
                if (d + a_batch.size() >= rank && a_batch[da] != 1) ao += pos[d] * a_str[da];
                if (d + b_batch.size() >= rank && b_batch[db] != 1) bo += pos[d] * b_str[db];
            }
            sgemm(M, N, K, GemmA{pa + ao * M * K, K, 1}, StridedSource(pb + bo * K * N, N, 1), py + i * M * N, N, false,
                  &ctx.pool);
            for (size_t d = rank; d-- > 0;) {
                if (++pos[d] < (*batch)[d]) break;
                pos[d] = 0;
            }
        }
    }
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_gemm(OpContext& ctx) {
    const Tensor* a = ctx.input(0);
    const Tensor* b = ctx.input(1);
    const Tensor* c = ctx.input(2);
    if (!a || !b) return ctx.error("needs A and B");
    if (a->dtype != DataType::Float || b->dtype != DataType::Float) return ctx.error("needs float inputs");
    if (a->shape.size() != 2 || b->shape.size() != 2) return ctx.error("A and B must be 2-D");
    const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
    const float alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
    const int64_t M = ta ? a->shape[1] : a->shape[0], K = ta ? a->shape[0] : a->shape[1];
    const int64_t KB = tb ? b->shape[1] : b->shape[0], N = tb ? b->shape[0] : b->shape[1];
    if (K != KB) return ctx.error(fmt::format("shapes {} and {} do not multiply", shape_string(a->shape), shape_string(b->shape)));
    if (auto chk = check_shape_size(std::vector<int64_t>{M, N}); !chk) return ctx.error(chk.error().message);
    if (auto w = charge_work(M * N * K); !w) return ctx.error(w.error().message);
    Tensor y = make_tensor(DataType::Float, {M, N});
    const GemmA ga = ta ? GemmA{a->data<float>(), 1, M} : GemmA{a->data<float>(), K, 1};
    const StridedSource gb = tb ? StridedSource(b->data<float>(), 1, K) : StridedSource(b->data<float>(), N, 1);
    sgemm(M, N, K, ga, gb, y.data<float>(), N, false, &ctx.pool);
    float* py = y.data<float>();
    if (alpha != 1.0f)
        for (int64_t i = 0; i < M * N; ++i) py[i] *= alpha;
    if (c && beta != 0.0f) {
        if (c->dtype != DataType::Float) return ctx.error("C must be float");
        auto s = broadcast_shapes(y.shape, c->shape);
        if (!s || *s != y.shape) return ctx.error(fmt::format("C of shape {} does not broadcast to [{}, {}]", shape_string(c->shape), M, N));
        const BroadcastPlan plan = plan_broadcast(y.shape, {c->shape});
        std::vector<int64_t> off;
        for (int64_t r = 0; r < plan.outer; ++r) {
            broadcast_offsets(plan, r, off);
            for (int64_t i = 0; i < plan.inner; ++i)
                py[r * plan.inner + i] += beta * c->data<float>()[off[0] + i * plan.inner_step[0]];
        }
    }
    ctx.out[0] = std::move(y);
    return {};
}

}  // namespace

void register_linear_ops(OpTable& t) {
    add(t, "MatMul", op_matmul);
    add(t, "Gemm", op_gemm);
}

}  // namespace hearth::onnx
