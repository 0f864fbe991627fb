#include "template/interpreter.h"

#include <cmath>

#include "template/strings.h"

namespace hearth::tmpl {
namespace {

[[noreturn]] void fail(const std::string& msg) { throw TemplateError{msg}; }

Value int_or_float(int64_t a, int64_t b, char op) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
        case '+': overflow = __builtin_add_overflow(a, b, &r); break;
        case '-': overflow = __builtin_sub_overflow(a, b, &r); break;
        case '*': overflow = __builtin_mul_overflow(a, b, &r); break;
    }
    if (!overflow) return Value::integer(r);
    double x = double(a), y = double(b);
    return Value::number(op == '+' ? x + y : op == '-' ? x - y : x * y);
}

// Approximate bytes held by a list: its strings plus a fixed cost per element.
size_t shallow_size(const Value& v) {
    size_t n = 0;
    for (const auto& item : v.list->items) n += 16 + (item.is_string() ? item.s.size() : 0);
    return n;
}

std::string repeat(Interpreter& in, const std::string& s, int64_t n) {
    if (n <= 0 || s.empty()) return "";
    if (double(s.size()) * double(n) > double(in.limits().max_output_bytes)) fail("string repetition result too large");
    std::string out;
    out.reserve(s.size() * size_t(n));
    for (int64_t k = 0; k < n; ++k) out += s;
    return out;
}

}  // namespace

Interpreter::Interpreter(const Limits& limits, FramePtr root, std::shared_ptr<const Frame> globals)
    : limits_(limits), globals_(std::move(globals)) {
    frames_.push_back(root ? std::move(root) : std::make_shared<Frame>());
}

Interpreter::~Interpreter() {
    frames_.clear();
    for (auto& d : mutated_dicts_) d->clear();
    for (auto& l : mutated_lists_) {
        std::vector<Value> old;
        old.swap(l->items);
    }
}

void Interpreter::track(const std::shared_ptr<Dict>& d) {
    if (d->tracked) return;
    d->tracked = true;
    charge_data(sizeof(Dict));
    mutated_dicts_.push_back(d);
}

void Interpreter::track(const std::shared_ptr<List>& l) {
    if (l->tracked) return;
    l->tracked = true;
    charge_data(sizeof(List));
    mutated_lists_.push_back(l);
}

void Interpreter::charge_data(size_t bytes) {
    data_bytes_ += bytes;
    if (data_bytes_ > limits_.max_output_bytes) fail("template data size limit exceeded");
}

// Closures hold their defining frames weakly: a frame may store the macro itself, and a
// strong reference would make a cycle. A frame that has ended is simply skipped.
static std::vector<std::weak_ptr<Frame>> weaken(const std::vector<FramePtr>& frames) {
    return std::vector<std::weak_ptr<Frame>>(frames.begin(), frames.end());
}
static std::vector<FramePtr> strengthen(const std::vector<std::weak_ptr<Frame>>& frames) {
    std::vector<FramePtr> out;
    for (const auto& w : frames)
        if (auto f = w.lock()) out.push_back(std::move(f));
    return out;
}

void Interpreter::tick(int64_t n) {
    iterations_ += n;
    if (iterations_ > limits_.max_loop_iterations) fail("loop iteration limit exceeded");
}

void Interpreter::check_size(size_t bytes) const {
    if (bytes > limits_.max_output_bytes) fail("output size limit exceeded");
}

void Interpreter::emit(const std::string& s) {
    out_->append(s);
    check_size(out_->size());
}

std::string Interpreter::render(const Body& body) {
    std::string out;
    out_ = &out;
    exec_body(body);
    out_ = nullptr;
    return out;
}

std::string Interpreter::capture(const Body& body) {
    std::string local;
    std::string* saved = out_;
    out_ = &local;
    try {
        exec_body(body);
    } catch (...) {
        out_ = saved;
        throw;
    }
    out_ = saved;
    return local;
}

