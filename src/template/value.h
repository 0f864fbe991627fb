// hearth/template — dynamic values of the Jinja interpreter. A Value behaves like the
// Python object Jinja2 would hold: undefined, None, bool, int, float, str, list/tuple,
// dict (insertion ordered; namespaces are dicts with a flag) and callables.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::tmpl {

struct Value;
class Interpreter;

// Raised inside the interpreter; Template turns it into an Error value at the boundary.
struct TemplateError {
    std::string message;
    int line = 0;
    int column = 0;
};

// Containers record their nesting depth; building one deeper than kMaxNesting is an
// error, which bounds every recursive walk (printing, comparison, destruction).
constexpr int kMaxNesting = 256;

// `depth` is exact when a container is built; a later in-place mutation (list.append,
// dict.update) only raises the mutated container's own depth, not that of containers
// already holding it, so recursive walks also guard their own depth.
struct List {
    std::vector<Value> items;
    bool tuple = false;
    int depth = 1;
    bool tracked = false;  // registered with the interpreter as mutated (see Interpreter::track)
    void push(Value v);    // append, updating depth; throws past kMaxNesting
};

// Insertion-ordered string-keyed map (Python dict semantics for the keys templates use).
class Dict {
public:
    const Value* find(const std::string& key) const;
    Value* find(const std::string& key);
    void set(const std::string& key, Value v);
    bool erase(const std::string& key);  // false when absent; O(n) (keeps insertion order)
    void clear();
    size_t size() const;
    const std::vector<std::pair<std::string, Value>>& items() const;
    bool is_namespace = false;
    int depth = 1;
    bool tracked = false;

    // Keys are strings; a non-string key (Python int/bool/None/float literal keys) is
    // stored under an encoded string (see key_string) and read back with key().
    static std::string key_string(const Value& key);
    static Value key(const std::string& stored);
    static std::string key_text(const std::string& stored);  // str(key)

private:
    std::vector<std::pair<std::string, Value>> items_;
    std::unordered_map<std::string, size_t> index_;
};

struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> named;
    const Value* get(const std::string& name, size_t pos) const;
};

using NativeFn = std::function<Value(Interpreter&, const CallArgs&)>;
struct Callable {
    std::string name;
    NativeFn fn;
    // A bound method holds its list/dict: counted as one level above it, so that chains
    // built through methods (`[x.copy]` of `[x.copy]` ...) stay within kMaxNesting too.
    int depth = 0;
};

enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Callable };

struct Value {
    Kind kind = Kind::Undefined;
    bool safe = false;  // a string marked safe (Jinja2's Markup): `+` escapes the other operand
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::string s;
    std::shared_ptr<List> list;
    std::shared_ptr<Dict> dict;
    std::shared_ptr<Callable> fn;

    Value() = default;
    static Value none() { Value v; v.kind = Kind::None; return v; }
    static Value boolean(bool x) { Value v; v.kind = Kind::Bool; v.b = x; return v; }
    static Value integer(int64_t x) { Value v; v.kind = Kind::Int; v.i = x; return v; }
    static Value number(double x) { Value v; v.kind = Kind::Float; v.f = x; return v; }
    static Value string(std::string x) { Value v; v.kind = Kind::String; v.s = std::move(x); return v; }
    static Value markup(std::string x) { Value v = string(std::move(x)); v.safe = true; return v; }
    static Value make_list(std::vector<Value> items = {}, bool tuple = false);
    static Value make_dict();
    static Value callable(std::string name, NativeFn fn);
    static Value from_json(const nlohmann::ordered_json& j);

    bool is_undefined() const { return kind == Kind::Undefined; }
    bool is_none() const { return kind == Kind::None; }
    bool is_string() const { return kind == Kind::String; }
    bool is_int() const { return kind == Kind::Int; }
    bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
    bool is_list() const { return kind == Kind::List; }
    bool is_dict() const { return kind == Kind::Dict; }
    bool is_callable() const { return kind == Kind::Callable; }
    double as_double() const { return kind == Kind::Float ? f : kind == Kind::Bool ? (b ? 1 : 0) : double(i); }
    int64_t as_int() const {
        if (kind == Kind::Bool) return b ? 1 : 0;
        if (kind != Kind::Float) return i;
        if (!(f == f)) return 0;
        if (f >= 9.2e18) return INT64_MAX;
        if (f <= -9.2e18) return INT64_MIN;
        return int64_t(f);
    }
    int nesting() const {
        return kind == Kind::List ? list->depth : kind == Kind::Dict ? dict->depth : kind == Kind::Callable ? fn->depth : 0;
    }

    bool truthy() const;
    // Python str(): what {{ value }} prints. A container that contains itself prints as
    // [...] / {...} like Python; past kMaxNesting levels or max_bytes of text it throws.
    std::string str(size_t max_bytes = kMaxStrBytes) const;
    // Python repr(): used inside containers.
    std::string repr(size_t max_bytes = kMaxStrBytes) const;
    static constexpr size_t kMaxStrBytes = size_t(64) << 20;  // Limits::max_output_bytes' default
    nlohmann::ordered_json to_json() const;  // throws TemplateError for undefined/callables
};

inline size_t Dict::size() const { return items_.size(); }
inline const std::vector<std::pair<std::string, Value>>& Dict::items() const { return items_; }

bool values_equal(const Value& a, const Value& b, int depth = 0);
// Python ordering; throws TemplateError when the types are not comparable.
int compare_values(const Value& a, const Value& b, int depth = 0);
std::string type_name(const Value& v);
std::string python_float_repr(double d);

// json.dumps(x, ensure_ascii=False, indent=indent, separators=..., sort_keys=sort_keys).
// indent < 0 means None.
std::string to_json_string(const Value& v, int indent, bool sort_keys, const std::string& item_sep,
                           const std::string& key_sep, const std::string& indent_str = "");

// Pure ASCII: indexing and slicing by bytes is then by code points (UTF-8: base/utf8.h).
bool is_ascii(const std::string& s);
// markupsafe.escape of plain text: & < > " ' as HTML entities.
std::string html_escape(const std::string& s);

}  // namespace hearth::tmpl
