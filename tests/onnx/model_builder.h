// Builds small ONNX models with libonnx's protobuf classes for the differential tests, and
// runs onnxruntime-node (tests/reference/ort_run.mjs) on a batch of them.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "onnx/onnx_session.h"

namespace hearth::test {

using hearth::onnx::DataType;
using hearth::onnx::Tensor;

class ModelBuilder {
public:
    explicit ModelBuilder(int opset = 17);

    // A graph input with a fixed shape; returns its name.
    const std::string& input(const std::string& name, DataType dtype, const std::vector<int64_t>& shape);
    void initializer(const std::string& name, const Tensor& t);
    void output(const std::string& name, DataType dtype);
    ::onnx::NodeProto& node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs);

    ::onnx::GraphProto& graph() { return *model_.mutable_graph(); }
    std::string serialize() const;

private:
    ::onnx::ModelProto model_;
    std::vector<std::string> names_;
};

// Attribute setters.
void attr(::onnx::NodeProto& n, const std::string& name, int64_t v);
void attr(::onnx::NodeProto& n, const std::string& name, float v);
void attr(::onnx::NodeProto& n, const std::string& name, const std::string& v);
void attr(::onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);
void attr(::onnx::NodeProto& n, const std::string& name, const Tensor& t);
void attr(::onnx::NodeProto& n, const std::string& name, const ::onnx::GraphProto& g);
void attr_strings(::onnx::NodeProto& n, const std::string& name, const std::vector<std::string>& v);
void fill_tensor_proto(::onnx::TensorProto& p, const std::string& name, const Tensor& t);
void fill_value_info(::onnx::ValueInfoProto& v, const std::string& name, DataType dtype, const std::vector<int64_t>* shape);

Tensor random_tensor(DataType dtype, const std::vector<int64_t>& shape, uint32_t seed, double lo = -1.0, double hi = 1.0);
Tensor int_tensor(const std::vector<int64_t>& shape, const std::vector<int64_t>& values);
Tensor float_tensor(const std::vector<int64_t>& shape, const std::vector<float>& values);
Tensor bool_tensor(const std::vector<int64_t>& shape, const std::vector<uint8_t>& values);

// One model with inputs, for a batch run through onnxruntime.
struct OrtCase {
    std::string name;
    std::string model_bytes;
    std::vector<std::pair<std::string, Tensor>> inputs;
};

struct OrtResult {
    bool ok = false;
    std::string error;
    std::vector<Tensor> outputs;
    double seconds = 0;      // mean wall time per run when repeat > 0
    double cpu_seconds = 0;  // mean process CPU time per run (all threads)
};

// Runs every case through onnxruntime-node in one node process. Returns false (with the reason
// in `why`) when node or onnxruntime-node is missing.
bool run_onnxruntime(const std::vector<OrtCase>& cases, const std::filesystem::path& dir, std::vector<OrtResult>& results,
                     std::string& why, int threads = 1, int repeat = 0);

// Largest |a - b| / (atol + rtol * |b|) over float tensors (<= 1 passes), exact for others;
// max_abs gets the largest absolute difference. Shape or type mismatch gives +inf.
double compare_tensors(const Tensor& ours, const Tensor& ref, double atol, double rtol, double& max_abs);

}  // namespace hearth::test
