// Convolutions: Conv (1-D and 2-D, any stride, dilation, padding, groups) as im2col-on-the-fly
// gemm, ConvTranspose (1-D and 2-D) as gemm plus col2im, and global pooling.
#include <fmt/format.h>

#include <cstring>

#include "onnx/gemm.h"
#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

// Geometry of one convolution, with 1-D expressed as 2-D of height 1.
// LeakyRelu, branch-free so loops over it vectorize (activation signs are random).
inline float leaky(float v, float alpha) { return std::max(v, 0.0f) + alpha * std::min(v, 0.0f); }

struct ConvGeometry {
    int64_t batch = 1, in_ch = 0, out_ch = 0, group = 1;
    int64_t ih = 1, iw = 1, kh = 1, kw = 1, oh = 1, ow = 1;
    int64_t sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;  // ph/pw: padding at the start
    int64_t ph_end = 0, pw_end = 0, oph = 0, opw = 0;         // end padding, output_padding
};

// B(k, n) of a convolution's im2col matrix: k = (c, y, x) of the kernel, n = output pixel.
class Im2colSource final : public GemmSource {
public:
    Im2colSource(const float* x, const ConvGeometry& g, const float* leaky_alpha = nullptr)
        : x_(x), g_(g), leaky_(leaky_alpha != nullptr), alpha_(leaky_alpha ? *leaky_alpha : 0.0f) {}
    void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int64_t width, float* dst) const override {
        // Each im2col row is built contiguously once, then dealt out to the panels.
        thread_local std::vector<float> tmp;
        tmp.resize(static_cast<size_t>(nc));
        for (int64_t k = 0; k < kc; ++k) {
            build_row(k0 + k, n0, nc, tmp.data());
            for (int64_t p0 = 0; p0 < nc; p0 += width) {
                const int64_t cols = std::min(width, nc - p0);
                float* d = dst + p0 * kc + k * width;
                std::memcpy(d, tmp.data() + p0, static_cast<size_t>(cols) * sizeof(float));
                for (int64_t t = cols; t < width; ++t) d[t] = 0.0f;
            }
        }
    }

private:
    // Row kidx = (channel, ky, kx) of the im2col matrix, output pixels [n0, n0+nc), into d.
    void build_row(int64_t kidx, int64_t n0, int64_t nc, float* d) const {
        const int64_t kk = g_.kh * g_.kw;
        const int64_t c = kidx / kk, ky = (kidx % kk) / g_.kw, kx = kidx % g_.kw;
        const float* plane = x_ + c * g_.ih * g_.iw;
        int64_t oy = n0 / g_.ow, ox = n0 % g_.ow;
        int64_t j = 0;
        while (j < nc) {
            const int64_t iy = oy * g_.sh - g_.ph + ky * g_.dh;
            const int64_t run = std::min(nc - j, g_.ow - ox);  // rest of this output row
            if (iy < 0 || iy >= g_.ih) {
                std::fill(d + j, d + j + run, 0.0f);
            } else {
                const float* row = plane + iy * g_.iw;
                const int64_t base = ox * g_.sw - g_.pw + kx * g_.dw;
                if (g_.sw == 1) {
                    // ix = base + t: copy the in-range part.
                    const int64_t lo = std::clamp<int64_t>(-base, 0, run);
                    const int64_t hi = std::clamp<int64_t>(g_.iw - base, 0, run);
                    std::fill(d + j, d + j + lo, 0.0f);
                    if (leaky_) {
                        const float a = alpha_;
                        float* __restrict out = d + j;
                        const float* __restrict in = row + base;
                        for (int64_t t = lo; t < hi; ++t) out[t] = leaky(in[t], a);
                    } else if (hi > lo) {
                        std::memcpy(d + j + lo, row + base + lo, static_cast<size_t>(hi - lo) * sizeof(float));
                    }
                    std::fill(d + j + std::max(lo, hi), d + j + run, 0.0f);
                } else {
                    for (int64_t t = 0; t < run; ++t) {
                        const int64_t ix = base + t * g_.sw;
                        const float v = (ix >= 0 && ix < g_.iw) ? row[ix] : 0.0f;
                        d[j + t] = leaky_ ? leaky(v, alpha_) : v;
                    }
                }
            }
            j += run;
            ox = 0;
            ++oy;
        }
    }

    const float* x_;
    const ConvGeometry& g_;
    bool leaky_;
    float alpha_;
};

