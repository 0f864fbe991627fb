#include "vits_synth.h"

#include <fmt/format.h>

#include <cmath>

#include "model_builder.h"

namespace hearth::test {

namespace {

class VitsBuilder {
public:
    VitsBuilder(const VitsSizes& s, uint32_t seed) : s_(s), mb_(15), seed_(seed) {}

    std::string fresh(const char* what) { return fmt::format("{}_{}", what, counter_++); }

    std::string weight(const std::vector<int64_t>& shape, double scale) {
        const std::string name = fresh("w");
        mb_.initializer(name, random_tensor(DataType::Float, shape, seed_++, -scale, scale));
        return name;
    }
    std::string ints(const std::vector<int64_t>& v) {
        const std::string name = fresh("i");
        mb_.initializer(name, int_tensor({static_cast<int64_t>(v.size())}, v));
        return name;
    }
    std::string int_scalar(int64_t v) {
        const std::string name = fresh("s");
        mb_.initializer(name, int_tensor({}, {v}));
        return name;
    }
    std::string float_scalar(float v) {
        const std::string name = fresh("f");
        mb_.initializer(name, float_tensor({}, {v}));
        return name;
    }
    std::string op(const std::string& type, std::vector<std::string> ins) {
        const std::string out = fresh(type.c_str());
        mb_.node(type, std::move(ins), {out});
        return out;
    }
    ::onnx::NodeProto& last() { return *mb_.graph().mutable_node(mb_.graph().node_size() - 1); }

    std::string conv(const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t dil = 1, bool bias = true) {
        const double scale = 1.0 / std::sqrt(static_cast<double>(cin * k));
        std::vector<std::string> ins{x, weight({cout, cin, k}, scale)};
        if (bias) ins.push_back(weight({cout}, 0.1));
        const std::string y = op("Conv", ins);
        const int64_t pad = dil * (k - 1) / 2;
        attr(last(), "kernel_shape", std::vector<int64_t>{k});
        attr(last(), "dilations", std::vector<int64_t>{dil});
        attr(last(), "pads", std::vector<int64_t>{pad, pad});
        return y;
    }

    std::string leaky(const std::string& x, float alpha) {
        const std::string y = op("LeakyRelu", {x});
        attr(last(), "alpha", alpha);
        return y;
    }

    std::string transpose(const std::string& x, const std::vector<int64_t>& perm) {
        const std::string y = op("Transpose", {x});
        attr(last(), "perm", perm);
        return y;
    }

    // VITS LayerNorm over channels of [1, C, T], spelled out as the exporter does.
    std::string layer_norm(const std::string& x, int64_t c) {
        const std::string t = transpose(x, {0, 2, 1});
        const std::string mean = op("ReduceMean", {t});
        attr(last(), "axes", std::vector<int64_t>{-1});
        const std::string d = op("Sub", {t, mean});
        const std::string sq = op("Pow", {d, float_scalar(2.0f)});
        const std::string var = op("ReduceMean", {sq});
        attr(last(), "axes", std::vector<int64_t>{-1});
        const std::string den = op("Sqrt", {op("Add", {var, float_scalar(1e-5f)})});
        const std::string n = op("Div", {d, den});
        const std::string g = op("Add", {op("Mul", {n, weight({c}, 1.0)}), weight({c}, 0.1)});
        return transpose(g, {0, 2, 1});
    }

    std::string concat0(std::vector<std::string> parts) {
        const std::string y = op("Concat", std::move(parts));
        attr(last(), "axis", int64_t{0});
        return y;
    }

    std::string unsqueeze(const std::string& x, std::vector<int64_t> axes) { return op("Unsqueeze", {x, ints(axes)}); }

