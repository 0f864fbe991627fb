// hearth/template — the tree-walking evaluator: executes statements, evaluates
// expressions with Jinja2/Python semantics, and enforces the resource limits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "template/ast.h"
#include "template/value.h"

namespace hearth::tmpl {

struct Limits {
    size_t max_output_bytes = 64u << 20;       // rendered text and any intermediate string
    int64_t max_loop_iterations = 10'000'000;  // summed over all loops of one render
    int max_call_depth = 200;                  // nested macro / caller calls
    int max_parse_depth = 200;                 // expression and block nesting
};

using Frame = std::unordered_map<std::string, Value>;
using FramePtr = std::shared_ptr<Frame>;

class Interpreter {
public:
    Interpreter(const Limits& limits, FramePtr root, std::shared_ptr<const Frame> globals);
    ~Interpreter();
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    std::string render(const Body& body);

    Value eval(const Expr& e);
    Value call(const Value& fn, const CallArgs& args, const Expr* at = nullptr);
    const Limits& limits() const { return limits_; }
    void tick(int64_t n = 1);                     // n loop iterations (or as much work); throws past the limit
    void check_size(size_t bytes) const;          // throws when a string grows past the limit
    int64_t now_override = -1;                    // seconds since epoch for strftime_now; <0: real clock
    // Namespaces and lists/dicts changed in place (list.append, dict.update) are the only
    // containers that can gain a reference to a newer one, so the only way to build
    // reference cycles; they are kept here and emptied when the render ends so that
    // nothing leaks (and no long chain is destroyed recursively mid-render).
    void track(const std::shared_ptr<Dict>& d);
    void track(const std::shared_ptr<List>& l);
    // Bytes that in-place mutation adds to template data (16 per element plus string
    // text), summed over the render and bounded by max_output_bytes like any string.
    void charge_data(size_t bytes);

private:
    struct CallScope;  // one macro or caller() invocation (interpreter.cpp)
    enum class Flow { Normal, Break, Continue };

    Flow exec_body(const Body& body);
    Flow exec(const Node& n);
    Flow exec_for(const Node& n);
    void exec_set(const Node& n);
    void exec_call_block(const Node& n);
    std::string capture(const Body& body);
    Value make_macro(const Node& n);
    Value apply_filter_chain(const Expr& chain, Value input);
    Value eval_binary(const Expr& e);
    Value eval_compare(const Expr& e);
    Value eval_call(const Expr& e, const Value* caller = nullptr);
    CallArgs eval_args(const Expr& e, size_t first);
    Value lookup(const std::string& name) const;
    void assign(const Target& t, const Value& v, const Node& at);
    void emit(const std::string& s);

    Limits limits_;
    std::vector<FramePtr> frames_;
    std::vector<std::shared_ptr<Dict>> mutated_dicts_;  // namespaces included
    std::vector<std::shared_ptr<List>> mutated_lists_;
    size_t data_bytes_ = 0;
    std::shared_ptr<const Frame> globals_;
    std::string* out_ = nullptr;
    int64_t iterations_ = 0;
    int call_depth_ = 0;
};

// Attribute access `obj.name` (dict keys, bound string/dict/list methods); undefined when absent.
Value get_attr(Interpreter& in, const Value& obj, const std::string& name);
// Item access `obj[key]`; undefined when absent.
Value get_item(Interpreter& in, const Value& obj, const Value& key);
// Python slicing `obj[start:stop:step]`.
Value slice_value(const Value& obj, const Value& start, const Value& stop, const Value& step);
// The elements a `for` loop iterates over (dict → keys, string → characters).
std::vector<Value> iterate(const Value& v);

// Filters and tests by name. Throw TemplateError for unknown names and bad arguments.
Value apply_filter(Interpreter& in, const std::string& name, const Value& input, const CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& input, const CallArgs& args);
bool filter_exists(const std::string& name);
bool test_exists(const std::string& name);
// Global functions: range, dict, namespace, raise_exception, strftime_now, ...
std::shared_ptr<Frame> make_globals();

}  // namespace hearth::tmpl