// 1-D, stride 1, few output channels per group (depthwise convs, a vocoder's final 1-channel
// conv): a gemm would pack the whole im2col matrix for one or two rows of output, so this
// accumulates shifted input rows directly, in L1-sized chunks of output positions.
void conv1d_direct(const float* x, const float* w, float* y, int64_t cg, int64_t mg, const ConvGeometry& g,
                   const float* leaky_alpha, int64_t o_begin, int64_t o_end) {
    constexpr int64_t kChunk = 2048;
    const bool fused_leaky = leaky_alpha != nullptr;
    const float a = fused_leaky ? *leaky_alpha : 0.0f;
    for (int64_t o0 = o_begin; o0 < o_end; o0 += kChunk) {
        const int64_t o1 = std::min(o_end, o0 + kChunk);
        for (int64_t m = 0; m < mg; ++m) {
            float* __restrict ym = y + m * g.ow;
            for (int64_t c = 0; c < cg; ++c) {
                const float* __restrict xc = x + c * g.iw;
                for (int64_t k = 0; k < g.kw; ++k) {
                    const float wv = w[(m * cg + c) * g.kw + k];
                    const int64_t off = k * g.dw - g.pw;  // input index = o + off
                    const int64_t lo = std::max(o0, -off), hi = std::min(o1, g.iw - off);
                    if (fused_leaky) {
                        for (int64_t o = lo; o < hi; ++o) {
                            const float v = xc[o + off];
                            ym[o] += wv * leaky(v, a);
                        }
                    } else {
                        for (int64_t o = lo; o < hi; ++o) ym[o] += wv * xc[o + off];
                    }
                }
            }
        }
    }
}

// 1-D, stride 1, one group: gemm with an implicit im2col. Output columns go in strips; a
// strip's input window (all channels, padding and the fused LeakyRelu applied) is copied once
// into a buffer the micro-kernel reads in place: row k = (c, kx) starts at c*stride + kx*dw.
// y[m * ow + o] = bias[m] + residual[m * ow + o] + conv (y is overwritten; bias and residual
// may be null).
// Strips whose halo (the kernel's reach past the strip) is longer than this, or whose
// buffer would exceed kMaxStripFloats (long dilated kernels, huge channel counts: a
// hostile model's, vocoders' halos are under 100), would cost more to fill than the gemm
// saves, and pin the memory: im2col rows instead.
constexpr int64_t kMaxStripHalo = 4096;
constexpr int64_t kMaxStripFloats = int64_t{1} << 22;

// The same result as conv1d_strips without its buffer: y = bias + residual, then the
// im2col gemm accumulated onto it (nothing to add when there is no input).
void conv1d_unbuffered(const float* x, const float* w, const float* bias, const float* residual, float* y, int64_t cg,
                       int64_t mg, const ConvGeometry& g, const float* leaky_alpha, ThreadPool* pool) {
    const int64_t n = g.ow, kg = cg * g.kw;
    for (int64_t m = 0; m < mg; ++m) {
        float* ym = y + m * n;
        const float b = bias ? bias[m] : 0.0f;
        if (residual) {
            for (int64_t o = 0; o < n; ++o) ym[o] = b + residual[m * n + o];
        } else {
            std::fill(ym, ym + n, b);
        }
    }
    if (kg == 0 || g.iw == 0) return;  // leaky(0) = 0: zero input adds nothing
    Im2colSource src(x, g, leaky_alpha);
    sgemm(mg, n, kg, GemmA{w, kg, 1}, src, y, n, true, pool);
}