    // Relative-position attention of one encoder layer, with T dynamic.
    std::string attention(const std::string& x, const std::string& attn_mask, const std::string& t_len) {
        const int64_t c = s_.hidden, h = s_.heads, dk = c / h, w = s_.window;
        const std::string q = conv(x, c, c, 1), k = conv(x, c, c, 1), v = conv(x, c, c, 1);
        const std::string shape4 = ints({1, h, dk, -1});
        const std::string qh = transpose(op("Reshape", {q, shape4}), {0, 1, 3, 2});  // [1,h,T,dk]
        const std::string kh = op("Reshape", {k, shape4});                          // [1,h,dk,T]
        const std::string vh = transpose(op("Reshape", {v, shape4}), {0, 1, 3, 2});
        const std::string qs = op("Mul", {qh, float_scalar(1.0f / std::sqrt(static_cast<float>(dk)))});
        std::string scores = op("MatMul", {qs, kh});
        // Relative key embeddings: pad the 2w+1 table to 2T-1 rows, slice, matmul, rel->abs.
        const std::string emb = weight({1, 2 * w + 1, dk}, 0.3);
        const std::string pad_len = op("Max", {op("Sub", {t_len, int_scalar(w + 1)}), int_scalar(0)});
        const std::string start = op("Max", {op("Sub", {int_scalar(w + 1), t_len}), int_scalar(0)});
        const std::string two_t = op("Sub", {op("Mul", {t_len, int_scalar(2)}), int_scalar(1)});
        const std::string pl = unsqueeze(pad_len, {0});
        const std::string zero1 = ints({0});
        const std::string pads = op("Concat", {zero1, pl, zero1, zero1, pl, zero1});
        attr(last(), "axis", int64_t{0});
        const std::string padded = op("Pad", {emb, pads});
        const std::string st = unsqueeze(start, {0});
        const std::string en = unsqueeze(op("Add", {start, two_t}), {0});
        const std::string rel = op("Slice", {padded, st, en, ints({1})});          // [1, 2T-1, dk]
        const std::string rel_logits = op("MatMul", {qs, transpose(rel, {0, 2, 1})});  // [1,h,T,2T-1]
        // rel_to_abs: pad one column, flatten, pad T-1, reshape to [T+1, 2T-1], slice.
        const std::string p1 = op("Pad", {rel_logits, ints({0, 0, 0, 0, 0, 0, 0, 1})});
        const std::string flat = op("Reshape", {p1, ints({1, h, -1})});
        const std::string tm1 = unsqueeze(op("Sub", {t_len, int_scalar(1)}), {0});
        const std::string pads2 = op("Concat", {ints({0, 0, 0, 0, 0}), tm1});
        attr(last(), "axis", int64_t{0});
        const std::string flat_p = op("Pad", {flat, pads2});
        const std::string tp1 = unsqueeze(op("Add", {t_len, int_scalar(1)}), {0});
        const std::string shp = op("Concat", {ints({1, h}), tp1, unsqueeze(two_t, {0})});
        attr(last(), "axis", int64_t{0});
        const std::string full = op("Reshape", {flat_p, shp});
        const std::string tl = unsqueeze(t_len, {0});
        const std::string starts = concat0({ints({0}), tm1});
        const std::string ends = concat0({tl, unsqueeze(two_t, {0})});
        const std::string abs_rel = op("Slice", {full, starts, ends, ints({2, 3})});  // [1,h,T,T]
        scores = op("Add", {scores, abs_rel});
        const std::string masked = op("Where", {op("Equal", {attn_mask, float_scalar(0.0f)}), float_scalar(-1e4f), scores});
        const std::string p = op("Softmax", {masked});
        attr(last(), "axis", int64_t{-1});
        const std::string o = transpose(op("MatMul", {p, vh}), {0, 1, 3, 2});  // [1,h,dk,T]
        const std::string merged = op("Reshape", {o, ints({1, c, -1})});
        return conv(merged, c, c, 1);
    }

