// Element-wise operators: arithmetic and comparisons with numpy broadcasting, unary math,
// activations, Where, Cast and the variadic Max/Min/Sum/Mean.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <type_traits>

#include "base/half.h"
#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

constexpr int64_t kParallelThreshold = 1 << 15;

// Runs body(begin, end) over [0, n), on all threads when n is large.
template <class Body>
void parallel_for(ThreadPool& pool, int64_t n, Body&& body) {
    if (n < kParallelThreshold || pool.size() == 1) {
        body(int64_t{0}, n);
        return;
    }
    pool.run([&](int t, int nt) {
        int64_t b, e;
        ThreadPool::chunk(n, t, nt, b, e, 64);
        if (b < e) body(b, e);
    });
}

// y = op(a, b) with broadcasting, where A/B are input element types and R the result type.
template <class A, class B, class R, class Op>
Result<void> binary(OpContext& ctx, const Tensor& a, const Tensor& b, DataType out_type, Op op) {
    auto shape = broadcast_shapes(a.shape, b.shape);
    if (!shape) return ctx.error(shape.error().message);
    const BroadcastPlan plan = plan_broadcast(*shape, {a.shape, b.shape});
    const A* pa = a.data<A>();
    const B* pb = b.data<B>();
    Tensor y = sizeof(R) == sizeof(A) || sizeof(R) == sizeof(B) ? ctx.output_like(out_type, *shape) : make_tensor(out_type, *shape);
    R* py = y.data<R>();
    const int64_t inner = plan.inner;
    const int64_t sa = plan.inner_step[0], sb = plan.inner_step[1];
    auto run_range = [&](int64_t run, const std::vector<int64_t>& off, int64_t i0, int64_t i1) {
        const A* xa = pa + off[0];
        const B* xb = pb + off[1];
        R* out = py + run * inner;
        if (sa == 1 && sb == 1) {
            for (int64_t i = i0; i < i1; ++i) out[i] = op(xa[i], xb[i]);
        } else if (sa == 1) {
            const B vb = xb[0];
            for (int64_t i = i0; i < i1; ++i) out[i] = op(xa[i], vb);
        } else if (sb == 1) {
            const A va = xa[0];
            for (int64_t i = i0; i < i1; ++i) out[i] = op(va, xb[i]);
        } else {
            for (int64_t i = i0; i < i1; ++i) out[i] = op(xa[0], xb[0]);
        }
    };
    if (plan.outer == 1) {
        std::vector<int64_t> off{0, 0};
        parallel_for(ctx.pool, inner, [&](int64_t b0, int64_t e0) { run_range(0, off, b0, e0); });
    } else if (plan.outer > 1) {
        const int64_t n = y.numel();
        auto body = [&](int64_t r0, int64_t r1) {
            std::vector<int64_t> off;
            for (int64_t r = r0; r < r1; ++r) {
                broadcast_offsets(plan, r, off);
                run_range(r, off, 0, inner);
            }
        };
        if (n < kParallelThreshold || ctx.pool.size() == 1) body(0, plan.outer);
        else
            ctx.pool.run([&](int t, int nt) {
                int64_t b0, e0;
                ThreadPool::chunk(plan.outer, t, nt, b0, e0);
                if (b0 < e0) body(b0, e0);
            });
    }
    ctx.out[0] = std::move(y);
    return {};
}

enum class Arith { Add, Sub, Mul, Div, Pow, Mod, Max, Min };

// Integer +, - and * wrap around (in unsigned arithmetic): signed overflow is undefined.
template <class T>
T wrap_add(T x, T y) {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<std::make_unsigned_t<T>>(x) + static_cast<std::make_unsigned_t<T>>(y));
    else return x + y;
}
template <class T>
T wrap_sub(T x, T y) {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<std::make_unsigned_t<T>>(x) - static_cast<std::make_unsigned_t<T>>(y));
    else return x - y;
}
template <class T>
T wrap_mul(T x, T y) {
    // uint32 * uint32 of narrower types would promote to (signed) int: widen to uint64 first.
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<uint64_t>(x) * static_cast<uint64_t>(y));
    else return x * y;
}

