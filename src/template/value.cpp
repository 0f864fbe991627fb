#include "template/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hearth::tmpl {

const Value* Dict::find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
}
Value* Dict::find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
}
void Dict::set(const std::string& key, Value v) {
    if (v.nesting() + 1 > depth) {
        depth = v.nesting() + 1;
        if (depth > kMaxNesting) throw TemplateError{"values nested too deeply"};
    }
    if (Value* p = find(key)) { *p = std::move(v); return; }
    index_.emplace(key, items_.size());
    items_.emplace_back(key, std::move(v));
}

bool Dict::erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    size_t pos = it->second;
    index_.erase(it);
    Value old = std::move(items_[pos].second);  // destroyed after the map is consistent again
    items_.erase(items_.begin() + long(pos));
    for (size_t k = pos; k < items_.size(); ++k) index_[items_[k].first] = k;
    return true;
}

void List::push(Value v) {
    if (v.nesting() + 1 > depth) {
        if (v.nesting() + 1 > kMaxNesting) throw TemplateError{"values nested too deeply"};
        depth = v.nesting() + 1;
    }
    items.push_back(std::move(v));
}

void Dict::clear() {
    std::vector<std::pair<std::string, Value>> old;
    old.swap(items_);
    index_.clear();
}

std::string Dict::key_string(const Value& key) {
    if (key.kind == Kind::String) return key.s;
    std::string out(1, key.kind == Kind::Int || key.kind == Kind::Bool ? '\x02' : '\x03');
    out += key.kind == Kind::Int || key.kind == Kind::Bool ? std::to_string(key.as_int()) : key.str();
    return out;
}
Value Dict::key(const std::string& stored) {
    if (!stored.empty() && stored[0] == '\x02') return Value::integer(std::strtoll(stored.c_str() + 1, nullptr, 10));
    if (!stored.empty() && stored[0] == '\x03') return Value::string(stored.substr(1));
    return Value::string(stored);
}
std::string Dict::key_text(const std::string& stored) {
    if (!stored.empty() && (stored[0] == '\x02' || stored[0] == '\x03')) return stored.substr(1);
    return stored;
}

const Value* CallArgs::get(const std::string& name, size_t pos) const {
    for (const auto& [k, v] : named)
        if (k == name) return &v;
    if (pos < positional.size()) return &positional[pos];
    return nullptr;
}

Value Value::make_list(std::vector<Value> items, bool tuple) {
    Value v;
    v.kind = Kind::List;
    v.list = std::make_shared<List>();
    int depth = 1;
    for (const auto& item : items) depth = std::max(depth, item.nesting() + 1);
    if (depth > kMaxNesting) throw TemplateError{"values nested too deeply"};
    v.list->items = std::move(items);
    v.list->tuple = tuple;
    v.list->depth = depth;
    return v;
}
Value Value::make_dict() {
    Value v;
    v.kind = Kind::Dict;
    v.dict = std::make_shared<Dict>();
    return v;
}
Value Value::callable(std::string name, NativeFn fn) {
    Value v;
    v.kind = Kind::Callable;
    v.fn = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
    return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
    using T = nlohmann::ordered_json::value_t;
    switch (j.type()) {
        case T::null: return none();
        case T::boolean: return boolean(j.get<bool>());
        case T::number_integer: return integer(j.get<int64_t>());
        case T::number_unsigned: {
            auto u = j.get<uint64_t>();
            return u > uint64_t(INT64_MAX) ? number(double(u)) : integer(int64_t(u));
        }
        case T::number_float: return number(j.get<double>());
        case T::string: return string(j.get<std::string>());
        case T::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& e : j) items.push_back(from_json(e));
            return make_list(std::move(items));
        }
        case T::object: {
            Value d = make_dict();
            for (auto it = j.begin(); it != j.end(); ++it) d.dict->set(it.key(), from_json(it.value()));
            return d;
        }
        default: return Value();
    }
}

bool Value::truthy() const {
    switch (kind) {
        case Kind::Undefined:
        case Kind::None: return false;
        case Kind::Bool: return b;
        case Kind::Int: return i != 0;
        case Kind::Float: return f != 0;
        case Kind::String: return !s.empty();
        case Kind::List: return !list->items.empty();
        case Kind::Dict: return dict->size() != 0;
        case Kind::Callable: return true;
    }
    return false;
}

std::string python_float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    for (int prec = 1; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (std::strtod(buf, nullptr) == d) break;
    }
    // buf is d.ddddde[+-]XX; rebuild in Python's repr style.
    std::string s = buf;
    size_t epos = s.find('e');
    std::string mant = s.substr(0, epos);
    int exp = std::atoi(s.c_str() + epos + 1);
    bool neg = mant[0] == '-';
    if (neg) mant.erase(0, 1);
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    std::string out;
    if (exp < -4 || exp >= 16) {
        out = digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
        out += eb;
    } else if (exp < 0) {
        out = "0." + std::string(size_t(-exp - 1), '0') + digits;
    } else {
        if (digits.size() <= size_t(exp) + 1) {
            out = digits + std::string(size_t(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out = digits.substr(0, size_t(exp) + 1) + "." + digits.substr(size_t(exp) + 1);
        }
    }
    return neg ? "-" + out : out;
}

static std::string repr_string(const std::string& s) {
    bool has_single = s.find('\'') != std::string::npos;
    bool has_double = s.find('"') != std::string::npos;
    char q = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c == q) {
                    out += '\\';
                    out += char(c);
                } else if (c < 0x20 || c == 0x7f) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\x%02x", c);
                    out += b;
                } else {
                    out += char(c);
                }
        }
    }
    out += q;
    return out;
}

