// The op-type -> kernel table and the attribute accessors of OpContext.
#include <fmt/format.h>

#include <unordered_map>

#include "onnx/op_context.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

struct OpTable {
    std::unordered_map<std::string, OpFn> ops;
};

void add(OpTable& table, const char* op_type, OpFn fn) { table.ops[op_type] = fn; }

OpFn find_op(const std::string& op_type) {
    static const OpTable table = [] {
        OpTable t;
        register_elementwise_ops(t);
        register_shape_ops(t);
        register_pad_ops(t);
        register_reduce_ops(t);
        register_nn_ops(t);
        register_linear_ops(t);
        register_recurrent_ops(t);
        register_misc_ops(t);
        return t;
    }();
    auto it = table.ops.find(op_type);
    return it == table.ops.end() ? nullptr : it->second;
}

bool op_is_nondeterministic(const std::string& op_type) { return op_type.rfind("Random", 0) == 0; }

int64_t OpContext::attr_int(const std::string& key, int64_t fallback) const {
    const Attribute* a = node.attribute(key);
    if (!a) return fallback;
    if (a->kind == Attribute::Kind::Int) return a->i;
    if (a->kind == Attribute::Kind::Float) return saturate_cast<int64_t>(a->f);
    return fallback;
}

float OpContext::attr_float(const std::string& key, float fallback) const {
    const Attribute* a = node.attribute(key);
    if (!a) return fallback;
    if (a->kind == Attribute::Kind::Float) return a->f;
    if (a->kind == Attribute::Kind::Int) return static_cast<float>(a->i);
    return fallback;
}

std::string OpContext::attr_string(const std::string& key, const std::string& fallback) const {
    const Attribute* a = node.attribute(key);
    return a && a->kind == Attribute::Kind::String ? a->s : fallback;
}

std::vector<int64_t> OpContext::attr_ints(const std::string& key, std::vector<int64_t> fallback) const {
    const Attribute* a = node.attribute(key);
    if (!a) return fallback;
    if (a->kind == Attribute::Kind::Ints) return a->ints;
    if (a->kind == Attribute::Kind::Int) return {a->i};
    return fallback;
}

std::vector<float> OpContext::attr_floats(const std::string& key) const {
    const Attribute* a = node.attribute(key);
    if (!a) return {};
    if (a->kind == Attribute::Kind::Floats) return a->floats;
    if (a->kind == Attribute::Kind::Float) return {a->f};
    return {};
}

Tensor OpContext::output_like(DataType dtype, const std::vector<int64_t>& shape) {
    for (Tensor*& d : dying) {
        if (d && d->dtype == dtype && d->shape == shape) {
            // Moving the vector keeps its heap buffer, so data pointers the kernel already
            // took from this input stay valid and now point into the output.
            Tensor t;
            t.dtype = dtype;
            t.shape = shape;
            t.bytes = std::move(d->bytes);
            d = nullptr;
            return t;
        }
    }
    return make_tensor(dtype, shape);
}

Error OpContext::error(const std::string& message) const { return make_error(fmt::format("{}: {}", node.label(), message)); }

}  // namespace hearth::onnx