template <class T>
T arith_apply(Arith k, T x, T y, bool fmod_mode) {
    switch (k) {
        case Arith::Add: return wrap_add(x, y);
        case Arith::Sub: return wrap_sub(x, y);
        case Arith::Mul: return wrap_mul(x, y);
        case Arith::Div:
            // y == -1 is spelled as a negation: INT_MIN / -1 traps on x86.
            if constexpr (std::is_integral_v<T>) return y == 0 ? T{0} : y == T(-1) ? wrap_sub(T{0}, x) : static_cast<T>(x / y);
            else return x / y;
        case Arith::Max: return x > y ? x : y;
        case Arith::Min: return x < y ? x : y;
        case Arith::Mod:
            if constexpr (std::is_integral_v<T>) {
                if (y == 0 || y == T(-1)) return 0;
                T r = static_cast<T>(x % y);
                if (!fmod_mode && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
                return r;
            } else {
                T r = std::fmod(x, y);
                if (!fmod_mode && r != 0 && ((r < 0) != (y < 0))) r += y;
                return r;
            }
        case Arith::Pow: return saturate_cast<T>(std::pow(static_cast<double>(x), static_cast<double>(y)));
    }
    return T{};
}

template <Arith K>
Result<void> arith_op(OpContext& ctx) {
    const Tensor* a = ctx.input(0);
    const Tensor* b = ctx.input(1);
    if (!a || !b) return ctx.error("needs two inputs");
    const bool fmod_mode = ctx.attr_int("fmod", 0) != 0;
    if constexpr (K == Arith::Pow) {
        // The exponent may have another type than the base; the result has the base's type.
        if (a->dtype == DataType::Float && b->dtype == DataType::Float)
            return binary<float, float, float>(ctx, *a, *b, DataType::Float, [](float x, float y) {
                if (y == 2.0f) return x * x;
                if (y == 0.5f) return std::sqrt(x);
                if (y == 1.0f) return x;
                return std::pow(x, y);
            });
        Result<void> r = ctx.error(fmt::format("unsupported types {} ^ {}", data_type_name(a->dtype), data_type_name(b->dtype)));
        dispatch_numeric(a->dtype, [&](auto ta) {
            using A = decltype(ta);
            dispatch_numeric(b->dtype, [&](auto tb) {
                using B = decltype(tb);
                r = binary<A, B, A>(ctx, *a, *b, a->dtype, [](A x, B y) {
                    return saturate_cast<A>(std::pow(static_cast<double>(x), static_cast<double>(y)));
                });
            });
        });
        return r;
    }
    if (a->dtype != b->dtype)
        return ctx.error(fmt::format("input types differ: {} and {}", data_type_name(a->dtype), data_type_name(b->dtype)));
    Result<void> r = ctx.error(fmt::format("unsupported type {}", data_type_name(a->dtype)));
    if (a->dtype == DataType::Float) {
        switch (K) {
            case Arith::Add: return binary<float, float, float>(ctx, *a, *b, a->dtype, [](float x, float y) { return x + y; });
            case Arith::Sub: return binary<float, float, float>(ctx, *a, *b, a->dtype, [](float x, float y) { return x - y; });
            case Arith::Mul: return binary<float, float, float>(ctx, *a, *b, a->dtype, [](float x, float y) { return x * y; });
            case Arith::Div: return binary<float, float, float>(ctx, *a, *b, a->dtype, [](float x, float y) { return x / y; });
            default: break;
        }
    }
    dispatch_numeric(a->dtype, [&](auto tag) {
        using T = decltype(tag);
        r = binary<T, T, T>(ctx, *a, *b, a->dtype, [fmod_mode](T x, T y) { return arith_apply<T>(K, x, y, fmod_mode); });
    });
    return r;
}

enum class Cmp { Equal, Less, Greater, LessOrEqual, GreaterOrEqual };

template <Cmp K>
Result<void> compare_op(OpContext& ctx) {
    const Tensor* a = ctx.input(0);
    const Tensor* b = ctx.input(1);
    if (!a || !b) return ctx.error("needs two inputs");
    if (a->dtype != b->dtype)
        return ctx.error(fmt::format("input types differ: {} and {}", data_type_name(a->dtype), data_type_name(b->dtype)));
    Result<void> r = ctx.error(fmt::format("unsupported type {}", data_type_name(a->dtype)));
    dispatch_numeric(a->dtype, [&](auto tag) {
        using T = decltype(tag);
        r = binary<T, T, uint8_t>(ctx, *a, *b, DataType::Bool, [](T x, T y) -> uint8_t {
            switch (K) {
                case Cmp::Equal: return x == y;
                case Cmp::Less: return x < y;
                case Cmp::Greater: return x > y;
                case Cmp::LessOrEqual: return x <= y;
                case Cmp::GreaterOrEqual: return x >= y;
            }
            return 0;
        });
    });
    return r;
}

enum class Logic { And, Or, Xor };

template <Logic K>
Result<void> logic_op(OpContext& ctx) {
    const Tensor* a = ctx.input(0);
    const Tensor* b = ctx.input(1);
    if (!a || !b) return ctx.error("needs two inputs");
    if (a->dtype != DataType::Bool || b->dtype != DataType::Bool) return ctx.error("inputs must be bool");
    return binary<uint8_t, uint8_t, uint8_t>(ctx, *a, *b, DataType::Bool, [](uint8_t x, uint8_t y) -> uint8_t {
        if (K == Logic::And) return (x && y) ? 1 : 0;
        if (K == Logic::Or) return (x || y) ? 1 : 0;
        return ((x != 0) != (y != 0)) ? 1 : 0;
    });
}

Result<void> op_not(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x || x->dtype != DataType::Bool) return ctx.error("input must be bool");
    Tensor y = make_tensor(DataType::Bool, x->shape);
    for (int64_t i = 0; i < x->numel(); ++i) y.data<uint8_t>()[i] = x->data<uint8_t>()[i] ? 0 : 1;
    ctx.out[0] = std::move(y);
    return {};
}

