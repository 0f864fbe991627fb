// LSTM (ONNX gate order i, o, f, c; forward, reverse or bidirectional; optional peepholes,
// sequence lengths and initial state), with the input projection done as one gemm.
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "onnx/gemm.h"
#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

using Activation = float (*)(float, float, float);

float act_sigmoid(float x, float, float) { return 1.0f / (1.0f + std::exp(-x)); }
float act_tanh(float x, float, float) { return std::tanh(x); }
float act_relu(float x, float, float) { return x > 0 ? x : 0.0f; }
float act_hard_sigmoid(float x, float a, float b) { return std::clamp(a * x + b, 0.0f, 1.0f); }
float act_affine(float x, float a, float b) { return a * x + b; }
float act_leaky_relu(float x, float a, float) { return x >= 0 ? x : a * x; }
float act_scaled_tanh(float x, float a, float b) { return a * std::tanh(b * x); }

struct ActivationFn {
    Activation fn = act_sigmoid;
    float alpha = 0, beta = 0;
};

Result<ActivationFn> activation_named(const std::string& name, float alpha, float beta, bool has_alpha, bool has_beta) {
    if (name == "Sigmoid") return ActivationFn{act_sigmoid, 0, 0};
    if (name == "Tanh") return ActivationFn{act_tanh, 0, 0};
    if (name == "Relu") return ActivationFn{act_relu, 0, 0};
    if (name == "HardSigmoid") return ActivationFn{act_hard_sigmoid, has_alpha ? alpha : 0.2f, has_beta ? beta : 0.5f};
    if (name == "Affine") return ActivationFn{act_affine, has_alpha ? alpha : 1.0f, has_beta ? beta : 0.0f};
    if (name == "LeakyRelu") return ActivationFn{act_leaky_relu, has_alpha ? alpha : 0.01f, 0};
    if (name == "ScaledTanh") return ActivationFn{act_scaled_tanh, has_alpha ? alpha : 1.0f, has_beta ? beta : 1.0f};
    return make_error("unsupported activation " + name);
}

