// The execution plan of one graph: values numbered into slots, nodes in topological order
// with their kernels, constants (initializers and folded subgraphs) resolved at load time,
// and for every step the slots whose last use it is, so their buffers are released.
#pragma once

#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/thread_pool.h"
#include "onnx/graph.h"
#include "onnx/op_context.h"

namespace hearth::onnx {

struct Plan;

struct Step {
    const Node* node = nullptr;
    OpFn fn = nullptr;               // nullptr for If (run by the executor)
    std::vector<int> inputs;         // -1 for an omitted input
    std::vector<int> outputs;        // -1 for an omitted output
    std::vector<int> release;        // slots whose last use is this step
    bool fused_input_leaky = false;  // Conv, ConvTranspose: input 0 goes through LeakyRelu(leaky_alpha) first
    float leaky_alpha = 0.01f;
    bool fused_residual = false;     // Conv: a following Add of input 3 is fused (output = Add's)
    // If: the branches and, per branch, the slots of this plan feeding its captures.
    std::unique_ptr<Plan> then_plan, else_plan;
    std::vector<int> then_captures, else_captures;
};

struct Plan {
    std::vector<std::string> slot_names;
    std::vector<const Tensor*> constants;     // per slot, non-null for constants
    std::vector<std::unique_ptr<Tensor>> owned_constants;  // folded values
    std::vector<int> input_slots;              // per graph input (without a fixed initializer)
    std::vector<std::string> input_names;
    std::vector<std::string> capture_names;    // outer-scope values this graph reads
    std::vector<int> capture_slots;
    std::vector<int> output_slots;
    std::vector<Step> steps;
    int folded_nodes = 0;
};

struct PlanContext {
    ThreadPool& pool;
    std::mt19937_64& rng;
    int64_t opset;
};

// Builds the plan of a graph; outer holds the names visible from enclosing graphs.
Result<std::unique_ptr<Plan>> build_plan(const Graph& graph, const std::set<std::string>& outer, PlanContext& pc);

// Runs a plan. `values` gives a tensor for every input slot and capture slot (by slot).
Result<std::vector<Tensor>> execute_plan(const Plan& plan, std::vector<const Tensor*> values, PlanContext& pc);

}  // namespace hearth::onnx