// Float unary ops; integer inputs are accepted by the ops where ONNX allows them (Neg, Abs).
enum class Unary { Neg, Abs, Sqrt, Exp, Log, Erf, Tanh, Sigmoid, Relu, Softplus, Ceil, Floor, Round, Reciprocal, Sin, Cos, Sign };

// c ? a : b through bit masks: with trapping math on, GCC will not turn a float ?: into a
// vector blend, so the loop would stay scalar.
inline float select(bool c, float a, float b) {
    const uint32_t m = 0u - static_cast<uint32_t>(c);
    return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & m) | (std::bit_cast<uint32_t>(b) & ~m));
}

// exp(v), v clamped to [-87.3, 88]: round v/ln2 to n, reduce with ln2 split in two parts,
// degree-7 Taylor polynomial on |r| <= ln2/2 (error ~5e-9), scale by 2^n through the
// exponent bits. Branch-free and without libm calls so the loops calling it vectorize.
inline float exp_poly(float v) {
    v = select(v < -87.3f, -87.3f, select(v > 88.0f, 88.0f, v));
    constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const float shifted = v * 1.44269504f + kRound;
    const float n = shifted - kRound;
    const int32_t ni = std::bit_cast<int32_t>(shifted) - std::bit_cast<int32_t>(kRound);
    const float r = (v - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * std::bit_cast<float>((ni + 127) << 23);
}

// tanh: odd Taylor series below 0.25 (where (1-t)/(1+t) would cancel), else from exp(-2|x|).
inline float tanh_poly(float x) {
    const float a = std::fabs(x), a2 = a * a;
    const float t = exp_poly(-2.0f * a);
    const float big = (1.0f - t) / (1.0f + t);
    float q = -1382.0f / 155925;
    q = q * a2 + 62.0f / 2835;
    q = q * a2 - 17.0f / 315;
    q = q * a2 + 2.0f / 15;
    q = q * a2 - 1.0f / 3;
    const float small = a + a * a2 * q;
    return std::copysign(select(a < 0.25f, small, big), x);
}

// 1/(1+e^-x), written with t = e^-|x| so neither side overflows.
inline float sigmoid_poly(float x) {
    const float t = exp_poly(-std::fabs(x));
    const float s = 1.0f / (1.0f + t);
    // Below exp's clamp the true value is a denormal or 0 (and 0 for -inf).
    return select(x >= 0, s, select(x < -87.3f, 0.0f, t * s));
}

template <Unary K>
float unary_apply(float x) {
    switch (K) {
        case Unary::Neg: return -x;
        case Unary::Abs: return std::fabs(x);
        case Unary::Sqrt: return std::sqrt(x);
        case Unary::Exp: return std::exp(x);
        case Unary::Log: return std::log(x);
        case Unary::Erf: return std::erf(x);
        case Unary::Tanh: return tanh_poly(x);
        case Unary::Sigmoid: return sigmoid_poly(x);
        case Unary::Relu: return x > 0 ? x : 0.0f;
        case Unary::Softplus: return x > 20.0f ? x : std::log1p(std::exp(x));
        case Unary::Ceil: return std::ceil(x);
        case Unary::Floor: return std::floor(x);
        case Unary::Round: return std::nearbyint(x);  // half to even, as ONNX specifies
        case Unary::Reciprocal: return 1.0f / x;
        case Unary::Sin: return std::sin(x);
        case Unary::Cos: return std::cos(x);
        case Unary::Sign: return static_cast<float>((x > 0) - (x < 0));
    }
    return x;
}

template <Unary K>
Result<void> unary_op(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    const int64_t n = x->numel();
    const std::vector<int64_t> shape = x->shape;
    const DataType dtype = x->dtype;
    Tensor y;
    if (x->dtype == DataType::Float) {
        const float* px = x->data<float>();
        y = ctx.output_like(dtype, shape);
        float* py = y.data<float>();
        parallel_for(ctx.pool, n, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) py[i] = unary_apply<K>(px[i]);
        });
    } else if (x->dtype == DataType::Double || x->dtype == DataType::Int64 || x->dtype == DataType::Int32 ||
               x->dtype == DataType::Int8) {
        if (K != Unary::Neg && K != Unary::Abs && K != Unary::Sign && K != Unary::Relu && K != Unary::Sqrt &&
            K != Unary::Exp && K != Unary::Log && K != Unary::Ceil && K != Unary::Floor)
            return ctx.error(fmt::format("unsupported type {}", data_type_name(x->dtype)));
        y = make_tensor(dtype, shape);
        dispatch_numeric(x->dtype, [&](auto tag) {
            using T = decltype(tag);
            for (int64_t i = 0; i < n; ++i) {
                const T v = x->data<T>()[i];
                T r;
                switch (K) {
                    case Unary::Neg:
                        if constexpr (std::is_integral_v<T>) r = wrap_sub(T{0}, v);
                        else r = -v;
                        break;
                    case Unary::Abs: r = v < 0 ? wrap_sub(T{0}, v) : v; break;
                    case Unary::Sign: r = static_cast<T>((v > 0) - (v < 0)); break;
                    case Unary::Relu: r = v > 0 ? v : T{0}; break;
                    case Unary::Sqrt: r = saturate_cast<T>(std::sqrt(static_cast<double>(v))); break;
                    case Unary::Exp: r = saturate_cast<T>(std::exp(static_cast<double>(v))); break;
                    case Unary::Log: r = saturate_cast<T>(std::log(static_cast<double>(v))); break;
                    case Unary::Ceil: r = saturate_cast<T>(std::ceil(static_cast<double>(v))); break;
                    default: r = saturate_cast<T>(std::floor(static_cast<double>(v))); break;
                }
                y.data<T>()[i] = r;
            }
        });
    } else {
        return ctx.error(fmt::format("unsupported type {}", data_type_name(x->dtype)));
    }
    ctx.out[0] = std::move(y);
    return {};
}