void conv1d_strips(const float* x, const float* w, const float* bias, const float* residual, float* y, int64_t cg, int64_t mg,
                   const ConvGeometry& g, const float* leaky_alpha, ThreadPool* pool) {
    const int64_t kg = cg * g.kw, n = g.ow, halo = (g.kw - 1) * g.dw, nr = gemm_tile_cols();
    if (kg == 0 || g.iw == 0 || halo > kMaxStripHalo || cg * (512 + halo) > kMaxStripFloats) {
        conv1d_unbuffered(x, w, bias, residual, y, cg, mg, g, leaky_alpha, pool);
        return;
    }
    const int threads = pool ? pool->size() : 1;
    // Strips of up to 512 columns, fewer when that leaves a thread idle.
    const int64_t per_thread = (n + threads - 1) / threads;
    const int64_t strip = std::max<int64_t>(nr, std::min<int64_t>(512, (per_thread + nr - 1) / nr * nr));
    const int64_t stride = strip + halo, n_strips = (n + strip - 1) / strip;
    thread_local PackedA pa;
    pack_a_panels(GemmA{w, kg, 1}, mg, kg, pa);
    const PackedA& a = pa;
    std::vector<int64_t> koff(static_cast<size_t>(kg));
    for (int64_t c = 0; c < cg; ++c)
        for (int64_t kx = 0; kx < g.kw; ++kx) koff[static_cast<size_t>(c * g.kw + kx)] = c * stride + kx * g.dw;
    auto run = [&](int64_t s_begin, int64_t s_end) {
        thread_local std::vector<float> buf;
        buf.resize(static_cast<size_t>(cg * stride));
        for (int64_t si = s_begin; si < s_end; ++si) {
            const int64_t n0 = si * strip, cols = std::min(strip, n - n0);
            // Input index of buffer column t is n0 + t - pw; columns past the input are zero.
            const int64_t base = n0 - g.pw, len = (cols + nr - 1) / nr * nr + halo;
            const int64_t lo = std::clamp<int64_t>(-base, 0, len), hi = std::clamp<int64_t>(g.iw - base, lo, len);
            for (int64_t c = 0; c < cg; ++c) {
                float* __restrict d = buf.data() + c * stride;
                std::fill(d, d + lo, 0.0f);
                if (hi > lo) {
                    // Only an in-range pointer: x + c*iw + base alone may point before x.
                    const float* __restrict src = x + (c * g.iw + base + lo);
                    if (leaky_alpha) {
                        const float al = *leaky_alpha;
                        for (int64_t t = 0; t < hi - lo; ++t) d[lo + t] = leaky(src[t], al);
                    } else {
                        std::memcpy(d + lo, src, static_cast<size_t>(hi - lo) * sizeof(float));
                    }
                }
                std::fill(d + hi, d + len, 0.0f);
            }
            sgemm_offsets(a, buf.data(), koff.data(), cols, y + n0, n, bias, residual ? residual + n0 : nullptr);
        }
    };
    const bool parallel = threads > 1 && n_strips > 1 && mg * kg * n >= (int64_t{1} << 18);
    if (!parallel) {
        run(0, n_strips);
        return;
    }
    pool->run([&](int t, int nt) {
        int64_t s0, s1;
        ThreadPool::chunk(n_strips, t, nt, s0, s1);
        if (s0 < s1) run(s0, s1);
    });
}

// Reads kernel/stride/dilation/pads/auto_pad for 1 or 2 spatial dims into g.
Result<void> read_conv_attributes(OpContext& ctx, ConvGeometry& g, int spatial, bool transpose) {
    auto ints = [&](const char* key, int64_t fallback) {
        auto v = ctx.attr_ints(key);
        if (v.empty()) v.assign(static_cast<size_t>(spatial), fallback);
        return v;
    };
    const auto strides = ints("strides", 1), dil = ints("dilations", 1);
    const auto outpad = ints("output_padding", 0);
    auto pads = ctx.attr_ints("pads");
    if (pads.empty()) pads.assign(static_cast<size_t>(2 * spatial), 0);
    for (const std::vector<int64_t>* v : std::initializer_list<const std::vector<int64_t>*>{&strides, &dil, &outpad, &pads})
        for (int64_t e : *v)
            if (e > (int64_t{1} << 24) || e < -(int64_t{1} << 24)) return ctx.error("stride, dilation or padding out of range");
    if (static_cast<int>(strides.size()) != spatial || static_cast<int>(dil.size()) != spatial ||
        static_cast<int>(pads.size()) != 2 * spatial || static_cast<int>(outpad.size()) != spatial)
        return ctx.error("strides/dilations/pads do not match the spatial rank");
    if (spatial == 2) {
        g.sh = strides[0], g.sw = strides[1], g.dh = dil[0], g.dw = dil[1];
        g.ph = pads[0], g.pw = pads[1], g.ph_end = pads[2], g.pw_end = pads[3];
        g.oph = outpad[0], g.opw = outpad[1];
    } else {
        g.sw = strides[0], g.dw = dil[0], g.pw = pads[0], g.pw_end = pads[1], g.opw = outpad[0];
    }
    if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || g.ph < 0 || g.pw < 0 || g.ph_end < 0 || g.pw_end < 0)
        return ctx.error("bad strides, dilations or pads");
    const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t& begin, int64_t& end) {
            const int64_t out = transpose ? in * s : (in + s - 1) / s;
            const int64_t ek = (k - 1) * d + 1;
            const int64_t total = transpose ? std::max<int64_t>(0, s * (in - 1) + ek - out)
                                            : std::max<int64_t>(0, (out - 1) * s + ek - in);
            begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
            end = total - begin;
        };
        same(g.ih, g.kh, g.sh, g.dh, g.ph, g.ph_end);
        same(g.iw, g.kw, g.sw, g.dw, g.pw, g.pw_end);
    } else if (auto_pad == "VALID") {
        g.ph = g.pw = g.ph_end = g.pw_end = 0;
    } else if (auto_pad != "NOTSET") {
        return ctx.error("unsupported auto_pad " + auto_pad);
    }
    return {};
}

