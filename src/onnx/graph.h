// The model as the interpreter sees it: nodes, attributes and constant tensors copied out
// of the ONNX protobuf once at load time, so planning and execution never touch protobuf.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "onnx/onnx_session.h"

namespace onnx {
class GraphProto;
class TensorProto;
}  // namespace onnx

namespace hearth::onnx {

struct Graph;

struct Attribute {
    enum class Kind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings };
    Kind kind = Kind::Int;
    float f = 0.0f;
    int64_t i = 0;
    std::string s;
    hearth::onnx::Tensor t;
    std::shared_ptr<Graph> g;
    std::vector<float> floats;
    std::vector<int64_t> ints;
    std::vector<std::string> strings;
};

struct Node {
    std::string name;
    std::string op_type;
    std::string domain;
    std::vector<std::string> inputs;   // "" for an omitted optional input
    std::vector<std::string> outputs;  // "" for an omitted optional output
    std::map<std::string, Attribute> attributes;

    const Attribute* attribute(const std::string& key) const;
    // A readable label for error messages: `Conv node "conv_3"`.
    std::string label() const;
};

struct Graph {
    std::string name;
    std::vector<Node> nodes;
    std::vector<ValueInfo> inputs;   // all declared inputs, including those with initializers
    std::vector<ValueInfo> outputs;
    std::map<std::string, Tensor> initializers;
};

// Converts a TensorProto (raw_data or typed fields) into a Tensor; external data is an error.
Result<Tensor> tensor_from_proto(const ::onnx::TensorProto& proto);
// Converts a whole graph, recursing into subgraph attributes (If/Loop bodies).
Result<std::shared_ptr<Graph>> graph_from_proto(const ::onnx::GraphProto& proto, int depth = 0);

}  // namespace hearth::onnx