Result<void> op_lstm(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* w = ctx.input(1);
    const Tensor* r = ctx.input(2);
    const Tensor* bias = ctx.input(3);
    const Tensor* seq_lens = ctx.input(4);
    const Tensor* h0 = ctx.input(5);
    const Tensor* c0 = ctx.input(6);
    const Tensor* peep = ctx.input(7);
    if (!x || !w || !r) return ctx.error("needs X, W and R");
    for (const Tensor* t : {x, w, r, bias, h0, c0, peep})
        if (t && t->dtype != DataType::Float) return ctx.error("needs float inputs");
    if (ctx.attr_int("layout", 0) != 0) return ctx.error("layout=1 is not supported");
    if (ctx.attr_int("input_forget", 0) != 0) return ctx.error("input_forget is not supported");
    if (x->shape.size() != 3 || w->shape.size() != 3 || r->shape.size() != 3) return ctx.error("X, W, R must be 3-D");
    const std::string direction = ctx.attr_string("direction", "forward");
    const int64_t dirs = direction == "bidirectional" ? 2 : 1;
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
        return ctx.error("unknown direction " + direction);
    const int64_t seq = x->shape[0], batch = x->shape[1], in = x->shape[2];
    const int64_t H = ctx.attr_int("hidden_size", r->shape[2]);
    // Before 4 * H is formed: the attribute is untrusted.
    if (H < 0 || H != r->shape[2]) return ctx.error(fmt::format("hidden_size {} differs from R {}", H, shape_string(r->shape)));
    if (w->shape[0] != dirs || w->shape[1] != 4 * H || w->shape[2] != in || r->shape[0] != dirs || r->shape[1] != 4 * H ||
        r->shape[2] != H)
        return ctx.error(fmt::format("W {} / R {} do not fit X {} and hidden_size {}", shape_string(w->shape),
                                     shape_string(r->shape), shape_string(x->shape), H));
    if (bias && bias->numel() != dirs * 8 * H) return ctx.error("B has the wrong size");
    if (h0 && h0->numel() != dirs * batch * H) return ctx.error("initial_h has the wrong size");
    if (c0 && c0->numel() != dirs * batch * H) return ctx.error("initial_c has the wrong size");
    if (peep && peep->numel() != dirs * 3 * H) return ctx.error("P has the wrong size");
    // Y and the input projection [seq, batch, 4H]: X may be empty (in = 0) with any seq and batch.
    for (const auto& shape : {std::vector<int64_t>{seq, dirs, batch, H}, std::vector<int64_t>{seq, batch, 4, H}})
        if (auto chk = check_shape_size(shape); !chk) return ctx.error(chk.error().message);
    // Per direction and step, [batch, in + H] times [in + H, 4H].
    if (auto wk = charge_work(dirs * seq * batch * 4 * H * (in + H)); !wk) return ctx.error(wk.error().message);
    const float clip = ctx.attr_float("clip", 0.0f);
    const bool has_clip = ctx.has_attr("clip");
    std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
    if (seq_lens) {
        auto v = read_ints(*seq_lens);
        if (!v || static_cast<int64_t>(v->size()) != batch) return ctx.error("sequence_lens must have one value per batch entry");
        for (int64_t b = 0; b < batch; ++b) lens[static_cast<size_t>(b)] = std::clamp<int64_t>((*v)[static_cast<size_t>(b)], 0, seq);
    }
    // Activations: f, g, h per direction.
    std::vector<ActivationFn> acts(static_cast<size_t>(3 * dirs));
    const auto names = ctx.node.attribute("activations");
    const auto alphas = ctx.attr_floats("activation_alpha"), betas = ctx.attr_floats("activation_beta");
    for (int64_t k = 0; k < 3 * dirs; ++k) {
        const char* def = k % 3 == 0 ? "Sigmoid" : "Tanh";
        std::string name = names && static_cast<int64_t>(names->strings.size()) > k ? names->strings[static_cast<size_t>(k)] : def;
        const bool ha = static_cast<int64_t>(alphas.size()) > k, hb = static_cast<int64_t>(betas.size()) > k;
        auto a = activation_named(name, ha ? alphas[static_cast<size_t>(k)] : 0, hb ? betas[static_cast<size_t>(k)] : 0, ha, hb);
        if (!a) return ctx.error(a.error().message);
        acts[static_cast<size_t>(k)] = *a;
    }

    Tensor y = make_tensor(DataType::Float, {seq, dirs, batch, H});
    Tensor yh = make_tensor(DataType::Float, {dirs, batch, H});
    Tensor yc = make_tensor(DataType::Float, {dirs, batch, H});
    std::vector<float> proj(static_cast<size_t>(seq * batch * 4 * H)), gates(static_cast<size_t>(batch * 4 * H));
    std::vector<float> h(static_cast<size_t>(batch * H)), c(static_cast<size_t>(batch * H));
    for (int64_t d = 0; d < dirs; ++d) {
        const bool reverse = direction == "reverse" || d == 1;
        const float* wd = w->data<float>() + d * 4 * H * in;
        const float* rd = r->data<float>() + d * 4 * H * H;
        // proj[t, b, :] = X[t, b, :] · W^T
        sgemm(seq * batch, 4 * H, in, GemmA{x->data<float>(), in, 1}, StridedSource(wd, 1, in), proj.data(), 4 * H, false,
              &ctx.pool);
        if (bias) {
            const float* bd = bias->data<float>() + d * 8 * H;
            for (int64_t i = 0; i < seq * batch; ++i)
                for (int64_t j = 0; j < 4 * H; ++j) proj[static_cast<size_t>(i * 4 * H + j)] += bd[j] + bd[4 * H + j];
        }
        for (int64_t i = 0; i < batch * H; ++i) {
            h[static_cast<size_t>(i)] = h0 ? h0->data<float>()[d * batch * H + i] : 0.0f;
            c[static_cast<size_t>(i)] = c0 ? c0->data<float>()[d * batch * H + i] : 0.0f;
        }
        const float* pd = peep ? peep->data<float>() + d * 3 * H : nullptr;
        const ActivationFn& f = acts[static_cast<size_t>(3 * d)];
        const ActivationFn& g = acts[static_cast<size_t>(3 * d + 1)];
        const ActivationFn& hh = acts[static_cast<size_t>(3 * d + 2)];
        for (int64_t step = 0; step < seq; ++step) {
            // gates = proj[t] + h · R^T
            std::vector<int64_t> ts(static_cast<size_t>(batch));
            for (int64_t b = 0; b < batch; ++b) {
                const int64_t len = lens[static_cast<size_t>(b)];
                ts[static_cast<size_t>(b)] = reverse ? len - 1 - step : step;
            }
            sgemm(batch, 4 * H, H, GemmA{h.data(), H, 1}, StridedSource(rd, 1, H), gates.data(), 4 * H, false, nullptr);
            for (int64_t b = 0; b < batch; ++b) {
                const int64_t t = ts[static_cast<size_t>(b)];
                float* yrow = y.data<float>() + ((step * dirs + d) * batch + b) * H;
                if (step >= lens[static_cast<size_t>(b)] || t < 0) {
                    // Past this entry's length: outputs are zero, state is kept.
                    if (!reverse) std::fill(yrow, yrow + H, 0.0f);
                    continue;
                }
                float* gb = gates.data() + b * 4 * H;
                const float* pb = proj.data() + (t * batch + b) * 4 * H;
                float* hb = h.data() + b * H;
                float* cb = c.data() + b * H;
                for (int64_t j = 0; j < H; ++j) {
                    float gi = gb[j] + pb[j], go = gb[H + j] + pb[H + j];
                    float gf = gb[2 * H + j] + pb[2 * H + j], gc = gb[3 * H + j] + pb[3 * H + j];
                    if (pd) {
                        gi += pd[j] * cb[j];
                        gf += pd[2 * H + j] * cb[j];
                    }
                    if (has_clip) {
                        gi = std::clamp(gi, -clip, clip), go = std::clamp(go, -clip, clip);
                        gf = std::clamp(gf, -clip, clip), gc = std::clamp(gc, -clip, clip);
                    }
                    const float i_ = f.fn(gi, f.alpha, f.beta), f_ = f.fn(gf, f.alpha, f.beta);
                    const float c_ = g.fn(gc, g.alpha, g.beta);
                    const float cn = f_ * cb[j] + i_ * c_;
                    if (pd) go += pd[H + j] * cn;
                    const float o_ = f.fn(go, f.alpha, f.beta);
                    cb[j] = cn;
                    hb[j] = o_ * hh.fn(cn, hh.alpha, hh.beta);
                }
                // Y is indexed by time, so reverse outputs land at t.
                float* yt = y.data<float>() + ((t * dirs + d) * batch + b) * H;
                std::memcpy(yt, hb, static_cast<size_t>(H) * sizeof(float));
            }
        }
        // Reverse direction: zero the outputs of time steps past each entry's length.
        if (reverse)
            for (int64_t b = 0; b < batch; ++b)
                for (int64_t t = lens[static_cast<size_t>(b)]; t < seq; ++t) {
                    float* yt = y.data<float>() + ((t * dirs + d) * batch + b) * H;
                    std::fill(yt, yt + H, 0.0f);
                }
        std::memcpy(yh.data<float>() + d * batch * H, h.data(), static_cast<size_t>(batch * H) * sizeof(float));
        std::memcpy(yc.data<float>() + d * batch * H, c.data(), static_cast<size_t>(batch * H) * sizeof(float));
    }
    if (ctx.out.size() > 0) ctx.out[0] = std::move(y);
    if (ctx.out.size() > 1) ctx.out[1] = std::move(yh);
    if (ctx.out.size() > 2) ctx.out[2] = std::move(yc);
    return {};
}

}  // namespace

void register_recurrent_ops(OpTable& t) { add(t, "LSTM", op_lstm); }

}  // namespace hearth::onnx