// Conv output y (allocated, non-empty) from x and w; residual, when given, has y's shape and
// is added (the strips path only).
void conv_forward(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor* residual,
                  const ConvGeometry& g, int spatial, Tensor& y) {
    const int64_t cg = g.in_ch / g.group, mg = g.out_ch / g.group;
    const int64_t kg = cg * g.kh * g.kw, npix = g.oh * g.ow;
    const float* px = x.data<float>();
    const float* pw = w.data<float>();
    float* py = y.data<float>();
    for (int64_t b = 0; b < g.batch; ++b) {
        float* yb = py + b * g.out_ch * npix;
        if (spatial == 1 && g.sw == 1 && mg > 2) {
            // conv1d_strips writes the bias itself.
            for (int64_t gi = 0; gi < g.group; ++gi)
                conv1d_strips(px + (b * g.in_ch + gi * cg) * g.iw, pw + gi * mg * kg, bias ? bias->data<float>() + gi * mg : nullptr,
                              residual ? residual->data<float>() + (b * g.out_ch + gi * mg) * npix : nullptr,
                              yb + gi * mg * npix, cg, mg, g, ctx.input_leaky_alpha,
                              g.group > 1 && mg * npix * kg < (1 << 16) ? nullptr : &ctx.pool);
            continue;
        }
        for (int64_t m = 0; m < g.out_ch; ++m) std::fill(yb + m * npix, yb + (m + 1) * npix, bias ? bias->data<float>()[m] : 0.0f);
        if (spatial == 1 && g.sw == 1) {
            auto run = [&](int64_t o_begin, int64_t o_end) {
                for (int64_t gi = 0; gi < g.group; ++gi)
                    conv1d_direct(px + (b * g.in_ch + gi * cg) * g.iw, pw + gi * mg * kg, yb + gi * mg * npix, cg, mg, g,
                                  ctx.input_leaky_alpha, o_begin, o_end);
            };
            if (ctx.pool.size() == 1 || g.out_ch * kg * npix < (1 << 18)) {
                run(0, npix);
            } else {
                ctx.pool.run([&](int t, int nt) {
                    int64_t o0, o1;
                    ThreadPool::chunk(npix, t, nt, o0, o1, 64);
                    if (o0 < o1) run(o0, o1);
                });
            }
            continue;
        }
        for (int64_t gi = 0; gi < g.group; ++gi) {
            const float* xg = px + (b * g.in_ch + gi * cg) * g.ih * g.iw;
            Im2colSource src(xg, g, ctx.input_leaky_alpha);
            sgemm(mg, npix, kg, GemmA{pw + gi * mg * kg, kg, 1}, src, yb + gi * mg * npix, npix, true,
                  g.group > 1 && mg * npix * kg < (1 << 16) ? nullptr : &ctx.pool);
        }
    }
}

// y + r with numpy broadcasting: a fused Add (see plan.cpp) that the gemm could not absorb.
Result<Tensor> add_residual(OpContext& ctx, Tensor y, const Tensor& r) {
    if (r.dtype != DataType::Float) return ctx.error("the fused Add needs a float operand");
    auto shape = broadcast_shapes(y.shape, r.shape);
    if (!shape) return ctx.error(shape.error().message);
    if (auto chk = check_shape_size(*shape); !chk) return ctx.error(chk.error().message);
    Tensor z = make_tensor(DataType::Float, *shape);
    const BroadcastPlan plan = plan_broadcast(*shape, {y.shape, r.shape});
    std::vector<int64_t> off;
    for (int64_t run = 0; run < plan.outer && z.numel() > 0; ++run) {
        broadcast_offsets(plan, run, off);
        const float* a = y.data<float>() + off[0];
        const float* b = r.data<float>() + off[1];
        float* out = z.data<float>() + run * plan.inner;
        for (int64_t i = 0; i < plan.inner; ++i) out[i] = a[i * plan.inner_step[0]] + b[i * plan.inner_step[1]];
    }
    return z;
}

