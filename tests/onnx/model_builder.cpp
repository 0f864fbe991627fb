#include "model_builder.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>

#include "support/run_command.h"

namespace hearth::test {

namespace {

int ir_version_for(int opset) {
    if (opset <= 8) return 3;
    if (opset <= 10) return 5;
    if (opset <= 12) return 7;
    if (opset <= 18) return 8;
    if (opset <= 20) return 9;
    return 10;
}

const char* ort_type(DataType t) {
    switch (t) {
        case DataType::Float: return "float32";
        case DataType::Int64: return "int64";
        case DataType::Int32: return "int32";
        case DataType::Bool: return "bool";
        case DataType::Double: return "float64";
        case DataType::Uint8: return "uint8";
        case DataType::Int8: return "int8";
        default: return "unknown";
    }
}

DataType from_ort_type(const std::string& s) {
    if (s == "float32") return DataType::Float;
    if (s == "int64") return DataType::Int64;
    if (s == "int32") return DataType::Int32;
    if (s == "bool") return DataType::Bool;
    if (s == "float64") return DataType::Double;
    if (s == "uint8") return DataType::Uint8;
    return DataType::Int8;
}

}  // namespace

ModelBuilder::ModelBuilder(int opset) {
    model_.set_ir_version(ir_version_for(opset));
    model_.set_producer_name("hearth-test");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    model_.mutable_graph()->set_name("test");
}

void fill_value_info(::onnx::ValueInfoProto& v, const std::string& name, DataType dtype, const std::vector<int64_t>* shape) {
    v.set_name(name);
    auto* tt = v.mutable_type()->mutable_tensor_type();
    tt->set_elem_type(static_cast<int32_t>(dtype));
    if (shape) {
        auto* sp = tt->mutable_shape();
        for (int64_t d : *shape) {
            if (d >= 0) sp->add_dim()->set_dim_value(d);
            else sp->add_dim()->set_dim_param(fmt::format("d{}", sp->dim_size()));
        }
    }
}

const std::string& ModelBuilder::input(const std::string& name, DataType dtype, const std::vector<int64_t>& shape) {
    fill_value_info(*model_.mutable_graph()->add_input(), name, dtype, &shape);
    names_.push_back(name);
    return names_.back();
}

void fill_tensor_proto(::onnx::TensorProto& p, const std::string& name, const Tensor& t) {
    p.set_name(name);
    p.set_data_type(static_cast<int32_t>(t.dtype));
    for (int64_t d : t.shape) p.add_dims(d);
    p.set_raw_data(std::string(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size()));
}

void ModelBuilder::initializer(const std::string& name, const Tensor& t) {
    fill_tensor_proto(*model_.mutable_graph()->add_initializer(), name, t);
}

void ModelBuilder::output(const std::string& name, DataType dtype) {
    fill_value_info(*model_.mutable_graph()->add_output(), name, dtype, nullptr);
}

::onnx::NodeProto& ModelBuilder::node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs) {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(fmt::format("{}_{}", op, model_.graph().node_size()));
    for (auto& i : inputs) n->add_input(i);
    for (auto& o : outputs) n->add_output(o);
    return *n;
}

std::string ModelBuilder::serialize() const { return model_.SerializeAsString(); }

void attr(::onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
}
void attr(::onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
}
void attr(::onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s(v);
}
void attr(::onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
}
void attr(::onnx::NodeProto& n, const std::string& name, const Tensor& t) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::TENSOR);
    fill_tensor_proto(*a->mutable_t(), "", t);
}
void attr(::onnx::NodeProto& n, const std::string& name, const ::onnx::GraphProto& g) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::GRAPH);
    *a->mutable_g() = g;
}
void attr_strings(::onnx::NodeProto& n, const std::string& name, const std::vector<std::string>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRINGS);
    for (const auto& s : v) a->add_strings(s);
}

Tensor random_tensor(DataType dtype, const std::vector<int64_t>& shape, uint32_t seed, double lo, double hi) {
    Tensor t = Tensor::zeros(dtype, shape);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    for (int64_t i = 0; i < t.numel(); ++i) {
        const double v = dist(rng);
        switch (dtype) {
            case DataType::Float: t.data<float>()[i] = static_cast<float>(v); break;
            case DataType::Double: t.data<double>()[i] = v; break;
            case DataType::Int64: t.data<int64_t>()[i] = static_cast<int64_t>(std::floor(v)); break;
            case DataType::Int32: t.data<int32_t>()[i] = static_cast<int32_t>(std::floor(v)); break;
            case DataType::Bool: t.data<uint8_t>()[i] = v > (lo + hi) / 2 ? 1 : 0; break;
            default: t.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
        }
    }
    return t;
}

Tensor int_tensor(const std::vector<int64_t>& shape, const std::vector<int64_t>& values) { return Tensor::from_int64s(shape, values); }
Tensor float_tensor(const std::vector<int64_t>& shape, const std::vector<float>& values) { return Tensor::from_floats(shape, values); }
Tensor bool_tensor(const std::vector<int64_t>& shape, const std::vector<uint8_t>& values) {
    Tensor t = Tensor::zeros(DataType::Bool, shape);
    std::memcpy(t.bytes.data(), values.data(), std::min(values.size(), t.bytes.size()));
    return t;
}

