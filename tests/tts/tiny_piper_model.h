// Writes a tiny ONNX model with Piper's inputs (input, input_lengths, scales, sid) whose
// output length is known exactly: round((input_lengths * length_scale + sid) * 100) samples
// of the value 0.25, shaped [1, 1, n] as Piper's models are. Serialized with a
// minimal protobuf writer so the test needs no ONNX library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hearth::test {

class ProtoWriter {
public:
    ProtoWriter& varint(int field, uint64_t v) {
        key(field, 0);
        put_varint(v);
        return *this;
    }
    ProtoWriter& bytes(int field, const std::string& s) {
        key(field, 2);
        put_varint(s.size());
        out_ += s;
        return *this;
    }
    ProtoWriter& message(int field, const ProtoWriter& m) { return bytes(field, m.out_); }
    ProtoWriter& f32(int field, float f) {
        key(field, 5);
        out_.append(reinterpret_cast<const char*>(&f), 4);
        return *this;
    }
    const std::string& str() const { return out_; }

private:
    void key(int field, int wire) { put_varint(static_cast<uint64_t>(field) << 3 | wire); }
    void put_varint(uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<char>(v | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<char>(v));
    }
    std::string out_;
};

// ONNX TensorProto with raw data.
template <class T>
ProtoWriter onnx_tensor(const std::vector<int64_t>& dims, const std::vector<T>& values, int data_type) {
    ProtoWriter t;
    for (auto d : dims) t.varint(1, static_cast<uint64_t>(d));
    t.varint(2, data_type);
    t.bytes(9, std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
    return t;
}

inline ProtoWriter onnx_node(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                             std::vector<ProtoWriter> attributes = {}) {
    ProtoWriter n;
    for (const auto& i : inputs) n.bytes(1, i);
    n.bytes(2, output);
    n.bytes(3, output + "_node");
    n.bytes(4, op);
    for (const auto& a : attributes) n.message(5, a);
    return n;
}

inline ProtoWriter int_attribute(const std::string& name, int64_t v) {
    ProtoWriter a;
    a.bytes(1, name).varint(3, static_cast<uint64_t>(v)).varint(20, 2);  // type INT
    return a;
}

inline ProtoWriter tensor_attribute(const std::string& name, const ProtoWriter& t) {
    ProtoWriter a;
    a.bytes(1, name).message(5, t).varint(20, 4);  // type TENSOR
    return a;
}

// elem_type: 1 float, 7 int64; dims: >= 0 fixed, -1 symbolic.
inline ProtoWriter value_info(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    ProtoWriter shape;
    for (auto d : dims) {
        ProtoWriter dim;
        if (d >= 0) {
            dim.varint(1, static_cast<uint64_t>(d));
        } else {
            dim.bytes(2, "n");
        }
        shape.message(1, dim);
    }
    ProtoWriter tensor_type;
    tensor_type.varint(1, elem_type).message(2, shape);
    ProtoWriter type;
    type.message(1, tensor_type);
    ProtoWriter vi;
    vi.bytes(1, name).message(2, type);
    return vi;
}

inline std::string tiny_piper_model() {
    constexpr int kFloat = 1, kInt64 = 7;
    ProtoWriter g;
    auto constant = [&](const std::string& name, const ProtoWriter& t) {
        g.message(1, onnx_node("Constant", {}, name, {tensor_attribute("value", t)}));
    };
    constant("one", onnx_tensor<int64_t>({1}, {1}, kInt64));
    constant("zero", onnx_tensor<int64_t>({1}, {0}, kInt64));
    constant("hundred", onnx_tensor<float>({1}, {100.0f}, kFloat));
    constant("ones", onnx_tensor<int64_t>({2}, {1, 1}, kInt64));
    g.message(1, onnx_node("Gather", {"scales", "one"}, "length_scale", {int_attribute("axis", 0)}));
    g.message(1, onnx_node("Cast", {"input_lengths"}, "lengths_f", {int_attribute("to", kFloat)}));
    g.message(1, onnx_node("Mul", {"lengths_f", "length_scale"}, "scaled"));
    g.message(1, onnx_node("Gather", {"sid", "zero"}, "sid0", {int_attribute("axis", 0)}));
    g.message(1, onnx_node("Cast", {"sid0"}, "sid_f", {int_attribute("to", kFloat)}));
    g.message(1, onnx_node("Add", {"scaled", "sid_f"}, "units"));
    g.message(1, onnx_node("Mul", {"units", "hundred"}, "samples_f"));
    g.message(1, onnx_node("Round", {"samples_f"}, "samples_r"));
    g.message(1, onnx_node("Cast", {"samples_r"}, "samples", {int_attribute("to", kInt64)}));
    g.message(1, onnx_node("Concat", {"ones", "samples"}, "shape", {int_attribute("axis", 0)}));
    g.message(1, onnx_node("ConstantOfShape", {"shape"}, "output",
                           {tensor_attribute("value", onnx_tensor<float>({1}, {0.25f}, kFloat))}));
    g.bytes(2, "tiny_piper");
    g.message(11, value_info("input", kInt64, {1, -1}));
    g.message(11, value_info("input_lengths", kInt64, {1}));
    g.message(11, value_info("scales", kFloat, {3}));
    g.message(11, value_info("sid", kInt64, {1}));
    g.message(12, value_info("output", kFloat, {1, 1, -1}));
    ProtoWriter opset;
    opset.bytes(1, "").varint(2, 13);
    ProtoWriter model;
    model.varint(1, 8).bytes(2, "hearth-test").message(8, opset).message(7, g);
    return model.str();
}

}  // namespace hearth::test