Interpreter::Flow Interpreter::exec_body(const Body& body) {
    for (const auto& n : body) {
        Flow f = exec(*n);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Node& n) {
    try {
        switch (n.type) {
            case NodeType::Text: emit(n.text); return Flow::Normal;
            case NodeType::Output: emit(eval(*n.expr).str(limits_.max_output_bytes)); return Flow::Normal;
            case NodeType::If:
                for (const auto& [cond, body] : n.branches)
                    if (eval(*cond).truthy()) return exec_body(body);
                return exec_body(n.else_body);
            case NodeType::For: return exec_for(n);
            case NodeType::Set: assign(n.target, eval(*n.expr), n); return Flow::Normal;
            case NodeType::SetBlock: {
                Value v = Value::string(capture(n.body));
                if (n.expr) v = apply_filter_chain(*n.expr, v);
                assign(n.target, v, n);
                return Flow::Normal;
            }
            case NodeType::Macro: (*frames_.back())[n.text] = make_macro(n); return Flow::Normal;
            case NodeType::CallBlock: exec_call_block(n); return Flow::Normal;
            case NodeType::FilterBlock: {
                Value v = Value::string(capture(n.body));
                emit(apply_filter_chain(*n.expr, v).str(limits_.max_output_bytes));
                return Flow::Normal;
            }
            case NodeType::With: {
                auto frame = std::make_shared<Frame>();
                for (const auto& [name, e] : n.params) (*frame)[name] = eval(*e);
                frames_.push_back(frame);
                Flow f;
                try { f = exec_body(n.body); } catch (...) { frames_.pop_back(); throw; }
                frames_.pop_back();
                return f;
            }
            case NodeType::Scope: return exec_body(n.body);
            case NodeType::Break: return Flow::Break;
            case NodeType::Continue: return Flow::Continue;
        }
    } catch (TemplateError& err) {
        if (err.line == 0) { err.line = n.line; err.column = n.column; }
        throw;
    }
    return Flow::Normal;
}

void Interpreter::assign(const Target& t, const Value& v, const Node& at) {
    if (!t.ns_attr.empty()) {
        Value ns = lookup(t.names[0]);
        if (!ns.is_dict() || !ns.dict->is_namespace) fail("cannot assign attribute on non-namespace object");
        ns.dict->set(t.ns_attr, v);
        return;
    }
    Frame& f = *frames_.back();
    if (!t.tuple) {
        f[t.names[0]] = v;
        return;
    }
    std::vector<Value> items = iterate(v);
    if (items.size() != t.names.size())
        fail("cannot unpack " + std::to_string(items.size()) + " values into " + std::to_string(t.names.size()) + " targets");
    for (size_t k = 0; k < items.size(); ++k) f[t.names[k]] = items[k];
}

Interpreter::Flow Interpreter::exec_for(const Node& n) {
    Value seq = eval(*n.expr);
    if (seq.is_none()) fail("'NoneType' object is not iterable");
    if (seq.is_number()) fail("'" + type_name(seq) + "' object is not iterable");
    std::vector<Value> items = iterate(seq);
    auto frame = std::make_shared<Frame>();
    frames_.push_back(frame);
    struct Pop {
        std::vector<FramePtr>& f;
        ~Pop() { f.pop_back(); }
    } pop{frames_};
    if (n.cond) {
        std::vector<Value> kept;
        for (const auto& item : items) {
            tick();
            assign(n.target, item, n);
            if (eval(*n.cond).truthy()) kept.push_back(item);
        }
        items = std::move(kept);
    }
    const size_t len = items.size();
    for (size_t k = 0; k < len; ++k) {
        tick();
        Value loop = Value::make_dict();
        Dict& d = *loop.dict;
        d.set("index", Value::integer(int64_t(k + 1)));
        d.set("index0", Value::integer(int64_t(k)));
        d.set("revindex", Value::integer(int64_t(len - k)));
        d.set("revindex0", Value::integer(int64_t(len - k - 1)));
        d.set("first", Value::boolean(k == 0));
        d.set("last", Value::boolean(k + 1 == len));
        d.set("length", Value::integer(int64_t(len)));
        d.set("depth", Value::integer(1));
        d.set("depth0", Value::integer(0));
        d.set("previtem", k > 0 ? items[k - 1] : Value());
        d.set("nextitem", k + 1 < len ? items[k + 1] : Value());
        d.set("cycle", Value::callable("cycle", [k](Interpreter&, const CallArgs& a) {
                  if (a.positional.empty()) fail("no items for cycling given");
                  return a.positional[k % a.positional.size()];
              }));
        (*frame)["loop"] = loop;
        assign(n.target, items[k], n);
        Flow f = exec_body(n.body);
        if (f == Flow::Break) break;
    }
    if (len == 0) {
        frame->erase("loop");
        return exec_body(n.else_body);
    }
    return Flow::Normal;
}

// The scope of one macro or caller() invocation: recursion is bounded, the body sees
// the frames of its definition site plus a fresh local frame, and the caller's
// frames come back on exit (also when the body fails).
struct Interpreter::CallScope {
    Interpreter& in;
    std::vector<FramePtr> saved;
    FramePtr frame = std::make_shared<Frame>();

    CallScope(Interpreter& interpreter, const std::vector<std::weak_ptr<Frame>>& closure)
        : in(interpreter), saved(interpreter.frames_) {
        if (++in.call_depth_ > in.limits_.max_call_depth) {
            --in.call_depth_;
            fail("maximum macro recursion depth exceeded");
        }
        in.frames_ = strengthen(closure);
        in.frames_.push_back(frame);
    }
    ~CallScope() {
        in.frames_ = std::move(saved);
        --in.call_depth_;
    }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;
};

Value Interpreter::make_macro(const Node& n) {
    std::vector<std::weak_ptr<Frame>> closure = weaken(frames_);
    const Node* node = &n;
    return Value::callable(n.text, [closure, node](Interpreter& in, const CallArgs& args) {
        CallScope scope(in, closure);
        const FramePtr& frame = scope.frame;
        std::vector<Value> varargs;
        size_t np = node->params.size();
        for (size_t k = 0; k < args.positional.size(); ++k) {
            if (k < np) (*frame)[node->params[k].first] = args.positional[k];
            else varargs.push_back(args.positional[k]);
        }
        Value kwargs = Value::make_dict();
        for (const auto& [name, v] : args.named) {
            bool is_param = false;
            for (const auto& p : node->params) is_param |= p.first == name;
            if (is_param || name == "caller") (*frame)[name] = v;
            else kwargs.dict->set(name, v);
        }
        for (size_t k = 0; k < np; ++k) {
            const auto& [pname, def] = node->params[k];
            if (frame->count(pname)) continue;
            (*frame)[pname] = def ? in.eval(*def) : Value();
        }
        (*frame)["varargs"] = Value::make_list(std::move(varargs));
        (*frame)["kwargs"] = kwargs;
        return Value::string(in.capture(node->body));
    });
}

void Interpreter::exec_call_block(const Node& n) {
    const Node* self = &n;
    std::vector<std::weak_ptr<Frame>> closure = weaken(frames_);
    Value caller = Value::callable("caller", [closure, self](Interpreter& in, const CallArgs& args) {
        CallScope scope(in, closure);
        const FramePtr& frame = scope.frame;
        for (size_t k = 0; k < self->params.size(); ++k) {
            const auto& [pname, def] = self->params[k];
            if (const Value* v = args.get(pname, k)) (*frame)[pname] = *v;
            else (*frame)[pname] = def ? in.eval(*def) : Value();
        }
        return Value::string(in.capture(self->body));
    });
    emit(eval_call(*n.expr, &caller).str(limits_.max_output_bytes));
}

Value Interpreter::apply_filter_chain(const Expr& chain, Value input) {
    Value in = chain.children[0] ? apply_filter_chain(*chain.children[0], std::move(input)) : std::move(input);
    return apply_filter(*this, chain.name, in, eval_args(chain, 1));
}

Value Interpreter::lookup(const std::string& name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
        auto f = (*it)->find(name);
        if (f != (*it)->end()) return f->second;
    }
    if (globals_) {
        auto g = globals_->find(name);
        if (g != globals_->end()) return g->second;
    }
    return Value();
}