bool run_onnxruntime(const std::vector<OrtCase>& cases, const std::filesystem::path& dir, std::vector<OrtResult>& results,
                     std::string& why, int threads, int repeat) {
    const std::string script = std::string(HEARTH_SOURCE_DIR) + "/tests/reference/ort_run.mjs";
    if (run_command("command -v node >/dev/null 2>&1").exit_code != 0) {
        why = "node is not installed";
        return false;
    }
    if (!std::filesystem::exists(std::string(HEARTH_SOURCE_DIR) + "/tests/reference/node_modules/onnxruntime-node")) {
        why = "onnxruntime-node is not installed (run scripts/setup-reference.sh)";
        return false;
    }
    nlohmann::json manifest = nlohmann::json::array();
    for (size_t c = 0; c < cases.size(); ++c) {
        const std::string model = fmt::format("case{}.onnx", c);
        std::ofstream(dir / model, std::ios::binary) << cases[c].model_bytes;
        nlohmann::json ins = nlohmann::json::array();
        for (size_t i = 0; i < cases[c].inputs.size(); ++i) {
            const auto& [name, t] = cases[c].inputs[i];
            const std::string file = fmt::format("case{}.in{}.bin", c, i);
            std::ofstream(dir / file, std::ios::binary).write(reinterpret_cast<const char*>(t.bytes.data()),
                                                              static_cast<std::streamsize>(t.bytes.size()));
            ins.push_back({{"name", name}, {"dtype", ort_type(t.dtype)}, {"shape", t.shape}, {"file", file}});
        }
        manifest.push_back({{"model", model}, {"inputs", ins}, {"out", fmt::format("case{}.out", c)}});
    }
    std::ofstream(dir / "manifest.json") << manifest.dump();
    const auto r = run_command(fmt::format("node '{}' '{}' --threads {} --repeat {} 2>&1", script, (dir / "manifest.json").string(),
                                           threads, repeat));
    if (r.exit_code == 77) {
        why = "onnxruntime-node does not load: " + r.out;
        return false;
    }
    if (r.exit_code != 0) {
        why = "ort_run.mjs failed: " + r.out;
        return false;
    }
    results.assign(cases.size(), {});
    for (size_t c = 0; c < cases.size(); ++c) {
        std::ifstream f(dir / fmt::format("case{}.out.json", c));
        if (!f) {
            results[c].error = "no output from ort_run.mjs";
            continue;
        }
        nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
        if (j.is_discarded() || j.contains("error")) {
            results[c].error = j.is_discarded() ? "bad json" : j["error"].get<std::string>();
            continue;
        }
        results[c].ok = true;
        results[c].seconds = j.value("seconds", 0.0);
        results[c].cpu_seconds = j.value("cpu_seconds", 0.0);
        for (const auto& o : j["outputs"]) {
            Tensor t = Tensor::zeros(from_ort_type(o["dtype"]), o["shape"].get<std::vector<int64_t>>());
            std::ifstream bin(dir / o["file"].get<std::string>(), std::ios::binary);
            bin.read(reinterpret_cast<char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
            results[c].outputs.push_back(std::move(t));
        }
    }
    return true;
}

double compare_tensors(const Tensor& ours, const Tensor& ref, double atol, double rtol, double& max_abs) {
    max_abs = 0;
    const double inf = std::numeric_limits<double>::infinity();
    if (ours.dtype != ref.dtype || ours.shape != ref.shape) {
        max_abs = inf;
        return inf;
    }
    double worst = 0;
    for (int64_t i = 0; i < ours.numel(); ++i) {
        double a, b;
        switch (ours.dtype) {
            case DataType::Float: a = ours.data<float>()[i], b = ref.data<float>()[i]; break;
            case DataType::Double: a = ours.data<double>()[i], b = ref.data<double>()[i]; break;
            case DataType::Int64: a = static_cast<double>(ours.data<int64_t>()[i]), b = static_cast<double>(ref.data<int64_t>()[i]); break;
            case DataType::Int32: a = ours.data<int32_t>()[i], b = ref.data<int32_t>()[i]; break;
            default: a = ours.bytes[static_cast<size_t>(i)] != 0, b = ref.bytes[static_cast<size_t>(i)] != 0; break;
        }
        if (std::isnan(a) && std::isnan(b)) continue;
        if (std::isinf(a) && a == b) continue;
        const double d = std::fabs(a - b);
        if (std::isnan(d)) return inf;
        max_abs = std::max(max_abs, d);
        const bool exact = ours.dtype != DataType::Float && ours.dtype != DataType::Double;
        worst = std::max(worst, exact ? (d > 0 ? inf : 0.0) : d / (atol + rtol * std::fabs(b)));
    }
    return worst;
}

}  // namespace hearth::test