// Float activations with attributes.
Result<void> float_map(OpContext& ctx, auto fn) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    if (x->dtype != DataType::Float) return ctx.error(fmt::format("unsupported type {}", data_type_name(x->dtype)));
    const float* px = x->data<float>();
    const int64_t n = x->numel();
    Tensor y = ctx.output_like(x->dtype, x->shape);
    float* py = y.data<float>();
    parallel_for(ctx.pool, n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) py[i] = fn(px[i]);
    });
    ctx.out[0] = std::move(y);
    return {};
}

Result<void> op_leaky_relu(OpContext& ctx) {
    const float alpha = ctx.attr_float("alpha", 0.01f);
    return float_map(ctx, [alpha](float x) { return x >= 0 ? x : alpha * x; });
}

Result<void> op_elu(OpContext& ctx) {
    const float alpha = ctx.attr_float("alpha", 1.0f);
    return float_map(ctx, [alpha](float x) { return x >= 0 ? x : alpha * (std::exp(x) - 1.0f); });
}

Result<void> op_hard_sigmoid(OpContext& ctx) {
    const float alpha = ctx.attr_float("alpha", 0.2f), beta = ctx.attr_float("beta", 0.5f);
    return float_map(ctx, [=](float x) { return std::clamp(alpha * x + beta, 0.0f, 1.0f); });
}