namespace {

// str()/repr() of containers. `open` holds the containers being printed: one met again is
// a self-reference (possible since lists and dicts are mutable) and prints as Python's
// [...] / {...}. Depth and size are checked here because a container's recorded depth
// does not see mutations of the containers inside it.
struct Printer {
    size_t max_bytes;
    std::vector<const void*> open;

    void check(const std::string& out) const {
        if (out.size() > max_bytes) throw TemplateError{"output size limit exceeded"};
    }
    void value(std::string& out, const Value& v, bool as_repr) {
        switch (v.kind) {
            case Kind::String: out += as_repr ? repr_string(v.s) : v.s; break;
            case Kind::List: list(out, v); break;
            case Kind::Dict: dict(out, v); break;
            default: out += v.str(); break;
        }
        check(out);
    }
    bool enter(std::string& out, const void* p, const char* again) {
        if (std::find(open.begin(), open.end(), p) != open.end()) {
            out += again;
            return false;
        }
        if (open.size() >= size_t(kMaxNesting)) throw TemplateError{"values nested too deeply"};
        open.push_back(p);
        return true;
    }
    void list(std::string& out, const Value& v) {
        const List& l = *v.list;
        if (!enter(out, &l, l.tuple ? "(...)" : "[...]")) return;
        out += l.tuple ? "(" : "[";
        for (size_t k = 0; k < l.items.size(); ++k) {
            if (k) out += ", ";
            value(out, l.items[k], true);
        }
        if (l.tuple && l.items.size() == 1) out += ",";
        out += l.tuple ? ")" : "]";
        open.pop_back();
    }
    void dict(std::string& out, const Value& v) {
        const Dict& d = *v.dict;
        if (d.is_namespace) { out += "<Namespace>"; return; }
        if (!enter(out, &d, "{...}")) return;
        out += "{";
        bool first = true;
        for (const auto& [k, item] : d.items()) {
            if (!first) out += ", ";
            first = false;
            out += Dict::key(k).repr() + ": ";
            value(out, item, true);
        }
        out += "}";
        open.pop_back();
    }
};

nlohmann::ordered_json to_json_at(const Value& v, int depth) {
    if (depth > kMaxNesting) throw TemplateError{"values nested too deeply"};
    switch (v.kind) {
        case Kind::None: return nullptr;
        case Kind::Bool: return v.b;
        case Kind::Int: return v.i;
        case Kind::Float: return v.f;
        case Kind::String: return v.s;
        case Kind::List: {
            auto j = nlohmann::ordered_json::array();
            for (const auto& e : v.list->items) j.push_back(to_json_at(e, depth + 1));
            return j;
        }
        case Kind::Dict: {
            auto j = nlohmann::ordered_json::object();
            for (const auto& [k, item] : v.dict->items()) j[Dict::key_text(k)] = to_json_at(item, depth + 1);
            return j;
        }
        default: throw TemplateError{"Object of type " + type_name(v) + " is not JSON serializable"};
    }
}

}  // namespace

std::string Value::repr(size_t max_bytes) const {
    if (kind == Kind::String) return repr_string(s);
    return str(max_bytes);
}

std::string Value::str(size_t max_bytes) const {
    switch (kind) {
        case Kind::Undefined: return "";
        case Kind::None: return "None";
        case Kind::Bool: return b ? "True" : "False";
        case Kind::Int: return std::to_string(i);
        case Kind::Float: return python_float_repr(f);
        case Kind::String: return s;
        case Kind::List:
        case Kind::Dict: {
            Printer p{max_bytes, {}};
            std::string out;
            p.value(out, *this, false);
            return out;
        }
        case Kind::Callable: return "<function " + fn->name + ">";
    }
    return "";
}

nlohmann::ordered_json Value::to_json() const { return to_json_at(*this, 0); }

std::string type_name(const Value& v) {
    switch (v.kind) {
        case Kind::Undefined: return "Undefined";
        case Kind::None: return "NoneType";
        case Kind::Bool: return "bool";
        case Kind::Int: return "int";
        case Kind::Float: return "float";
        case Kind::String: return "str";
        case Kind::List: return v.list->tuple ? "tuple" : "list";
        case Kind::Dict: return v.dict->is_namespace ? "Namespace" : "dict";
        case Kind::Callable: return "function";
    }
    return "?";
}