Result<void> op_conv(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* w = ctx.input(1);
    const Tensor* bias = ctx.input(2);
    if (!x || !w) return ctx.error("needs X and W");
    if (x->dtype != DataType::Float || w->dtype != DataType::Float) return ctx.error("needs float inputs");
    const int spatial = static_cast<int>(x->shape.size()) - 2;
    if (spatial < 1 || spatial > 2) return ctx.error(fmt::format("only 1-D and 2-D convolutions, got input {}", shape_string(x->shape)));
    if (w->shape.size() != x->shape.size()) return ctx.error("W rank differs from X rank");
    ConvGeometry g;
    g.batch = x->shape[0], g.in_ch = x->shape[1], g.out_ch = w->shape[0];
    g.group = ctx.attr_int("group", 1);
    if (spatial == 2) g.ih = x->shape[2], g.iw = x->shape[3], g.kh = w->shape[2], g.kw = w->shape[3];
    else g.iw = x->shape[2], g.kw = w->shape[2];
    // group <= channels: with no input channels any group divides, and the group loop would spin.
    if (g.group < 1 || g.group > std::max<int64_t>(g.in_ch, 1) || g.in_ch % g.group != 0 || g.out_ch % g.group != 0 ||
        w->shape[1] != g.in_ch / g.group)
        return ctx.error(fmt::format("X {} and W {} do not fit group {}", shape_string(x->shape), shape_string(w->shape), g.group));
    if (auto r = read_conv_attributes(ctx, g, spatial, false); !r) return r;
    g.oh = (g.ih + g.ph + g.ph_end - ((g.kh - 1) * g.dh + 1)) / g.sh + 1;
    g.ow = (g.iw + g.pw + g.pw_end - ((g.kw - 1) * g.dw + 1)) / g.sw + 1;
    if (g.oh < 1 || g.ow < 1) return ctx.error("kernel larger than the padded input");
    if (auto chk = check_shape_size(std::vector<int64_t>{g.batch, g.out_ch, g.oh, g.ow}); !chk) return ctx.error(chk.error().message);
    if (auto chk = check_shape_size(std::vector<int64_t>{g.in_ch, g.kh, g.kw, g.dh, g.dw}); !chk) return ctx.error(chk.error().message);
    if (bias && (bias->dtype != DataType::Float || bias->numel() != g.out_ch)) return ctx.error("B must have one value per output channel");
    const int64_t cg = g.in_ch / g.group, mg = g.out_ch / g.group;
    const int64_t kg = cg * g.kh * g.kw, npix = g.oh * g.ow;
    // Both factors are within the element limit (checked above), so the product fits.
    if (auto work = charge_work(g.batch * g.out_ch * npix * kg); !work) return ctx.error(work.error().message);
    std::vector<int64_t> shape{g.batch, g.out_ch};
    if (spatial == 2) shape.push_back(g.oh);
    shape.push_back(g.ow);
    Tensor y = make_tensor(DataType::Float, shape);
    // A fused Add of the same shape is done in the gemm's output tile where the path allows.
    const Tensor* res = ctx.residual;
    const bool strips = spatial == 1 && g.sw == 1 && mg > 2;
    const bool res_inline = strips && res && res->dtype == DataType::Float && res->shape == y.shape;
    if (y.numel() > 0) conv_forward(ctx, *x, *w, bias, res_inline ? res : nullptr, g, spatial, y);
    if (res && !res_inline) {
        auto sum = add_residual(ctx, std::move(y), *res);
        if (!sum) return sum.error();
        y = std::move(*sum);
    }
    ctx.out[0] = std::move(y);
    return {};
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// 1-D ConvTranspose without dilation, split by output phase r = (o + pad) mod stride: each
// phase is an ordinary convolution of x with the taps k = r + stride*m (flipped), so it runs
// on the im2col gemm with no multiplications by inserted zeros and no scatter-add.
void conv_transpose_1d_polyphase(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, const ConvGeometry& g,
                                 Tensor& y) {
    const int64_t cg = g.in_ch / g.group, mg = g.out_ch / g.group;
    const int64_t s = g.sw, K = g.kw, L = g.iw, lout = g.ow, p = g.pw;
    std::vector<float> wr, yr;
    for (int64_t b = 0; b < g.batch; ++b)
        for (int64_t gi = 0; gi < g.group; ++gi) {
            const float* xg = x.data<float>() + (b * g.in_ch + gi * cg) * L;
            float* yg = y.data<float>() + (b * g.out_ch + gi * mg) * lout;
            for (int64_t r = 0; r < s; ++r) {
                const int64_t taps = r < K ? (K - r + s - 1) / s : 0;
                const int64_t q0 = ceil_div(p - r, s), q1 = ceil_div(lout + p - r, s);
                if (q1 <= q0) continue;
                const int64_t nq = q1 - q0;
                if (taps == 0) yr.assign(static_cast<size_t>(mg * nq), 0.0f);
                else yr.resize(static_cast<size_t>(mg * nq));
                if (taps > 0) {
                    // wr[co, ci, j] = W[gi*cg + ci, co, r + s*(taps-1-j)]
                    wr.resize(static_cast<size_t>(mg * cg * taps));
                    for (int64_t co = 0; co < mg; ++co)
                        for (int64_t ci = 0; ci < cg; ++ci)
                            for (int64_t j = 0; j < taps; ++j)
                                wr[static_cast<size_t>((co * cg + ci) * taps + j)] =
                                    w.data<float>()[((gi * cg + ci) * mg + co) * K + r + s * (taps - 1 - j)];
                    ConvGeometry pg;
                    pg.in_ch = cg, pg.iw = L, pg.kw = taps, pg.ow = nq, pg.pw = taps - 1 - q0;
                    conv1d_strips(xg, wr.data(), nullptr, nullptr, yr.data(), cg, mg, pg, ctx.input_leaky_alpha, &ctx.pool);
                }
                for (int64_t co = 0; co < mg; ++co) {
                    const float bv = bias ? bias->data<float>()[gi * mg + co] : 0.0f;
                    const float* src = yr.data() + co * nq;
                    float* dst = yg + co * lout + (q0 * s + r - p);
                    for (int64_t q = 0; q < nq; ++q) dst[q * s] = src[q] + bv;
                }
            }
        }
}

Result<void> op_conv_transpose(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* w = ctx.input(1);
    const Tensor* bias = ctx.input(2);
    if (!x || !w) return ctx.error("needs X and W");
    if (x->dtype != DataType::Float || w->dtype != DataType::Float) return ctx.error("needs float inputs");
    const int spatial = static_cast<int>(x->shape.size()) - 2;
    if (spatial < 1 || spatial > 2) return ctx.error(fmt::format("only 1-D and 2-D, got input {}", shape_string(x->shape)));
    if (w->shape.size() != x->shape.size()) return ctx.error("W rank differs from X rank");
    ConvGeometry g;
    g.batch = x->shape[0], g.in_ch = x->shape[1];
    g.group = ctx.attr_int("group", 1);
    if (g.group < 1 || g.group > std::max<int64_t>(g.in_ch, 1) || g.in_ch % g.group != 0 || w->shape[0] != g.in_ch)
        return ctx.error("W does not fit X and group");
    g.out_ch = w->shape[1] * g.group;  // both at most the element limit: no overflow
    if (spatial == 2) g.ih = x->shape[2], g.iw = x->shape[3], g.kh = w->shape[2], g.kw = w->shape[3];
    else g.iw = x->shape[2], g.kw = w->shape[2];
    if (auto r = read_conv_attributes(ctx, g, spatial, true); !r) return r;
    const auto out_shape_attr = ctx.attr_ints("output_shape");
    auto out_len = [](int64_t in, int64_t s, int64_t k, int64_t d, int64_t op, int64_t pb, int64_t pe) {
        return s * (in - 1) + op + (k - 1) * d + 1 - pb - pe;
    };
    g.oh = out_len(g.ih, g.sh, g.kh, g.dh, g.oph, g.ph, g.ph_end);
    g.ow = out_len(g.iw, g.sw, g.kw, g.dw, g.opw, g.pw, g.pw_end);
    if (!out_shape_attr.empty()) {
        // Explicit output shape: derive the padding (split as SAME_UPPER does).
        const int64_t want_w = out_shape_attr.back();
        const int64_t total_w = g.sw * (g.iw - 1) + g.opw + (g.kw - 1) * g.dw + 1 - want_w;
        g.pw = total_w / 2;
        g.ow = want_w;
        if (spatial == 2 && out_shape_attr.size() >= 2) {
            const int64_t want_h = out_shape_attr[out_shape_attr.size() - 2];
            const int64_t total_h = g.sh * (g.ih - 1) + g.oph + (g.kh - 1) * g.dh + 1 - want_h;
            g.ph = total_h / 2;
            g.oh = want_h;
        }
    }
    if (g.oh < 1 || g.ow < 1) return ctx.error("empty output");
    if (auto chk = check_shape_size(std::vector<int64_t>{g.batch, g.out_ch, g.oh, g.ow}); !chk) return ctx.error(chk.error().message);
    if (auto chk = check_shape_size(std::vector<int64_t>{g.out_ch, g.kh, g.kw, g.iw}); !chk) return ctx.error(chk.error().message);
    if (bias && (bias->dtype != DataType::Float || bias->numel() != g.out_ch)) return ctx.error("B must have one value per output channel");
    // Every input element meets every weight of its group (W's dims 1..3): X's and W's element
    // counts are each within the element limit, so the product fits.
    if (auto work = charge_work(x->numel() * shape_numel(std::span<const int64_t>(w->shape).subspan(1))); !work)
        return ctx.error(work.error().message);
    std::vector<int64_t> shape{g.batch, g.out_ch};
    if (spatial == 2) shape.push_back(g.oh);
    shape.push_back(g.ow);
    Tensor y = make_tensor(DataType::Float, shape);
    if (y.numel() == 0) {
        ctx.out[0] = std::move(y);
        return {};
    }
    const int64_t cg = g.in_ch / g.group, mg = g.out_ch / g.group;
    if (spatial == 1 && g.dw == 1) {
        conv_transpose_1d_polyphase(ctx, *x, *w, bias, g, y);
        ctx.out[0] = std::move(y);
        return {};
    }
    // A fused LeakyRelu (see plan.cpp) on this general path: apply it to a copy of X.
    Tensor x_leaky;
    if (ctx.input_leaky_alpha) {
        x_leaky = make_tensor(DataType::Float, x->shape);
        const float al = *ctx.input_leaky_alpha;
        for (int64_t i = 0; i < x->numel(); ++i) x_leaky.data<float>()[i] = leaky(x->data<float>()[i], al);
        x = &x_leaky;
    }
    const int64_t kk = g.kh * g.kw, rows = mg * kk;  // rows of the column matrix per group
    const int64_t npix_in = g.ih * g.iw, npix_out = g.oh * g.ow;
    // Columns per pass, so the column matrix stays around 16 MB.
    const int64_t chunk_rows_in = std::max<int64_t>(1, (int64_t{4} << 20) / std::max<int64_t>(rows * g.iw, 1));
    std::vector<float> cols;
    float* py = y.data<float>();
    for (int64_t b = 0; b < g.batch; ++b) {
        float* yb = py + b * g.out_ch * npix_out;
        for (int64_t m = 0; m < g.out_ch; ++m)
            std::fill(yb + m * npix_out, yb + (m + 1) * npix_out, bias ? bias->data<float>()[m] : 0.0f);
        for (int64_t gi = 0; gi < g.group; ++gi) {
            const float* xg = x->data<float>() + (b * g.in_ch + gi * cg) * npix_in;
            // A(m = (co, ky, kx), k = ci) = W[gi*cg + ci, co, ky, kx]
            const GemmA a{w->data<float>() + gi * cg * rows, 1, rows};
            for (int64_t y0 = 0; y0 < g.ih; y0 += chunk_rows_in) {
                const int64_t yr = std::min(chunk_rows_in, g.ih - y0);
                const int64_t ncols = yr * g.iw;
                cols.resize(static_cast<size_t>(rows * ncols));
                sgemm(rows, ncols, cg, a, StridedSource(xg + y0 * g.iw, npix_in, 1), cols.data(), ncols, false, &ctx.pool);
                // col2im: scatter-add each column-matrix row into its output channel.
                auto scatter = [&](int64_t co_begin, int64_t co_end) {
                    for (int64_t co = co_begin; co < co_end; ++co) {
                        float* yc = yb + (gi * mg + co) * npix_out;
                        for (int64_t ky = 0; ky < g.kh; ++ky)
                            for (int64_t kx = 0; kx < g.kw; ++kx) {
                                const float* c = cols.data() + ((co * g.kh + ky) * g.kw + kx) * ncols;
                                for (int64_t iy = 0; iy < yr; ++iy) {
                                    const int64_t oy = (y0 + iy) * g.sh - g.ph + ky * g.dh;
                                    if (oy < 0 || oy >= g.oh) continue;
                                    float* yrow = yc + oy * g.ow;
                                    const float* crow = c + iy * g.iw;
                                    const int64_t off = kx * g.dw - g.pw;
                                    // ox = ix * sw + off must lie in [0, ow)
                                    int64_t ix0 = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
                                    int64_t ix1 = std::min(g.iw, (g.ow - 1 - off) >= 0 ? (g.ow - 1 - off) / g.sw + 1 : 0);
                                    if (g.sw == 1) {
                                        for (int64_t ix = ix0; ix < ix1; ++ix) yrow[ix + off] += crow[ix];
                                    } else {
                                        for (int64_t ix = ix0; ix < ix1; ++ix) yrow[ix * g.sw + off] += crow[ix];
                                    }
                                }
                            }
                    }
                };
                if (mg * kk * ncols < (1 << 16) || ctx.pool.size() == 1) {
                    scatter(0, mg);
                } else {
                    ctx.pool.run([&](int t, int nt) {
                        int64_t c0, c1;
                        ThreadPool::chunk(mg, t, nt, c0, c1);
                        if (c0 < c1) scatter(c0, c1);
                    });
                }
            }
        }
    }
    ctx.out[0] = std::move(y);
    return {};
}

template <bool IsMax>
Result<void> global_pool(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x || x->dtype != DataType::Float || x->shape.size() < 2) return ctx.error("needs a float input of rank >= 2");
    std::vector<int64_t> shape = x->shape;
    int64_t n = 1;
    for (size_t d = 2; d < shape.size(); ++d) {
        n *= shape[d];
        shape[d] = 1;
    }
    Tensor y = make_tensor(DataType::Float, shape);
    const int64_t rows = shape[0] * shape[1];
    for (int64_t r = 0; r < rows; ++r) {
        const float* p = x->data<float>() + r * n;
        double acc = IsMax ? -std::numeric_limits<double>::infinity() : 0.0;
        for (int64_t i = 0; i < n; ++i) acc = IsMax ? std::max<double>(acc, p[i]) : acc + p[i];
        y.data<float>()[r] = static_cast<float>(IsMax ? acc : (n ? acc / static_cast<double>(n) : 0.0));
    }
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_layer_norm(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    const Tensor* scale = ctx.input(1);
    const Tensor* bias = ctx.input(2);
    if (!x || !scale || x->dtype != DataType::Float || scale->dtype != DataType::Float) return ctx.error("needs float X and Scale");
    if (bias && bias->dtype != DataType::Float) return ctx.error("B must be float");
    for (size_t k = 1; k < ctx.node.outputs.size(); ++k)
        if (!ctx.node.outputs[k].empty()) return ctx.error("the Mean and InvStdDev outputs are not supported");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    auto axis = normalize_axis(ctx.attr_int("axis", -1), rank);
    if (!axis) return ctx.error(axis.error().message);
    const float eps = ctx.attr_float("epsilon", 1e-5f);
    int64_t n = 1;
    for (int64_t d = *axis; d < rank; ++d) n *= x->shape[static_cast<size_t>(d)];
    if (scale->numel() != n || (bias && bias->numel() != n)) return ctx.error("Scale/B must cover the normalized axes");
    const int64_t rows = n ? x->numel() / n : 0;
    Tensor y = make_tensor(DataType::Float, x->shape);
    for (int64_t r = 0; r < rows; ++r) {
        const float* p = x->data<float>() + r * n;
        float* q = y.data<float>() + r * n;
        double mean = 0, var = 0;
        for (int64_t i = 0; i < n; ++i) mean += p[i];
        mean /= static_cast<double>(n);
        for (int64_t i = 0; i < n; ++i) var += (p[i] - mean) * (p[i] - mean);
        const float inv = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(n) + eps));
        for (int64_t i = 0; i < n; ++i)
            q[i] = static_cast<float>(p[i] - mean) * inv * scale->data<float>()[i] + (bias ? bias->data<float>()[i] : 0.0f);
    }
    ctx.out[0] = std::move(y);
    return {};
}

}  // namespace

void register_nn_ops(OpTable& t) {
    add(t, "Conv", op_conv);
    add(t, "ConvTranspose", op_conv_transpose);
    add(t, "GlobalAveragePool", global_pool<false>);
    add(t, "GlobalMaxPool", global_pool<true>);
    add(t, "LayerNormalization", op_layer_norm);
}

}  // namespace hearth::onnx
