// Session: parses the model protobuf, builds the plan, validates inputs and runs it.
#include "onnx/onnx_session.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>

#include "base/mapped_file.h"
#include "onnx/plan.h"
#include "onnx/tensor_util.h"

namespace hearth::onnx {

class Session::Impl {
public:
    SessionOptions options;
    std::shared_ptr<Graph> graph;
    std::unique_ptr<ThreadPool> pool;
    std::mt19937_64 rng;
    int64_t opset = 0;
    std::unique_ptr<Plan> plan;
    std::vector<ValueInfo> inputs, outputs;
    std::vector<int> input_index;  // per plan input slot: index into inputs, -1 for overridable initializers
};

namespace {

constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 21;

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

const std::vector<ValueInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<ValueInfo>& Session::outputs() const { return impl_->outputs; }

Result<std::unique_ptr<Session>> Session::load(const std::string& path, const SessionOptions& options) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return make_error(fmt::format("cannot open ONNX model {}", path));
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto s = load_bytes(bytes, options);
    if (!s) return make_error(fmt::format("{}: {}", path, s.error().message));
    return s;
}

Result<std::unique_ptr<Session>> Session::load_bytes(std::span<const uint8_t> model_proto, const SessionOptions& options) {
    if (model_proto.size() > (size_t{1} << 31) - 1) return make_error("model larger than 2 GB (external data is not supported)");
    ::onnx::ModelProto model;
    if (!model.ParseFromArray(model_proto.data(), static_cast<int>(model_proto.size())))
        return make_error("not an ONNX model: the protobuf does not parse");
    if (!model.has_graph()) return make_error("not an ONNX model: no graph");
    // Initializers and constant folding are held to the element limit and work budget.
    const LimitScope limits(options.max_tensor_elements, options.max_work);
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    for (const auto& op : model.opset_import())
        if (op.domain().empty() || op.domain() == "ai.onnx") impl->opset = op.version();
    if (impl->opset == 0) return make_error("the model imports no default-domain opset");
    if (impl->opset < kMinOpset || impl->opset > kMaxOpset)
        return make_error(fmt::format("opset {} is not supported (supported: {} to {})", impl->opset, kMinOpset, kMaxOpset));
    auto graph = graph_from_proto(model.graph());
    if (!graph) return graph.error();
    impl->graph = std::move(*graph);
    const int threads = options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads();
    impl->pool = std::make_unique<ThreadPool>(threads);
    impl->rng.seed(options.seed);
    PlanContext pc{*impl->pool, impl->rng, impl->opset};
    auto plan = build_plan(*impl->graph, {}, pc);
    if (!plan) return plan.error();
    impl->plan = std::move(*plan);
    if (!impl->plan->capture_names.empty())
        return make_error(fmt::format("the graph reads undefined value \"{}\"", impl->plan->capture_names[0]));
    for (const auto& in : impl->graph->inputs) {
        if (impl->graph->initializers.count(in.name)) {
            impl->input_index.push_back(-1);
            continue;
        }
        impl->input_index.push_back(static_cast<int>(impl->inputs.size()));
        impl->inputs.push_back(in);
    }
    impl->outputs = impl->graph->outputs;
    return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Result<std::vector<Tensor>> Session::run(const std::vector<std::pair<std::string, Tensor>>& inputs) {
    Impl& m = *impl_;
    const Plan& plan = *m.plan;
    const LimitScope limits(m.options.max_tensor_elements, m.options.max_work);
    std::vector<const Tensor*> values(plan.slot_names.size(), nullptr);
    std::set<std::string> seen;
    for (const auto& [name, t] : inputs) {
        if (!seen.insert(name).second) return make_error(fmt::format("input \"{}\" given twice", name));
        size_t k = 0;
        while (k < plan.input_names.size() && plan.input_names[k] != name) ++k;
        if (k == plan.input_names.size()) return make_error(fmt::format("the model has no input \"{}\"", name));
        // Dims first: numel() of an unchecked shape may overflow.
        if (auto r = check_shape_size(t.shape); !r) return make_error(fmt::format("input \"{}\": {}", name, r.error().message));
        if (t.bytes.size() != static_cast<size_t>(t.numel()) * data_type_size(t.dtype))
            return make_error(fmt::format("input \"{}\": {} bytes for shape {}", name, t.bytes.size(), shape_string(t.shape)));
        if (m.input_index[k] >= 0) {
            const ValueInfo& info = m.inputs[static_cast<size_t>(m.input_index[k])];
            if (info.dtype != t.dtype)
                return make_error(fmt::format("input \"{}\" must be {}, got {}", name, data_type_name(info.dtype), data_type_name(t.dtype)));
            if (!info.shape.empty() || t.shape.empty()) {
                if (info.shape.size() != t.shape.size())
                    return make_error(fmt::format("input \"{}\" must have shape {}, got {}", name, shape_string(info.shape), shape_string(t.shape)));
                for (size_t d = 0; d < t.shape.size(); ++d)
                    if (info.shape[d] >= 0 && info.shape[d] != t.shape[d])
                        return make_error(fmt::format("input \"{}\" must have shape {}, got {}", name, shape_string(info.shape), shape_string(t.shape)));
            }
        }
        values[static_cast<size_t>(plan.input_slots[k])] = &t;
    }
    for (size_t k = 0; k < plan.input_names.size(); ++k) {
        const int slot = plan.input_slots[k];
        if (values[static_cast<size_t>(slot)]) continue;
        if (m.input_index[k] < 0) {
            values[static_cast<size_t>(slot)] = &m.graph->initializers.at(plan.input_names[k]);
            continue;
        }
        return make_error(fmt::format("missing input \"{}\"", plan.input_names[k]));
    }
    // Reseeded per run: the same inputs and seed give the same outputs.
    m.rng.seed(m.options.seed);
    PlanContext pc{*m.pool, m.rng, m.opset};
    return execute_plan(plan, std::move(values), pc);
}

}  // namespace hearth::onnx