Result<void> op_clip(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    Result<void> r = ctx.error(fmt::format("unsupported type {}", data_type_name(x->dtype)));
    dispatch_numeric(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
        if (ctx.has_attr("min")) lo = saturate_cast<T>(ctx.attr_float("min", 0));
        if (ctx.has_attr("max")) hi = saturate_cast<T>(ctx.attr_float("max", 0));
        if (const Tensor* t = ctx.input(1); t && t->numel() == 1) lo = saturate_cast<T>(read_scalar(*t));
        if (const Tensor* t = ctx.input(2); t && t->numel() == 1) hi = saturate_cast<T>(read_scalar(*t));
        Tensor y = make_tensor(x->dtype, x->shape);
        for (int64_t i = 0; i < x->numel(); ++i) {
            const T v = x->data<T>()[i];
            y.data<T>()[i] = v < lo ? lo : (v > hi ? hi : v);
        }
        ctx.out[0] = std::move(y);
        r = {};
    });
    return r;
}

Result<void> op_where(OpContext& ctx) {
    const Tensor* c = ctx.input(0);
    const Tensor* a = ctx.input(1);
    const Tensor* b = ctx.input(2);
    if (!c || !a || !b) return ctx.error("needs three inputs");
    if (c->dtype != DataType::Bool) return ctx.error("condition must be bool");
    if (a->dtype != b->dtype) return ctx.error("X and Y types differ");
    auto s1 = broadcast_shapes(c->shape, a->shape);
    if (!s1) return ctx.error(s1.error().message);
    auto s2 = broadcast_shapes(*s1, b->shape);
    if (!s2) return ctx.error(s2.error().message);
    Tensor y = make_tensor(a->dtype, *s2);
    const BroadcastPlan plan = plan_broadcast(y.shape, {c->shape, a->shape, b->shape});
    dispatch_bytes(a->dtype, [&](auto tag) {
        using T = decltype(tag);
        const uint8_t* pc = c->data<uint8_t>();
        const T* pa = a->data<T>();
        const T* pb = b->data<T>();
        T* py = y.data<T>();
        std::vector<int64_t> off;
        for (int64_t r = 0; r < plan.outer; ++r) {
            broadcast_offsets(plan, r, off);
            for (int64_t i = 0; i < plan.inner; ++i)
                py[r * plan.inner + i] = pc[off[0] + i * plan.inner_step[0]] ? pa[off[1] + i * plan.inner_step[1]]
                                                                            : pb[off[2] + i * plan.inner_step[2]];
        }
    });
    ctx.out[0] = std::move(y);
    return {};
}

