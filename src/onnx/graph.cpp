#include "onnx/graph.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <cstring>

#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

constexpr int kMaxSubgraphDepth = 16;

bool supported_dtype(int32_t t) {
    switch (t) {
        case 1: case 2: case 3: case 6: case 7: case 9: case 10: case 11: return true;
        default: return false;
    }
}

ValueInfo value_info_from_proto(const ::onnx::ValueInfoProto& proto) {
    ValueInfo info;
    info.name = proto.name();
    if (proto.has_type() && proto.type().has_tensor_type()) {
        const auto& tt = proto.type().tensor_type();
        info.dtype = supported_dtype(tt.elem_type()) ? static_cast<DataType>(tt.elem_type()) : DataType::Float;
        if (tt.has_shape()) {
            for (const auto& d : tt.shape().dim()) info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
        }
    }
    return info;
}

template <class Field>
void copy_typed(Tensor& t, const Field& field) {
    using Src = typename Field::value_type;
    auto convert = [&](auto* dst) {
        for (int64_t i = 0; i < t.numel(); ++i) dst[i] = static_cast<std::remove_pointer_t<decltype(dst)>>(field.Get(static_cast<int>(i)));
    };
    switch (t.dtype) {
        case DataType::Float: convert(t.data<float>()); break;
        case DataType::Double: convert(t.data<double>()); break;
        case DataType::Int64: convert(t.data<int64_t>()); break;
        case DataType::Int32: convert(t.data<int32_t>()); break;
        case DataType::Int8: convert(t.data<int8_t>()); break;
        case DataType::Uint8: convert(t.data<uint8_t>()); break;
        case DataType::Bool: convert(t.data<uint8_t>()); break;
        case DataType::Float16: convert(t.data<uint16_t>()); break;  // int32_data holds the bits
    }
    (void)sizeof(Src);
}

}  // namespace

const Attribute* Node::attribute(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? nullptr : &it->second;
}

std::string Node::label() const { return fmt::format("{} node \"{}\"", op_type, name); }

Result<Tensor> tensor_from_proto(const ::onnx::TensorProto& proto) {
    if (!supported_dtype(proto.data_type()))
        return make_error(fmt::format("tensor \"{}\": unsupported data type {}", proto.name(), proto.data_type()));
    if (proto.data_location() == ::onnx::TensorProto::EXTERNAL || proto.external_data_size() > 0)
        return make_error(fmt::format("tensor \"{}\": external data is not supported", proto.name()));
    Tensor t;
    t.dtype = static_cast<DataType>(proto.data_type());
    t.shape.assign(proto.dims().begin(), proto.dims().end());
    // Every dim counts, zeros too: an empty [0, 2^60] would overflow the kernels' dim products.
    if (auto r = check_shape_size(t.shape); !r) return make_error(fmt::format("tensor \"{}\": {}", proto.name(), r.error().message));
    const int64_t n = t.numel();
    const size_t bytes = static_cast<size_t>(n) * data_type_size(t.dtype);
    if (proto.has_raw_data()) {
        if (proto.raw_data().size() != bytes)
            return make_error(fmt::format("tensor \"{}\": raw_data has {} bytes, shape needs {}", proto.name(),
                                          proto.raw_data().size(), bytes));
        t.bytes.resize(bytes);
        if (bytes) std::memcpy(t.bytes.data(), proto.raw_data().data(), bytes);
        return t;
    }
    // The value count is checked before the buffer is sized: the dims are untrusted and may
    // promise terabytes that the file does not hold.
    const int values = t.dtype == DataType::Float    ? proto.float_data_size()
                       : t.dtype == DataType::Double ? proto.double_data_size()
                       : t.dtype == DataType::Int64  ? proto.int64_data_size()
                                                     : proto.int32_data_size();
    if (values != n)
        return make_error(fmt::format("tensor \"{}\": has {} values, shape needs {}", proto.name(), values, n));
    t.bytes.resize(bytes);
    switch (t.dtype) {
        case DataType::Float: copy_typed(t, proto.float_data()); break;
        case DataType::Double: copy_typed(t, proto.double_data()); break;
        case DataType::Int64: copy_typed(t, proto.int64_data()); break;
        default: copy_typed(t, proto.int32_data()); break;
    }
    return t;
}

Result<std::shared_ptr<Graph>> graph_from_proto(const ::onnx::GraphProto& proto, int depth) {
    if (depth > kMaxSubgraphDepth) return make_error("subgraphs nested too deeply");
    auto graph = std::make_shared<Graph>();
    graph->name = proto.name();
    for (const auto& init : proto.initializer()) {
        auto t = tensor_from_proto(init);
        if (!t) return t.error();
        graph->initializers[init.name()] = std::move(*t);
    }
    if (proto.sparse_initializer_size() > 0) return make_error("sparse initializers are not supported");
    for (const auto& in : proto.input()) graph->inputs.push_back(value_info_from_proto(in));
    for (const auto& out : proto.output()) graph->outputs.push_back(value_info_from_proto(out));
    graph->nodes.reserve(static_cast<size_t>(proto.node_size()));
    for (int i = 0; i < proto.node_size(); ++i) {
        const auto& np = proto.node(i);
        Node node;
        node.name = np.name().empty() ? fmt::format("#{}", i) : np.name();
        node.op_type = np.op_type();
        node.domain = np.domain();
        node.inputs.assign(np.input().begin(), np.input().end());
        node.outputs.assign(np.output().begin(), np.output().end());
        for (const auto& ap : np.attribute()) {
            Attribute a;
            switch (ap.type()) {
                case ::onnx::AttributeProto::FLOAT: a.kind = Attribute::Kind::Float; a.f = ap.f(); break;
                case ::onnx::AttributeProto::INT: a.kind = Attribute::Kind::Int; a.i = ap.i(); break;
                case ::onnx::AttributeProto::STRING: a.kind = Attribute::Kind::String; a.s = ap.s(); break;
                case ::onnx::AttributeProto::TENSOR: {
                    a.kind = Attribute::Kind::Tensor;
                    auto t = tensor_from_proto(ap.t());
                    if (!t) return make_error(fmt::format("{}: attribute {}: {}", node.label(), ap.name(), t.error().message));
                    a.t = std::move(*t);
                    break;
                }
                case ::onnx::AttributeProto::GRAPH: {
                    a.kind = Attribute::Kind::Graph;
                    auto g = graph_from_proto(ap.g(), depth + 1);
                    if (!g) return make_error(fmt::format("{}: attribute {}: {}", node.label(), ap.name(), g.error().message));
                    a.g = std::move(*g);
                    break;
                }
                case ::onnx::AttributeProto::FLOATS:
                    a.kind = Attribute::Kind::Floats;
                    a.floats.assign(ap.floats().begin(), ap.floats().end());
                    break;
                case ::onnx::AttributeProto::INTS:
                    a.kind = Attribute::Kind::Ints;
                    a.ints.assign(ap.ints().begin(), ap.ints().end());
                    break;
                case ::onnx::AttributeProto::STRINGS:
                    a.kind = Attribute::Kind::Strings;
                    a.strings.assign(ap.strings().begin(), ap.strings().end());
                    break;
                default:
                    return make_error(fmt::format("{}: attribute {} has an unsupported type", node.label(), ap.name()));
            }
            node.attributes[ap.name()] = std::move(a);
        }
        graph->nodes.push_back(std::move(node));
    }
    return graph;
}

}  // namespace hearth::onnx
