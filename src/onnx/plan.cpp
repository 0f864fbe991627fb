// Planning (slot numbering, topological order, constant folding, liveness) and execution.
#include "onnx/plan.h"

#include <cmath>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <queue>

#include "onnx/tensor_util.h"

namespace hearth::onnx {

namespace {

// Names a graph reads from enclosing scopes (recursively through its own subgraphs).
std::set<std::string> free_names(const Graph& g) {
    std::set<std::string> defined, used;
    for (const auto& in : g.inputs) defined.insert(in.name);
    for (const auto& [name, t] : g.initializers) defined.insert(name);
    for (const auto& n : g.nodes)
        for (const auto& o : n.outputs)
            if (!o.empty()) defined.insert(o);
    for (const auto& n : g.nodes) {
        for (const auto& i : n.inputs)
            if (!i.empty()) used.insert(i);
        for (const auto& [key, a] : n.attributes)
            if (a.kind == Attribute::Kind::Graph && a.g) {
                auto inner = free_names(*a.g);
                used.insert(inner.begin(), inner.end());
            }
    }
    for (const auto& o : g.outputs) used.insert(o.name);
    std::set<std::string> out;
    for (const auto& u : used)
        if (!defined.count(u)) out.insert(u);
    return out;
}

// HEARTH_ONNX_PROFILE=1: CPU time per op type, printed to stderr after each top-level
// run; =2 also the 20 slowest nodes. 0 when unset.
int profile_level() {
    static const int level = [] {
        const char* v = std::getenv("HEARTH_ONNX_PROFILE");
        if (!v || !*v || *v == '0') return 0;
        return *v == '2' ? 2 : 1;
    }();
    return level;
}

// Process CPU time: on a loaded machine it is steadier than wall time (workers spinning
// count too, so compare single-thread runs).
double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct OpProfile {
    std::map<std::string, std::pair<double, int>> by_op;
    std::vector<std::pair<double, std::string>> by_node;  // HEARTH_ONNX_PROFILE=2
    int depth = 0;
};
thread_local OpProfile op_profile;

// How many steps (or graph outputs, counted twice) read each slot.
std::vector<int> count_readers(const Plan& plan) {
    std::vector<int> readers(plan.slot_names.size(), 0);
    for (const Step& st : plan.steps) {
        for (int s : st.inputs)
            if (s >= 0) ++readers[static_cast<size_t>(s)];
        for (int s : st.then_captures) readers[static_cast<size_t>(s)] += 2;
        for (int s : st.else_captures) readers[static_cast<size_t>(s)] += 2;
    }
    for (int s : plan.output_slots) readers[static_cast<size_t>(s)] += 2;
    return readers;
}

void drop_steps(Plan& plan, const std::vector<bool>& removed) {
    std::vector<Step> kept;
    for (size_t i = 0; i < plan.steps.size(); ++i)
        if (!removed[i]) kept.push_back(std::move(plan.steps[i]));
    plan.steps = std::move(kept);
}

// The first step after `from` that reads slot s (steps.size() when none).
size_t next_reader(const Plan& plan, size_t from, int s) {
    for (size_t j = from + 1; j < plan.steps.size(); ++j)
        if (std::find(plan.steps[j].inputs.begin(), plan.steps[j].inputs.end(), s) != plan.steps[j].inputs.end()) return j;
    return plan.steps.size();
}

// A LeakyRelu whose only reader is a Conv's or ConvTranspose's data input is applied inside
// the convolution's input packing instead: one pass over a vocoder-sized activation less
// per residual block.
void fuse_leaky_into_conv(Plan& plan) {
    const std::vector<int> readers = count_readers(plan);
    std::vector<bool> removed(plan.steps.size(), false);
    for (size_t i = 0; i < plan.steps.size(); ++i) {
        Step& leaky = plan.steps[i];
        if (!leaky.fn || leaky.node->op_type != "LeakyRelu" || leaky.outputs.size() != 1 || leaky.inputs.empty()) continue;
        const int out = leaky.outputs[0];
        if (out < 0 || leaky.inputs[0] < 0 || readers[static_cast<size_t>(out)] != 1) continue;
        const size_t j = next_reader(plan, i, out);
        if (j == plan.steps.size()) continue;
        Step& conv = plan.steps[j];
        const Attribute* a = leaky.node->attribute("alpha");
        const float alpha = a && a->kind == Attribute::Kind::Float ? a->f : 0.01f;
        // The fused form max(v,0) + alpha*min(v,0) equals LeakyRelu for finite alphas only.
        if (conv.fn && (conv.node->op_type == "Conv" || conv.node->op_type == "ConvTranspose") && !conv.fused_input_leaky &&
            conv.inputs[0] == out && std::isfinite(alpha)) {
            conv.fused_input_leaky = true;
            conv.leaky_alpha = alpha;
            conv.inputs[0] = leaky.inputs[0];
            removed[i] = true;
        }
    }
    drop_steps(plan, removed);
}

// Add(Conv(...), r) where the Add is the Conv output's only reader: the Conv adds r in its
// output tile (input 3, see OpContext::residual) and writes the Add's output, saving a full
// read-add-write pass over a vocoder-sized tensor per residual block.
void fuse_residual_add_into_conv(Plan& plan) {
    const std::vector<int> readers = count_readers(plan);
    std::vector<bool> removed(plan.steps.size(), false);
    for (size_t i = 0; i < plan.steps.size(); ++i) {
        Step& conv = plan.steps[i];
        if (!conv.fn || conv.node->op_type != "Conv" || conv.outputs.size() != 1 || conv.inputs.size() > 3) continue;
        const int out = conv.outputs[0];
        if (out < 0 || readers[static_cast<size_t>(out)] != 1) continue;
        const size_t j = next_reader(plan, i, out);
        if (j == plan.steps.size()) continue;
        Step& add = plan.steps[j];
        if (!add.fn || add.node->op_type != "Add" || add.inputs.size() != 2 || add.outputs.size() != 1 || add.outputs[0] < 0) continue;
        const int r = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
        if (r < 0 || r == out) continue;
        // r must exist when the Conv runs: computed before it (or a graph input/constant).
        bool made_later = false;
        for (size_t k = i; k < j && !made_later; ++k)
            made_later = std::find(plan.steps[k].outputs.begin(), plan.steps[k].outputs.end(), r) != plan.steps[k].outputs.end();
        if (made_later) continue;
        conv.inputs.resize(3, -1);
        conv.inputs.push_back(r);
        conv.fused_residual = true;
        conv.outputs[0] = add.outputs[0];
        add.inputs.clear();  // keeps it from matching again below
        removed[j] = true;
    }
    drop_steps(plan, removed);
}

}  // namespace

Result<std::unique_ptr<Plan>> build_plan(const Graph& graph, const std::set<std::string>& outer, PlanContext& pc) {
    auto plan = std::make_unique<Plan>();
    std::map<std::string, int> slot_of;
    auto new_slot = [&](const std::string& name) {
        const int s = static_cast<int>(plan->slot_names.size());
        plan->slot_names.push_back(name);
        plan->constants.push_back(nullptr);
        slot_of[name] = s;
        return s;
    };
    std::set<std::string> input_names;
    for (const auto& in : graph.inputs) {
        if (slot_of.count(in.name)) return make_error(fmt::format("graph input \"{}\" declared twice", in.name));
        input_names.insert(in.name);
        const int s = new_slot(in.name);
        plan->input_slots.push_back(s);
        plan->input_names.push_back(in.name);
    }
    for (const auto& [name, t] : graph.initializers) {
        // An initializer that is also a graph input is a default the caller may override.
        int s = slot_of.count(name) ? slot_of[name] : new_slot(name);
        if (!input_names.count(name)) plan->constants[static_cast<size_t>(s)] = &t;
    }
    for (const auto& n : graph.nodes)
        for (const auto& o : n.outputs) {
            if (o.empty()) continue;
            if (slot_of.count(o)) return make_error(fmt::format("{}: value \"{}\" is defined twice", n.label(), o));
            new_slot(o);
        }
    // Everything else a node or output reads must come from an enclosing graph.
    auto resolve = [&](const std::string& name, const std::string& who) -> Result<int> {
        if (auto it = slot_of.find(name); it != slot_of.end()) return it->second;
        if (!outer.count(name)) return make_error(fmt::format("{} reads undefined value \"{}\"", who, name));
        const int s = new_slot(name);
        plan->capture_names.push_back(name);
        plan->capture_slots.push_back(s);
        return s;
    };

    // Producer of every slot, for the topological sort.
    const size_t n_nodes = graph.nodes.size();
    std::vector<std::vector<int>> node_reads(n_nodes);  // slots, including subgraph captures
    for (size_t i = 0; i < n_nodes; ++i) {
        const Node& n = graph.nodes[i];
        for (const auto& in : n.inputs) {
            if (in.empty()) continue;
            auto s = resolve(in, n.label());
            if (!s) return s.error();
            node_reads[i].push_back(*s);
        }
        for (const auto& [key, a] : n.attributes)
            if (a.kind == Attribute::Kind::Graph && a.g)
                for (const auto& name : free_names(*a.g)) {
                    auto s = resolve(name, n.label());
                    if (!s) return s.error();
                    node_reads[i].push_back(*s);
                }
    }
    for (const auto& o : graph.outputs) {
        auto s = resolve(o.name, fmt::format("graph output \"{}\"", o.name));
        if (!s) return s.error();
        plan->output_slots.push_back(*s);
    }
    std::vector<int> producer(plan->slot_names.size(), -1);
    for (size_t i = 0; i < n_nodes; ++i)
        for (const auto& o : graph.nodes[i].outputs)
            if (!o.empty()) producer[static_cast<size_t>(slot_of[o])] = static_cast<int>(i);

    // Kahn's algorithm, preferring the file order among ready nodes.
    std::vector<int> pending(n_nodes, 0);
    std::vector<std::vector<int>> consumers(n_nodes);
    for (size_t i = 0; i < n_nodes; ++i)
        for (int s : node_reads[i])
            if (int p = producer[static_cast<size_t>(s)]; p >= 0) {
                if (p == static_cast<int>(i)) return make_error(fmt::format("{} reads its own output", graph.nodes[i].label()));
                ++pending[i];
                consumers[static_cast<size_t>(p)].push_back(static_cast<int>(i));
            }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (size_t i = 0; i < n_nodes; ++i)
        if (pending[i] == 0) ready.push(static_cast<int>(i));
    std::vector<int> order;
    while (!ready.empty()) {
        const int i = ready.top();
        ready.pop();
        order.push_back(i);
        for (int c : consumers[static_cast<size_t>(i)])
            if (--pending[static_cast<size_t>(c)] == 0) ready.push(c);
    }
    if (order.size() != n_nodes) return make_error("the graph has a cycle");

    // Names visible to subgraphs: everything here plus everything outside.
    std::set<std::string> visible = outer;
    for (const auto& name : plan->slot_names) visible.insert(name);

    for (int i : order) {
        const Node& n = graph.nodes[static_cast<size_t>(i)];
        Step step;
        step.node = &n;
        if (n.outputs.empty()) return make_error(fmt::format("{} has no outputs", n.label()));
        if (!n.domain.empty() && n.domain != "ai.onnx")
            return make_error(fmt::format("unsupported operator {} (domain {}) in node \"{}\"", n.op_type, n.domain, n.name));
        if (n.op_type == "Loop") {
            const Attribute* body = n.attribute("body");
            if (!body || !body->g) return make_error(fmt::format("{}: missing body", n.label()));
            auto bp = build_plan(*body->g, visible, pc);
            if (!bp) return make_error(fmt::format("{}: body: {}", n.label(), bp.error().message));
            const size_t carried = n.inputs.size() < 2 ? 0 : n.inputs.size() - 2;
            if ((*bp)->input_slots.size() != 2 + carried || (*bp)->output_slots.size() < 1 + carried ||
                n.outputs.size() != (*bp)->output_slots.size() - 1)
                return make_error(fmt::format("{}: body inputs/outputs do not match the loop-carried values", n.label()));
            for (const auto& name : (*bp)->capture_names) step.then_captures.push_back(slot_of.at(name));
            step.then_plan = std::move(*bp);
        } else if (n.op_type == "If") {
            const Attribute* tb = n.attribute("then_branch");
            const Attribute* eb = n.attribute("else_branch");
            if (!tb || !eb || !tb->g || !eb->g) return make_error(fmt::format("{}: missing then/else branch", n.label()));
            auto tp = build_plan(*tb->g, visible, pc);
            if (!tp) return make_error(fmt::format("{}: then_branch: {}", n.label(), tp.error().message));
            auto ep = build_plan(*eb->g, visible, pc);
            if (!ep) return make_error(fmt::format("{}: else_branch: {}", n.label(), ep.error().message));
            if ((*tp)->output_slots.size() != n.outputs.size() || (*ep)->output_slots.size() != n.outputs.size())
                return make_error(fmt::format("{}: branches must have one output per node output", n.label()));
            for (const auto& name : (*tp)->capture_names) step.then_captures.push_back(slot_of.at(name));
            for (const auto& name : (*ep)->capture_names) step.else_captures.push_back(slot_of.at(name));
            step.then_plan = std::move(*tp);
            step.else_plan = std::move(*ep);
        } else {
            step.fn = find_op(n.op_type);
            if (!step.fn) return make_error(fmt::format("unsupported operator {} in node \"{}\"", n.op_type, n.name));
        }
        for (const auto& in : n.inputs) step.inputs.push_back(in.empty() ? -1 : slot_of.at(in));
        for (const auto& o : n.outputs) step.outputs.push_back(o.empty() ? -1 : slot_of.at(o));

        // Constant folding: a deterministic node whose inputs are all constants runs now.
        bool foldable = step.fn && !op_is_nondeterministic(n.op_type) && !n.outputs.empty();
        for (int s : node_reads[static_cast<size_t>(i)])
            if (!plan->constants[static_cast<size_t>(s)]) foldable = false;
        if (foldable) {
            std::vector<const Tensor*> ins;
            for (int s : step.inputs) ins.push_back(s < 0 ? nullptr : plan->constants[static_cast<size_t>(s)]);
            std::vector<Tensor> outs(n.outputs.size());
            OpContext ctx{n, ins, outs, pc.pool, pc.rng, pc.opset};
            auto r = step.fn(ctx);
            if (!r) return r.error();
            for (size_t k = 0; k < outs.size(); ++k) {
                if (step.outputs[k] < 0) continue;
                if (auto v = check_tensor(outs[k]); !v)
                    return make_error(fmt::format("{}: bad output {}: {}", n.label(), k, v.error().message));
                if (auto w = charge_work(outs[k].numel()); !w) return make_error(fmt::format("{}: {}", n.label(), w.error().message));
                plan->owned_constants.push_back(std::make_unique<Tensor>(std::move(outs[k])));
                plan->constants[static_cast<size_t>(step.outputs[k])] = plan->owned_constants.back().get();
            }
            ++plan->folded_nodes;
            continue;
        }
        plan->steps.push_back(std::move(step));
    }

    if (!std::getenv("HEARTH_ONNX_NO_FUSION")) {
        fuse_leaky_into_conv(*plan);
        fuse_residual_add_into_conv(*plan);
    }

    // Liveness: the last step reading each computed slot releases it (graph outputs stay).
    std::vector<int> last_use(plan->slot_names.size(), -1);
    for (size_t si = 0; si < plan->steps.size(); ++si) {
        const Step& st = plan->steps[si];
        for (int s : st.inputs)
            if (s >= 0) last_use[static_cast<size_t>(s)] = static_cast<int>(si);
        for (int s : st.then_captures) last_use[static_cast<size_t>(s)] = static_cast<int>(si);
        for (int s : st.else_captures) last_use[static_cast<size_t>(s)] = static_cast<int>(si);
        // An output nobody reads is released right after it is made.
        for (int s : st.outputs)
            if (s >= 0 && last_use[static_cast<size_t>(s)] < static_cast<int>(si)) last_use[static_cast<size_t>(s)] = static_cast<int>(si);
    }
    for (int s : plan->output_slots) last_use[static_cast<size_t>(s)] = -1;
    for (size_t s = 0; s < last_use.size(); ++s)
        if (last_use[s] >= 0 && !plan->constants[s]) plan->steps[static_cast<size_t>(last_use[s])].release.push_back(static_cast<int>(s));
    return plan;
}

namespace {

// Loop (opset 11+): inputs M (trip limit), cond, carried values; the body maps (iteration,
// cond, carried...) to (cond, carried..., scan outputs...); scan outputs stack on a new axis 0.
constexpr int64_t kMaxLoopIterations = int64_t{1} << 20;

Result<std::vector<Tensor>> run_loop(const Step& step, const std::vector<const Tensor*>& ins,
                                     const std::vector<const Tensor*>& values, PlanContext& pc) {
    const Node& node = *step.node;
    const Plan& body = *step.then_plan;
    int64_t max_trip = std::numeric_limits<int64_t>::max();
    if (ins.size() > 0 && ins[0]) {
        if (ins[0]->numel() != 1) return make_error(fmt::format("{}: M must be a scalar", node.label()));
        // Clamped in double: casting NaN or a value past int64 to int64 is undefined.
        const double m = read_scalar(*ins[0]);
        max_trip = !(m > 0) ? 0 : m >= 0x1p62 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(m);
    }
    bool cond = true;
    if (ins.size() > 1 && ins[1]) {
        if (ins[1]->numel() != 1) return make_error(fmt::format("{}: cond must be a scalar", node.label()));
        cond = read_scalar(*ins[1]) != 0.0;
    }
    std::vector<Tensor> carried;
    for (size_t k = 2; k < ins.size(); ++k) {
        if (!ins[k]) return make_error(fmt::format("{}: loop-carried input {} is missing", node.label(), k));
        carried.push_back(*ins[k]);
    }
    const size_t n_carried = carried.size();
    const size_t n_scan = body.output_slots.size() - 1 - n_carried;
    std::vector<std::vector<Tensor>> scans(n_scan);
    for (int64_t i = 0; i < max_trip && cond; ++i) {
        if (i >= kMaxLoopIterations) return make_error(fmt::format("{}: more than {} iterations", node.label(), kMaxLoopIterations));
        if (auto w = charge_work(1); !w) return make_error(fmt::format("{}: {}", node.label(), w.error().message));
        const Tensor iter = Tensor::from_int64s({}, std::span<const int64_t>(&i, 1));
        Tensor cond_in = make_tensor(DataType::Bool, {});
        cond_in.bytes[0] = 1;
        std::vector<const Tensor*> sub(body.slot_names.size(), nullptr);
        sub[static_cast<size_t>(body.input_slots[0])] = &iter;
        sub[static_cast<size_t>(body.input_slots[1])] = &cond_in;
        for (size_t k = 0; k < n_carried; ++k) sub[static_cast<size_t>(body.input_slots[2 + k])] = &carried[k];
        for (size_t k = 0; k < step.then_captures.size(); ++k)
            sub[static_cast<size_t>(body.capture_slots[k])] = values[static_cast<size_t>(step.then_captures[k])];
        auto r = execute_plan(body, std::move(sub), pc);
        if (!r) return make_error(fmt::format("{}: iteration {}: {}", node.label(), i, r.error().message));
        if ((*r)[0].numel() != 1) return make_error(fmt::format("{}: body cond must be a scalar", node.label()));
        cond = read_scalar((*r)[0]) != 0.0;
        for (size_t k = 0; k < n_carried; ++k) carried[k] = std::move((*r)[1 + k]);
        for (size_t j = 0; j < n_scan; ++j) {
            Tensor& t = (*r)[1 + n_carried + j];
            if (!scans[j].empty() && (t.shape != scans[j][0].shape || t.dtype != scans[j][0].dtype))
                return make_error(fmt::format("{}: scan output {} changes shape between iterations", node.label(), j));
            // The stacked result is checked as it grows, not once all iterations are held.
            std::vector<int64_t> stacked{static_cast<int64_t>(scans[j].size()) + 1};
            stacked.insert(stacked.end(), t.shape.begin(), t.shape.end());
            if (auto chk = check_shape_size(stacked); !chk)
                return make_error(fmt::format("{}: scan output {}: {}", node.label(), j, chk.error().message));
            scans[j].push_back(std::move(t));
        }
    }
    std::vector<Tensor> outs = std::move(carried);
    for (auto& s : scans) {
        std::vector<int64_t> shape{static_cast<int64_t>(s.size())};
        DataType dtype = DataType::Float;
        if (!s.empty()) {
            shape.insert(shape.end(), s[0].shape.begin(), s[0].shape.end());
            dtype = s[0].dtype;
        }
        if (auto chk = check_shape_size(shape); !chk) return make_error(fmt::format("{}: {}", node.label(), chk.error().message));
        Tensor y = make_tensor(dtype, shape);
        size_t off = 0;
        for (const Tensor& t : s) {
            if (!t.bytes.empty()) std::memcpy(y.bytes.data() + off, t.bytes.data(), t.bytes.size());
            off += t.bytes.size();
        }
        outs.push_back(std::move(y));
    }
    return outs;
}

}  // namespace

Result<std::vector<Tensor>> execute_plan(const Plan& plan, std::vector<const Tensor*> values, PlanContext& pc) {
    const size_t n = plan.slot_names.size();
    values.resize(n, nullptr);
    for (size_t s = 0; s < n; ++s)
        if (plan.constants[s]) values[s] = plan.constants[s];
    std::vector<Tensor> owned(n);
    std::vector<const Tensor*> ins;
    const bool profile = profile_level() > 0;
    ++op_profile.depth;
    struct DepthGuard {
        ~DepthGuard() {
            if (--op_profile.depth == 0 && profile_level() > 0) {
                double total = 0;
                for (const auto& [op, v] : op_profile.by_op) total += v.first;
                std::fprintf(stderr, "hearth onnx profile: %.3f s\n", total);
                for (const auto& [op, v] : op_profile.by_op)
                    std::fprintf(stderr, "  %-20s %8.3f ms %5.1f%% (%d calls)\n", op.c_str(), v.first * 1e3,
                                 total > 0 ? 100.0 * v.first / total : 0.0, v.second);
                op_profile.by_op.clear();
                std::sort(op_profile.by_node.rbegin(), op_profile.by_node.rend());
                for (size_t i = 0; i < op_profile.by_node.size() && i < 20; ++i)
                    std::fprintf(stderr, "  %8.3f ms  %s\n", op_profile.by_node[i].first * 1e3, op_profile.by_node[i].second.c_str());
                op_profile.by_node.clear();
            }
        }
    } depth_guard;
    for (const Step& step : plan.steps) {
        const Node& node = *step.node;
        ins.clear();
        for (size_t k = 0; k < step.inputs.size(); ++k) {
            const int s = step.inputs[k];
            if (s >= 0 && !values[static_cast<size_t>(s)])
                return make_error(fmt::format("{}: input \"{}\" has no value", node.label(), plan.slot_names[static_cast<size_t>(s)]));
            ins.push_back(s < 0 ? nullptr : values[static_cast<size_t>(s)]);
        }
        std::vector<Tensor> outs(step.outputs.size());
        if (step.fn) {
            OpContext ctx{node, ins, outs, pc.pool, pc.rng, pc.opset};
            if (step.fused_input_leaky) ctx.input_leaky_alpha = &step.leaky_alpha;
            if (step.fused_residual) ctx.residual = ins[3];
            // Inputs 0 and 1 may donate their buffers when this step releases them.
            for (int k = 0; k < 2 && k < static_cast<int>(step.inputs.size()); ++k) {
                const int s = step.inputs[static_cast<size_t>(k)];
                if (s >= 0 && values[static_cast<size_t>(s)] == &owned[static_cast<size_t>(s)] &&
                    std::find(step.release.begin(), step.release.end(), s) != step.release.end())
                    ctx.dying[k] = &owned[static_cast<size_t>(s)];
            }
            const double t0 = profile ? cpu_seconds() : 0.0;
            auto r = step.fn(ctx);
            if (!r) return r.error();
            if (profile) {
                auto& e = op_profile.by_op[node.op_type];
                const double dt = cpu_seconds() - t0;
                e.first += dt;
                ++e.second;
                if (profile_level() >= 2) {
                    std::string what = node.label();
                    for (const Tensor* t : ins)
                        if (t) what.append(" ").append(shape_string(t->shape));
                    if (step.fused_input_leaky) what += " +leaky";
                    if (step.fused_residual) what += " +add";
                    op_profile.by_node.emplace_back(dt, what);
                }
            }
        } else if (node.op_type == "Loop") {
            // then_plan is the body; see run_loop.
            auto r = run_loop(step, ins, values, pc);
            if (!r) return r.error();
            outs = std::move(*r);
        } else {
            // If: run the chosen branch with its captured values.
            if (ins.empty() || !ins[0] || ins[0]->numel() != 1) return make_error(fmt::format("{}: cond must be one value", node.label()));
            const bool cond = read_scalar(*ins[0]) != 0.0;
            const Plan& branch = cond ? *step.then_plan : *step.else_plan;
            const auto& caps = cond ? step.then_captures : step.else_captures;
            std::vector<const Tensor*> sub(branch.slot_names.size(), nullptr);
            for (size_t k = 0; k < caps.size(); ++k) {
                const Tensor* v = values[static_cast<size_t>(caps[k])];
                if (!v) return make_error(fmt::format("{}: captured value \"{}\" has no value", node.label(), branch.capture_names[k]));
                sub[static_cast<size_t>(branch.capture_slots[k])] = v;
            }
            auto r = execute_plan(branch, std::move(sub), pc);
            if (!r) return make_error(fmt::format("{}: {}", node.label(), r.error().message));
            outs = std::move(*r);
        }
        for (size_t k = 0; k < outs.size(); ++k) {
            const int s = step.outputs[k];
            if (s < 0) continue;
            // Every value downstream kernels see has dims within the element limit (check_shape_size).
            if (auto v = check_tensor(outs[k]); !v)
                return make_error(fmt::format("{}: bad output {}: {}", node.label(), k, v.error().message));
            if (auto w = charge_work(outs[k].numel()); !w) return make_error(fmt::format("{}: {}", node.label(), w.error().message));
            owned[static_cast<size_t>(s)] = std::move(outs[k]);
            values[static_cast<size_t>(s)] = &owned[static_cast<size_t>(s)];
        }
        for (int s : step.release) {
            recycle_tensor(std::move(owned[static_cast<size_t>(s)]));
            owned[static_cast<size_t>(s)] = Tensor{};
            values[static_cast<size_t>(s)] = nullptr;
        }
    }
    std::vector<Tensor> result;
    result.reserve(plan.output_slots.size());
    for (int s : plan.output_slots) {
        const Tensor* v = values[static_cast<size_t>(s)];
        if (!v) return make_error(fmt::format("graph output \"{}\" has no value", plan.slot_names[static_cast<size_t>(s)]));
        if (v == &owned[static_cast<size_t>(s)]) result.push_back(std::move(owned[static_cast<size_t>(s)]));
        else result.push_back(*v);
        // The same slot may be listed twice as an output.
        values[static_cast<size_t>(s)] = &result.back();
    }
    return result;
}

}  // namespace hearth::onnx