bool values_equal(const Value& a, const Value& b, int depth) {
    if (depth > kMaxNesting) throw TemplateError{"comparison nested too deeply"};
    if (a.is_number() && b.is_number()) {
        if (a.kind == Kind::Float || b.kind == Kind::Float) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case Kind::Undefined:
        case Kind::None: return true;
        case Kind::String: return a.s == b.s;
        case Kind::List: {
            if (a.list->items.size() != b.list->items.size()) return false;
            for (size_t k = 0; k < a.list->items.size(); ++k)
                if (!values_equal(a.list->items[k], b.list->items[k], depth + 1)) return false;
            return true;
        }
        case Kind::Dict: {
            if (a.dict == b.dict) return true;
            if (a.dict->is_namespace || b.dict->is_namespace) return false;  // identity, as in Python
            if (a.dict->size() != b.dict->size()) return false;
            for (const auto& [k, v] : a.dict->items()) {
                const Value* o = b.dict->find(k);
                if (!o || !values_equal(v, *o, depth + 1)) return false;
            }
            return true;
        }
        case Kind::Callable: return a.fn == b.fn;
        default: return false;
    }
}

int compare_values(const Value& a, const Value& b, int depth) {
    if (depth > kMaxNesting) throw TemplateError{"comparison nested too deeply"};
    if (a.is_number() && b.is_number()) {
        if (a.kind == Kind::Float || b.kind == Kind::Float) {
            double x = a.as_double(), y = b.as_double();
            return x < y ? -1 : x > y ? 1 : 0;
        }
        int64_t x = a.as_int(), y = b.as_int();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.s.compare(b.s);
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_list() && b.is_list()) {
        size_t n = std::min(a.list->items.size(), b.list->items.size());
        for (size_t k = 0; k < n; ++k) {
            int c = compare_values(a.list->items[k], b.list->items[k], depth + 1);
            if (c) return c;
        }
        return a.list->items.size() < b.list->items.size() ? -1 : a.list->items.size() > b.list->items.size() ? 1 : 0;
    }
    throw TemplateError{"'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'"};
}

std::string html_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

static void json_escape(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", c);
                    out += b;
                } else {
                    out += char(c);
                }
        }
    }
    out += '"';
}

static void to_json_rec(std::string& out, const Value& v, int indent, bool sort_keys, const std::string& item_sep,
                        const std::string& key_sep, const std::string& indent_str, int level, int depth) {
    if (depth > 512) throw TemplateError{"tojson: nesting too deep"};
    auto newline = [&](int lvl) {
        out += '\n';
        for (int k = 0; k < lvl; ++k) out += indent_str;
    };
    switch (v.kind) {
        case Kind::None: out += "null"; return;
        case Kind::Bool: out += v.b ? "true" : "false"; return;
        case Kind::Int: out += std::to_string(v.i); return;
        case Kind::Float:
            if (std::isnan(v.f)) out += "NaN";
            else if (std::isinf(v.f)) out += v.f > 0 ? "Infinity" : "-Infinity";
            else out += python_float_repr(v.f);
            return;
        case Kind::String: json_escape(out, v.s); return;
        case Kind::List: {
            if (v.list->items.empty()) { out += "[]"; return; }
            out += '[';
            for (size_t k = 0; k < v.list->items.size(); ++k) {
                if (k) out += item_sep;
                if (indent >= 0) newline(level + 1);
                to_json_rec(out, v.list->items[k], indent, sort_keys, item_sep, key_sep, indent_str, level + 1, depth + 1);
            }
            if (indent >= 0) newline(level);
            out += ']';
            return;
        }
        case Kind::Dict: {
            if (v.dict->size() == 0) { out += "{}"; return; }
            std::vector<const std::pair<std::string, Value>*> items;
            for (const auto& kv : v.dict->items()) items.push_back(&kv);
            if (sort_keys)
                std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return compare_values(Dict::key(a->first), Dict::key(b->first)) < 0; });
            out += '{';
            for (size_t k = 0; k < items.size(); ++k) {
                if (k) out += item_sep;
                if (indent >= 0) newline(level + 1);
                json_escape(out, Dict::key_text(items[k]->first));
                out += key_sep;
                to_json_rec(out, items[k]->second, indent, sort_keys, item_sep, key_sep, indent_str, level + 1, depth + 1);
            }
            if (indent >= 0) newline(level);
            out += '}';
            return;
        }
        default: throw TemplateError{"Object of type " + type_name(v) + " is not JSON serializable"};
    }
}

std::string to_json_string(const Value& v, int indent, bool sort_keys, const std::string& item_sep,
                           const std::string& key_sep, const std::string& indent_str) {
    std::string out;
    std::string ind = indent_str.empty() && indent >= 0 ? std::string(size_t(indent), ' ') : indent_str;
    to_json_rec(out, v, indent, sort_keys, item_sep, key_sep, ind, 0, 0);
    return out;
}

bool is_ascii(const std::string& s) {
    for (unsigned char c : s)
        if (c >= 0x80) return false;
    return true;
}

}  // namespace hearth::tmpl
