// hearth/onnx — our own ONNX interpreter: loads a model with libonnx's protobuf
// definitions, plans it (shape inference including dynamic shapes, constant folding of
// initializers, buffer reuse) and executes it on the CPU with our kernels. It depends on
// hearth_base and hearth_kernels (thread pool, SIMD) only and knows nothing of speech or
// HTTP. Unsupported operators are errors that name the op and node, found at load time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace hearth::onnx {

// Element types we execute (ONNX TensorProto.DataType numbering).
enum class DataType : int32_t { Float = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9, Float16 = 10, Double = 11 };
const char* data_type_name(DataType t);
size_t data_type_size(DataType t);

// A dense, row-major tensor that owns its bytes.
struct Tensor {
    DataType dtype = DataType::Float;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;

    int64_t numel() const;
    template <class T>
    T* data() { return reinterpret_cast<T*>(bytes.data()); }
    template <class T>
    const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }

    static Tensor from_floats(std::vector<int64_t> shape, std::span<const float> values);
    static Tensor from_int64s(std::vector<int64_t> shape, std::span<const int64_t> values);
    static Tensor zeros(DataType dtype, std::vector<int64_t> shape);
};

struct ValueInfo {
    std::string name;
    DataType dtype = DataType::Float;
    std::vector<int64_t> shape;  // -1 for a dynamic dimension
};

struct SessionOptions {
    int n_threads = 0;        // 0: all cores
    uint64_t seed = 0;        // for RandomNormal(Like)/RandomUniform(Like) without their own seed
    // Largest tensor (in elements) the model may hold or make: initializers, inputs and every
    // kernel output; above it loading or running is an error. 0: the built-in limit (2^30),
    // which is also the most this can be.
    int64_t max_tensor_elements = 0;
    // Work budget of one load (constant folding) and of one run(), in multiply-adds of MatMul,
    // Gemm, Conv, ConvTranspose and LSTM plus one per element every node outputs; spent, the
    // load or run stops with an error. 0: unlimited. For untrusted models (and fuzzing), where
    // a few small inputs can ask for hours of convolution.
    int64_t max_work = 0;
};

// A loaded, planned model. run() may be called from one thread at a time per session.
class Session {
public:
    static Result<std::unique_ptr<Session>> load(const std::string& path, const SessionOptions& options = {});
    static Result<std::unique_ptr<Session>> load_bytes(std::span<const uint8_t> model_proto,
                                                       const SessionOptions& options = {});
    ~Session();

    const std::vector<ValueInfo>& inputs() const;
    const std::vector<ValueInfo>& outputs() const;

    // Runs the graph. Inputs by name (all graph inputs without initializers must be given);
    // returns the graph outputs in the order of outputs(). Bad shapes/types are errors.
    Result<std::vector<Tensor>> run(const std::vector<std::pair<std::string, Tensor>>& inputs);

    class Impl;

private:
    explicit Session(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::onnx