template <class Src, class Dst>
Dst convert_value(Src v) {
    if constexpr (std::is_same_v<Dst, bool>) return v != Src{};
    else if constexpr (std::is_floating_point_v<Src> && std::is_integral_v<Dst>) {
        if (std::isnan(v)) return Dst{0};
        const double d = static_cast<double>(v);
        if (d <= static_cast<double>(std::numeric_limits<Dst>::lowest())) return std::numeric_limits<Dst>::lowest();
        if (d >= static_cast<double>(std::numeric_limits<Dst>::max())) return std::numeric_limits<Dst>::max();
        return static_cast<Dst>(v);
    } else return static_cast<Dst>(v);
}

}  // namespace

// Shared with Cast/CastLike and used by Constant folding of float16 initializers.
Result<Tensor> cast_tensor(const Tensor& x, DataType to) {
    Tensor y = make_tensor(to, x.shape);
    const int64_t n = x.numel();
    if (x.dtype == to) {
        y.bytes = x.bytes;
        return y;
    }
    // Route float16 through float.
    if (x.dtype == DataType::Float16) {
        Tensor f = make_tensor(DataType::Float, x.shape);
        for (int64_t i = 0; i < n; ++i) f.data<float>()[i] = fp16_to_fp32(x.data<uint16_t>()[i]);
        return cast_tensor(f, to);
    }
    if (to == DataType::Float16) {
        auto f = cast_tensor(x, DataType::Float);
        if (!f) return f;
        for (int64_t i = 0; i < n; ++i) y.data<uint16_t>()[i] = fp32_to_fp16(f->data<float>()[i]);
        return y;
    }
    bool ok = false;
    dispatch_numeric(x.dtype, [&](auto st) {
        using S = decltype(st);
        const bool src_bool = x.dtype == DataType::Bool;
        dispatch_numeric(to, [&](auto dt) {
            using D = decltype(dt);
            const S* ps = x.data<S>();
            D* pd = y.data<D>();
            if (to == DataType::Bool) {
                for (int64_t i = 0; i < n; ++i) pd[i] = ps[i] != S{} ? 1 : 0;
            } else if (src_bool) {
                for (int64_t i = 0; i < n; ++i) pd[i] = ps[i] ? D{1} : D{0};
            } else {
                for (int64_t i = 0; i < n; ++i) pd[i] = convert_value<S, D>(ps[i]);
            }
            ok = true;
        });
    });
    if (!ok) return make_error(fmt::format("cannot cast {} to {}", data_type_name(x.dtype), data_type_name(to)));
    return y;
}