CallArgs Interpreter::eval_args(const Expr& e, size_t first) {
    CallArgs args;
    for (size_t k = first; k < e.children.size(); ++k) args.positional.push_back(eval(*e.children[k]));
    for (const auto& [name, ex] : e.kwargs) args.named.emplace_back(name, eval(*ex));
    return args;
}

Value Interpreter::call(const Value& fn, const CallArgs& args, const Expr* at) {
    if (!fn.is_callable()) {
        if (fn.is_undefined()) {
            std::string msg(1, '\'');
            msg += at && at->type == ExprType::Name ? at->name : std::string("value");
            msg += "' is undefined";
            fail(msg);
        }
        fail("'" + type_name(fn) + "' object is not callable");
    }
    return fn.fn->fn(*this, args);
}

Value Interpreter::eval_call(const Expr& e, const Value* caller) {
    Value fn = eval(*e.children[0]);
    CallArgs args = eval_args(e, 1);
    if (caller) args.named.emplace_back("caller", *caller);
    return call(fn, args, e.children[0].get());
}

Value Interpreter::eval_binary(const Expr& e) {
    const std::string& op = e.name;
    Value a = eval(*e.children[0]);
    Value b = eval(*e.children[1]);
    if (op == "~") {
        std::string s = a.str(limits_.max_output_bytes) + b.str(limits_.max_output_bytes);
        check_size(s.size());
        return Value::string(std::move(s));
    }
    if (a.is_undefined() || b.is_undefined()) fail("unsupported operand: value is undefined");
    const bool nums = a.is_number() && b.is_number();
    const bool ints = nums && a.kind != Kind::Float && b.kind != Kind::Float;
    if (op == "+") {
        if (ints) return int_or_float(a.as_int(), b.as_int(), '+');
        if (nums) return Value::number(a.as_double() + b.as_double());
        if (a.is_string() && b.is_string()) {
            // Markup.__add__/__radd__: the plain operand is HTML-escaped and the result
            // stays Markup (autoescape being off does not change this in Jinja2).
            if (a.safe != b.safe) {
                std::string s = a.safe ? a.s + html_escape(b.s) : html_escape(a.s) + b.s;
                check_size(s.size());
                return Value::markup(std::move(s));
            }
            check_size(a.s.size() + b.s.size());
            Value r = Value::string(a.s + b.s);
            r.safe = a.safe;
            return r;
        }
        if (a.is_list() && b.is_list()) {
            check_size(shallow_size(a) + shallow_size(b));
            std::vector<Value> items = a.list->items;
            items.insert(items.end(), b.list->items.begin(), b.list->items.end());
            return Value::make_list(std::move(items), a.list->tuple);
        }
    } else if (op == "-") {
        if (ints) return int_or_float(a.as_int(), b.as_int(), '-');
        if (nums) return Value::number(a.as_double() - b.as_double());
    } else if (op == "*") {
        if (ints) return int_or_float(a.as_int(), b.as_int(), '*');
        if (nums) return Value::number(a.as_double() * b.as_double());
        if (a.is_string() && b.is_int()) {
            Value r = Value::string(repeat(*this, a.s, b.i));
            r.safe = a.safe;  // Markup * n is Markup
            return r;
        }
        if (a.is_int() && b.is_string()) {
            Value r = Value::string(repeat(*this, b.s, a.i));
            r.safe = b.safe;
            return r;
        }
        if (a.is_list() && b.is_int()) {
            if (a.list->items.empty() || b.i <= 0) return Value::make_list({}, a.list->tuple);
            if (double(shallow_size(a)) * double(b.i) > double(limits_.max_output_bytes)) fail("list too large");
            std::vector<Value> items;
            for (int64_t k = 0; k < b.i; ++k) items.insert(items.end(), a.list->items.begin(), a.list->items.end());
            return Value::make_list(std::move(items), a.list->tuple);
        }
    } else if (op == "/") {
        if (nums) {
            if (b.as_double() == 0) fail("division by zero");
            return Value::number(a.as_double() / b.as_double());
        }
    } else if (op == "//" || op == "%") {
        if (op == "%" && a.is_string()) return Value::string(percent_format(a.s, b));
        if (ints) {
            int64_t x = a.as_int(), y = b.as_int();
            if (y == 0) fail(op == "%" ? "integer modulo by zero" : "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) return op == "%" ? Value::integer(0) : Value::number(-double(x));
            int64_t q = x / y, r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) { --q; r += y; }
            return Value::integer(op == "%" ? r : q);
        }
        if (nums) {
            double x = a.as_double(), y = b.as_double();
            if (y == 0) fail("float division by zero");
            double r = std::fmod(x, y);
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            if (op == "%") return Value::number(r);
            return Value::number(std::floor(x / y));
        }
    } else if (op == "**") {
        if (ints && b.as_int() >= 0) {
            int64_t base = a.as_int(), ex = b.as_int(), r = 1;
            bool overflow = false;
            while (ex > 0 && !overflow) {
                if (ex & 1) overflow |= __builtin_mul_overflow(r, base, &r);
                ex >>= 1;
                if (ex) overflow |= __builtin_mul_overflow(base, base, &base);
            }
            if (!overflow) return Value::integer(r);
            return Value::number(std::pow(a.as_double(), b.as_double()));
        }
        if (nums) {
            if (a.as_double() == 0 && b.as_double() < 0) fail("0.0 cannot be raised to a negative power");
            return Value::number(std::pow(a.as_double(), b.as_double()));
        }
    }
    fail("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

static bool contains(const Value& container, const Value& item) {
    switch (container.kind) {
        case Kind::String:
            if (!item.is_string()) fail("'in <string>' requires string as left operand, not " + type_name(item));
            return container.s.find(item.s) != std::string::npos;
        case Kind::List:
            for (const auto& v : container.list->items)
                if (values_equal(v, item)) return true;
            return false;
        case Kind::Dict: return container.dict->find(Dict::key_string(item)) != nullptr;
        case Kind::Undefined: return false;
        default: fail("argument of type '" + type_name(container) + "' is not iterable");
    }
}

Value Interpreter::eval_compare(const Expr& e) {
    Value left = eval(*e.children[0]);
    for (size_t k = 0; k < e.ops.size(); ++k) {
        Value right = eval(*e.children[k + 1]);
        const std::string& op = e.ops[k];
        bool r;
        if (op == "==") r = values_equal(left, right);
        else if (op == "!=") r = !values_equal(left, right);
        else if (op == "in") r = contains(right, left);
        else if (op == "notin") r = !contains(right, left);
        else {
            int c = compare_values(left, right);
            r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
        }
        if (!r) return Value::boolean(false);
        left = std::move(right);
    }
    return Value::boolean(true);
}

Value Interpreter::eval(const Expr& e) {
    try {
        switch (e.type) {
            case ExprType::Literal: return e.value;
            case ExprType::Name: return lookup(e.name);
            case ExprType::List:
            case ExprType::Tuple: {
                std::vector<Value> items;
                for (const auto& c : e.children) items.push_back(eval(*c));
                return Value::make_list(std::move(items), e.type == ExprType::Tuple);
            }
            case ExprType::Dict: {
                Value d = Value::make_dict();
                for (size_t k = 0; k + 1 < e.children.size(); k += 2) {
                    Value key = eval(*e.children[k]);
                    d.dict->set(Dict::key_string(key), eval(*e.children[k + 1]));
                }
                return d;
            }
            case ExprType::Unary: {
                Value v = eval(*e.children[0]);
                if (e.name == "not") return Value::boolean(!v.truthy());
                if (!v.is_number()) fail("bad operand type for unary " + e.name + ": '" + type_name(v) + "'");
                if (e.name == "+") return v.kind == Kind::Bool ? Value::integer(v.as_int()) : v;
                if (v.kind == Kind::Float) return Value::number(-v.f);
                if (v.as_int() == INT64_MIN) return Value::number(-double(v.as_int()));
                return Value::integer(-v.as_int());
            }
            case ExprType::Binary: return eval_binary(e);
            case ExprType::And: {
                Value a = eval(*e.children[0]);
                return a.truthy() ? eval(*e.children[1]) : a;
            }
            case ExprType::Or: {
                Value a = eval(*e.children[0]);
                return a.truthy() ? a : eval(*e.children[1]);
            }
            case ExprType::Compare: return eval_compare(e);
            case ExprType::Cond:
                if (eval(*e.children[1]).truthy()) return eval(*e.children[0]);
                return e.children[2] ? eval(*e.children[2]) : Value();
            case ExprType::GetAttr: return get_attr(*this, eval(*e.children[0]), e.name);
            case ExprType::GetItem: return get_item(*this, eval(*e.children[0]), eval(*e.children[1]));
            case ExprType::Slice: {
                Value obj = eval(*e.children[0]);
                Value parts[3];
                for (int k = 0; k < 3; ++k)
                    if (e.children[size_t(k) + 1]) parts[k] = eval(*e.children[size_t(k) + 1]);
                return slice_value(obj, parts[0], parts[1], parts[2]);
            }
            case ExprType::Call: return eval_call(e);
            case ExprType::Filter: {
                Value input = e.children[0] ? eval(*e.children[0]) : Value();
                return apply_filter(*this, e.name, input, eval_args(e, 1));
            }
            case ExprType::Test: {
                Value input = eval(*e.children[0]);
                bool r = apply_test(*this, e.name, input, eval_args(e, 1));
                return Value::boolean(e.negated ? !r : r);
            }
        }
    } catch (TemplateError& err) {
        if (err.line == 0) { err.line = e.line; err.column = e.column; }
        throw;
    }
    return Value();
}

}  // namespace hearth::tmpl