    std::string build() {
        const int64_t c = s_.hidden;
        mb_.input("input", DataType::Int64, {1, -1});
        mb_.input("input_lengths", DataType::Int64, {1});
        mb_.input("scales", DataType::Float, {3});
        const std::string noise_scale = op("Gather", {"scales", int_scalar(0)});
        const std::string length_scale = op("Gather", {"scales", int_scalar(1)});
        const std::string noise_w = op("Gather", {"scales", int_scalar(2)});
        // Masks from the lengths.
        const std::string t_len = op("Gather", {op("Shape", {"input"}), int_scalar(1)});
        const std::string range = op("Range", {int_scalar(0), t_len, int_scalar(1)});
        const std::string valid = op("Less", {unsqueeze(range, {0}), unsqueeze("input_lengths", {1})});
        std::string x_mask = op("Cast", {unsqueeze(valid, {1})});  // [1,1,T]
        attr(last(), "to", int64_t{1});
        const std::string attn_mask = op("Mul", {unsqueeze(x_mask, {2}), unsqueeze(x_mask, {3})});  // [1,1,T,T]
        // Text encoder.
        const std::string emb = op("Gather", {weight({s_.n_symbols, c}, 1.0), "input"});
        std::string x = transpose(op("Mul", {emb, float_scalar(std::sqrt(static_cast<float>(c)))}), {0, 2, 1});
        x = op("Mul", {x, x_mask});
        for (int64_t l = 0; l < s_.layers; ++l) {
            const std::string a = attention(x, attn_mask, t_len);
            x = layer_norm(op("Add", {x, a}), c);
            std::string f = op("Relu", {conv(op("Mul", {x, x_mask}), c, s_.filter, 3)});
            f = op("Mul", {conv(op("Mul", {f, x_mask}), s_.filter, c, 3), x_mask});
            x = layer_norm(op("Add", {x, f}), c);
        }
        const std::string stats = op("Mul", {conv(x, c, 2 * c, 1), x_mask});
        const std::string m_p = fresh("m_p"), logs_p = fresh("logs_p");
        mb_.node("Split", {stats, ints({c, c})}, {m_p, logs_p});
        attr(last(), "axis", int64_t{1});
        // Duration predictor: convs, noise scaled by noise_w, durations around 3.5 frames.
        std::string d = layer_norm(op("Relu", {conv(x, c, c, 3)}), c);
        d = layer_norm(op("Relu", {conv(d, c, c, 3)}), c);
        std::string logw = op("Tanh", {conv(d, c, 1, 1)});
        logw = op("Add", {logw, op("Mul", {op("RandomNormalLike", {logw}), noise_w})});
        logw = op("Add", {op("Mul", {logw, float_scalar(0.3f)}), float_scalar(std::log(3.5f))});
        const std::string wdur = op("Mul", {op("Mul", {op("Exp", {logw}), x_mask}), length_scale});
        const std::string w_ceil = op("Ceil", {wdur});  // [1,1,T]
        // Length regulation: path[tx, ty] = (ty < cum[tx]) - (ty < cum[tx] - w[tx]).
        const std::string cum = op("CumSum", {w_ceil, int_scalar(2)});
        const std::string total = op("ReduceMax", {cum});
        attr(last(), "keepdims", int64_t{0});
        const std::string total_i = op("Cast", {total});
        attr(last(), "to", int64_t{7});
        const std::string ty = op("Range", {int_scalar(0), total_i, int_scalar(1)});
        const std::string tyf = op("Cast", {ty});
        attr(last(), "to", int64_t{1});
        const std::string cum_t = transpose(cum, {0, 2, 1});  // [1,T,1]
        const std::string prev_t = transpose(op("Sub", {cum, w_ceil}), {0, 2, 1});
        const std::string a1 = op("Cast", {op("Less", {tyf, cum_t})});
        attr(last(), "to", int64_t{1});
        const std::string a0 = op("Cast", {op("Less", {tyf, prev_t})});
        attr(last(), "to", int64_t{1});
        const std::string path = op("Sub", {a1, a0});  // [1,T,Ty]
        const std::string m_y = op("MatMul", {m_p, path});
        const std::string logs_y = op("MatMul", {logs_p, path});
        const std::string y_mask = op("ReduceMax", {op("MatMul", {x_mask, path})});  // [1,1,Ty]
        attr(last(), "axes", std::vector<int64_t>{1});
        const std::string noise = op("Mul", {op("Mul", {op("RandomNormalLike", {m_y}), op("Exp", {logs_y})}), noise_scale});
        std::string z = op("Mul", {op("Add", {m_y, noise}), y_mask});
        // Flows, reversed: flip channels, then x1 = (x1 - m(x0)) * mask.
        const int64_t half = c / 2;
        for (int64_t f = 0; f < s_.flows; ++f) {
            z = op("Slice", {z, ints({-1}), ints({-(int64_t{1} << 40)}), ints({1}), ints({-1})});
            const std::string x0 = fresh("x0"), x1 = fresh("x1");
            mb_.node("Split", {z, ints({half, half})}, {x0, x1});
            attr(last(), "axis", int64_t{1});
            std::string h = op("Mul", {conv(x0, half, c, 1), y_mask});
            std::string skip;
            for (int64_t l = 0; l < s_.wn_layers; ++l) {
                const std::string in = conv(h, c, 2 * c, 5);
                const std::string ta = fresh("ta"), sa = fresh("sa");
                mb_.node("Split", {in, ints({c, c})}, {ta, sa});
                attr(last(), "axis", int64_t{1});
                const std::string acts = op("Mul", {op("Tanh", {ta}), op("Sigmoid", {sa})});
                const std::string rs = conv(acts, c, 2 * c, 1);
                const std::string res = fresh("res"), sk = fresh("sk");
                mb_.node("Split", {rs, ints({c, c})}, {res, sk});
                attr(last(), "axis", int64_t{1});
                h = op("Mul", {op("Add", {h, res}), y_mask});
                skip = skip.empty() ? sk : op("Add", {skip, sk});
            }
            const std::string m = op("Mul", {conv(op("Mul", {skip, y_mask}), c, half, 1), y_mask});
            const std::string nx1 = op("Mul", {op("Sub", {x1, m}), y_mask});
            z = op("Concat", {x0, nx1});
            attr(last(), "axis", int64_t{1});
        }
        // HiFi-GAN decoder.
        int64_t ch = s_.dec_channels;
        std::string g = conv(op("Mul", {z, y_mask}), c, ch, 7);
        for (size_t u = 0; u < s_.upsample_rates.size(); ++u) {
            const int64_t rate = s_.upsample_rates[u], k = s_.upsample_kernels[u];
            g = leaky(g, 0.1f);
            const double scale = 1.0 / std::sqrt(static_cast<double>(ch * k / rate));
            g = op("ConvTranspose", {g, weight({ch, ch / 2, k}, scale), weight({ch / 2}, 0.1)});
            attr(last(), "strides", std::vector<int64_t>{rate});
            attr(last(), "pads", std::vector<int64_t>{(k - rate) / 2, (k - rate) / 2});
            attr(last(), "kernel_shape", std::vector<int64_t>{k});
            ch /= 2;
            std::string sum;
            for (size_t r = 0; r < s_.res_kernels.size(); ++r) {
                std::string xr = g;
                for (int64_t dil : s_.res_dilations[r]) xr = op("Add", {conv(leaky(xr, 0.1f), ch, ch, s_.res_kernels[r], dil), xr});
                sum = sum.empty() ? xr : op("Add", {sum, xr});
            }
            g = op("Div", {sum, float_scalar(static_cast<float>(s_.res_kernels.size()))});
        }
        g = conv(leaky(g, 0.01f), ch, 1, 7, 1, false);
        const std::string out = op("Tanh", {g});
        mb_.node("Identity", {out}, {"output"});
        mb_.output("output", DataType::Float);
        return mb_.serialize();
    }

private:
    const VitsSizes& s_;
    ModelBuilder mb_;
    uint32_t seed_;
    int counter_ = 0;
};

}  // namespace

std::string build_vits_model(const VitsSizes& sizes, uint32_t seed) { return VitsBuilder(sizes, seed).build(); }

int64_t vits_hop(const VitsSizes& sizes) {
    int64_t hop = 1;
    for (int64_t r : sizes.upsample_rates) hop *= r;
    return hop;
}

}  // namespace hearth::test