namespace {

Result<void> op_cast(OpContext& ctx) {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("missing input");
    DataType to;
    if (ctx.node.op_type == "CastLike") {
        const Tensor* like = ctx.input(1);
        if (!like) return ctx.error("missing target_type input");
        to = like->dtype;
    } else {
        const int64_t t = ctx.attr_int("to", 0);
        if (t != 1 && t != 2 && t != 3 && t != 6 && t != 7 && t != 9 && t != 10 && t != 11)
            return ctx.error(fmt::format("unsupported target type {}", t));
        to = static_cast<DataType>(t);
    }
    auto y = cast_tensor(*x, to);
    if (!y) return ctx.error(y.error().message);
    ctx.out[0] = std::move(*y);
    return {};
}

// Max, Min, Sum, Mean over any number of broadcast inputs.
template <Arith K, bool Mean = false>
Result<void> variadic_op(OpContext& ctx) {
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < ctx.n_inputs(); ++i)
        if (ctx.input(i)) ins.push_back(ctx.input(i));
    if (ins.empty()) return ctx.error("needs at least one input");
    Tensor acc = *ins[0];
    std::vector<Tensor> tmp(1);
    for (size_t i = 1; i < ins.size(); ++i) {
        const Tensor* pair[2] = {&acc, ins[i]};
        OpContext sub{ctx.node, std::span<const Tensor* const>(pair, 2), tmp, ctx.pool, ctx.rng};
        if (auto r = arith_op<K>(sub); !r) return r;
        acc = std::move(tmp[0]);
    }
    if constexpr (Mean) {
        if (acc.dtype != DataType::Float) return ctx.error("Mean needs float inputs");
        const float inv = 1.0f / static_cast<float>(ins.size());
        for (int64_t i = 0; i < acc.numel(); ++i) acc.data<float>()[i] *= inv;
    }
    ctx.out[0] = std::move(acc);
    return {};
}

}  // namespace

void register_elementwise_ops(OpTable& t) {
    add(t, "Add", arith_op<Arith::Add>);
    add(t, "Sub", arith_op<Arith::Sub>);
    add(t, "Mul", arith_op<Arith::Mul>);
    add(t, "Div", arith_op<Arith::Div>);
    add(t, "Pow", arith_op<Arith::Pow>);
    add(t, "Mod", arith_op<Arith::Mod>);
    add(t, "Max", variadic_op<Arith::Max>);
    add(t, "Min", variadic_op<Arith::Min>);
    add(t, "Sum", variadic_op<Arith::Add>);
    add(t, "Mean", variadic_op<Arith::Add, true>);
    add(t, "Equal", compare_op<Cmp::Equal>);
    add(t, "Less", compare_op<Cmp::Less>);
    add(t, "Greater", compare_op<Cmp::Greater>);
    add(t, "LessOrEqual", compare_op<Cmp::LessOrEqual>);
    add(t, "GreaterOrEqual", compare_op<Cmp::GreaterOrEqual>);
    add(t, "And", logic_op<Logic::And>);
    add(t, "Or", logic_op<Logic::Or>);
    add(t, "Xor", logic_op<Logic::Xor>);
    add(t, "Not", op_not);
    add(t, "Neg", unary_op<Unary::Neg>);
    add(t, "Abs", unary_op<Unary::Abs>);
    add(t, "Sqrt", unary_op<Unary::Sqrt>);
    add(t, "Exp", unary_op<Unary::Exp>);
    add(t, "Log", unary_op<Unary::Log>);
    add(t, "Erf", unary_op<Unary::Erf>);
    add(t, "Tanh", unary_op<Unary::Tanh>);
    add(t, "Sigmoid", unary_op<Unary::Sigmoid>);
    add(t, "Relu", unary_op<Unary::Relu>);
    add(t, "Softplus", unary_op<Unary::Softplus>);
    add(t, "Ceil", unary_op<Unary::Ceil>);
    add(t, "Floor", unary_op<Unary::Floor>);
    add(t, "Round", unary_op<Unary::Round>);
    add(t, "Reciprocal", unary_op<Unary::Reciprocal>);
    add(t, "Sin", unary_op<Unary::Sin>);
    add(t, "Cos", unary_op<Unary::Cos>);
    add(t, "Sign", unary_op<Unary::Sign>);
    add(t, "LeakyRelu", op_leaky_relu);
    add(t, "Elu", op_elu);
    add(t, "HardSigmoid", op_hard_sigmoid);
    add(t, "Clip", op_clip);
    add(t, "Where", op_where);
    add(t, "Cast", op_cast);
    add(t, "CastLike", op_cast);
}

}  // namespace hearth::onnx
