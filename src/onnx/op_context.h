// The interface between the executor and operator kernels: what a kernel sees of its
// node (inputs, attributes, outputs to fill) and the registry that maps op types to kernels.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/thread_pool.h"
#include "onnx/graph.h"

namespace hearth::onnx {

struct OpContext {
    const Node& node;
    std::span<const Tensor* const> in;  // nullptr for an omitted optional input
    std::vector<Tensor>& out;           // one per node output, filled by the kernel
    ThreadPool& pool;
    std::mt19937_64& rng;               // session generator, seeded from SessionOptions::seed
    int64_t opset = 17;                 // the model's default-domain opset version
    // Inputs whose value dies at this node (owned by the executor, not constants): a kernel
    // may take their buffers for an output of the same size instead of allocating.
    Tensor* dying[2] = {nullptr, nullptr};
    // Conv and ConvTranspose: a LeakyRelu with this slope was fused into input 0.
    const float* input_leaky_alpha = nullptr;
    // Conv only: the output is conv + residual (a fused Add, numpy broadcasting).
    const Tensor* residual = nullptr;

    // A tensor of the given type and shape: a dying input's buffer when one fits, else new.
    // Element-wise kernels only, and only after taking their input data pointers: the output
    // may then alias that input's memory (the input Tensor itself is left empty).
    Tensor output_like(DataType dtype, const std::vector<int64_t>& shape);

    size_t n_inputs() const { return in.size(); }
    const Tensor* input(size_t i) const { return i < in.size() ? in[i] : nullptr; }

    int64_t attr_int(const std::string& key, int64_t fallback) const;
    float attr_float(const std::string& key, float fallback) const;
    std::string attr_string(const std::string& key, const std::string& fallback) const;
    std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> fallback = {}) const;
    std::vector<float> attr_floats(const std::string& key) const;
    bool has_attr(const std::string& key) const { return node.attribute(key) != nullptr; }

    // An error that names the node: `Conv node "c1": <message>`.
    Error error(const std::string& message) const;
};

using OpFn = Result<void> (*)(OpContext&);

// The kernel for an op type of the default domain, or nullptr when unsupported.
OpFn find_op(const std::string& op_type);
// Ops whose result is not a function of their inputs (never constant-folded).
bool op_is_nondeterministic(const std::string& op_type);

// Registration, one function per ops_*.cpp file.
struct OpTable;
void add(OpTable& table, const char* op_type, OpFn fn);
void register_elementwise_ops(OpTable& table);
void register_shape_ops(OpTable& table);
void register_pad_ops(OpTable& table);
void register_reduce_ops(OpTable& table);
void register_nn_ops(OpTable& table);
void register_linear_ops(OpTable& table);
void register_recurrent_ops(OpTable& table);
void register_misc_ops(OpTable& table);

}  // namespace hearth::onnx
