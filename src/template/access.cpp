// Attribute/item access, slicing, iteration and the Python methods of str, dict and list.
#include <algorithm>

#include "template/interpreter.h"
#include "template/strings.h"

namespace hearth::tmpl {
namespace {

[[noreturn]] void fail(const std::string& msg) { throw TemplateError{msg}; }

int64_t int_arg(const CallArgs& a, const std::string& name, size_t pos, int64_t def) {
    const Value* v = a.get(name, pos);
    if (!v || v->is_none()) return def;
    if (!v->is_number()) fail("'" + type_name(*v) + "' object cannot be interpreted as an integer");
    return v->as_int();
}

std::string str_arg(const CallArgs& a, const std::string& name, size_t pos) {
    const Value* v = a.get(name, pos);
    if (!v) fail("missing required argument '" + name + "'");
    if (!v->is_string()) fail("argument must be str, not " + type_name(*v));
    return v->s;
}

Value make_method(std::string name, NativeFn fn) { return Value::callable(std::move(name), std::move(fn)); }

bool prefix_match(const std::string& s, const Value& p, bool start) {
    auto one = [&](const Value& x) {
        if (!x.is_string()) fail("startswith first arg must be str or a tuple of str");
        if (x.s.size() > s.size()) return false;
        return start ? s.compare(0, x.s.size(), x.s) == 0 : s.compare(s.size() - x.s.size(), x.s.size(), x.s) == 0;
    };
    if (p.is_list()) {
        for (const auto& x : p.list->items)
            if (one(x)) return true;
        return false;
    }
    return one(p);
}

Value string_method(const std::string& s, const std::string& name) {
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        bool l = name != "rstrip", r = name != "lstrip";
        return make_method(name, [s, l, r](Interpreter&, const CallArgs& a) { return Value::string(py_strip(s, a.get("chars", 0), l, r)); });
    }
    if (name == "split" || name == "rsplit") {
        bool rs = name == "rsplit";
        return make_method(name, [s, rs](Interpreter&, const CallArgs& a) {
            int64_t maxsplit = int_arg(a, "maxsplit", 1, -1);
            std::vector<std::string> parts;
            if (rs && maxsplit >= 0) {
                // rsplit with a limit: split fully, then rejoin the leading parts.
                const Value* sep = a.get("sep", 0);
                std::vector<std::string> all = py_split(s, sep, -1);
                if (int64_t(all.size()) <= maxsplit + 1) parts = all;
                else {
                    std::string joiner = sep && sep->is_string() ? sep->s : " ";
                    size_t head = all.size() - size_t(maxsplit);
                    std::string first;
                    for (size_t k = 0; k < head; ++k) first += (k ? joiner : "") + all[k];
                    parts.push_back(first);
                    parts.insert(parts.end(), all.begin() + long(head), all.end());
                }
            } else {
                parts = py_split(s, a.get("sep", 0), maxsplit);
            }
            std::vector<Value> out;
            for (auto& p : parts) out.push_back(Value::string(std::move(p)));
            return Value::make_list(std::move(out));
        });
    }
    if (name == "startswith" || name == "endswith") {
        bool start = name == "startswith";
        return make_method(name, [s, start](Interpreter&, const CallArgs& a) {
            const Value* p = a.get("prefix", 0);
            if (!p) fail("startswith() takes at least 1 argument");
            return Value::boolean(prefix_match(s, *p, start));
        });
    }
    if (name == "replace")
        return make_method(name, [s](Interpreter& in, const CallArgs& a) {
            std::string r = py_replace(s, str_arg(a, "old", 0), str_arg(a, "new", 1), int_arg(a, "count", 2, -1),
                                       in.limits().max_output_bytes);
            return Value::string(std::move(r));
        });
    if (name == "upper") return make_method(name, [s](Interpreter&, const CallArgs&) { return Value::string(py_upper(s)); });
    if (name == "lower") return make_method(name, [s](Interpreter&, const CallArgs&) { return Value::string(py_lower(s)); });
    if (name == "title") return make_method(name, [s](Interpreter&, const CallArgs&) { return Value::string(py_title(s)); });
    if (name == "capitalize") return make_method(name, [s](Interpreter&, const CallArgs&) { return Value::string(py_capitalize(s)); });
    if (name == "format")
        return make_method(name, [s](Interpreter& in, const CallArgs& a) {
            std::string r = py_format(s, a);
            in.check_size(r.size());
            return Value::string(std::move(r));
        });
    if (name == "join")
        return make_method(name, [s](Interpreter& in, const CallArgs& a) {
            const Value* v = a.get("iterable", 0);
            if (!v) fail("join() takes exactly one argument");
            std::string out;
            bool first = true;
            for (const auto& item : iterate(*v)) {
                if (!item.is_string()) fail("sequence item: expected str instance, " + type_name(item) + " found");
                if (!first) out += s;
                first = false;
                out += item.s;
                in.check_size(out.size());
            }
            return Value::string(std::move(out));
        });
    if (name == "find" || name == "count" || name == "index" || name == "rfind")
        return make_method(name, [s, name](Interpreter&, const CallArgs& a) {
            std::string sub = str_arg(a, "sub", 0);
            if (name == "count") {
                if (sub.empty()) return Value::integer(int64_t(py_len(s) + 1));
                int64_t n = 0;
                for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
                return Value::integer(n);
            }
            size_t p = name == "rfind" ? s.rfind(sub) : s.find(sub);
            if (p == std::string::npos) {
                if (name == "index") fail("substring not found");
                return Value::integer(-1);
            }
            return Value::integer(int64_t(py_len(s.substr(0, p))));
        });
    if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "islower" ||
        name == "isupper")
        return make_method(name, [s, name](Interpreter&, const CallArgs&) {
            if (s.empty()) return Value::boolean(false);
            bool any_cased = false;
            for (unsigned char c : s) {
                bool digit = c >= '0' && c <= '9', lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
                bool space = c == ' ' || (c >= 9 && c <= 13);
                if (name == "isdigit" && !digit) return Value::boolean(false);
                if (name == "isalpha" && !(lower || upper)) return Value::boolean(false);
                if (name == "isalnum" && !(lower || upper || digit)) return Value::boolean(false);
                if (name == "isspace" && !space) return Value::boolean(false);
                if (name == "islower" && upper) return Value::boolean(false);
                if (name == "isupper" && lower) return Value::boolean(false);
                any_cased |= lower || upper;
            }
            if (name == "islower" || name == "isupper") return Value::boolean(any_cased);
            return Value::boolean(true);
        });
    if (name == "splitlines")
        return make_method(name, [s](Interpreter&, const CallArgs&) {
            std::vector<Value> out;
            std::string curl;
            for (size_t i = 0; i < s.size(); ++i) {
                if (s[i] == '\n' || s[i] == '\r') {
                    out.push_back(Value::string(curl));
                    curl.clear();
                    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
                } else {
                    curl += s[i];
                }
            }
            if (!curl.empty()) out.push_back(Value::string(curl));
            return Value::make_list(std::move(out));
        });
    return Value();
}

bool unsafe_mutator(const std::string& name, bool is_dict) {
    static const char* list_m[] = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "__setitem__"};
    static const char* dict_m[] = {"pop", "popitem", "update", "setdefault", "clear", "__setitem__"};
    if (is_dict) return std::find_if(std::begin(dict_m), std::end(dict_m), [&](const char* m) { return name == m; }) != std::end(dict_m);
    return std::find_if(std::begin(list_m), std::end(list_m), [&](const char* m) { return name == m; }) != std::end(list_m);
}

Value dict_method(const Value& d, const std::string& name) {
    if (name == "items")
        return make_method(name, [d](Interpreter&, const CallArgs&) {
            std::vector<Value> out;
            for (const auto& [k, v] : d.dict->items()) out.push_back(Value::make_list({Dict::key(k), v}, true));
            return Value::make_list(std::move(out));
        });
    if (name == "keys")
        return make_method(name, [d](Interpreter&, const CallArgs&) {
            std::vector<Value> out;
            for (const auto& kv : d.dict->items()) out.push_back(Dict::key(kv.first));
            return Value::make_list(std::move(out));
        });
    if (name == "values")
        return make_method(name, [d](Interpreter&, const CallArgs&) {
            std::vector<Value> out;
            for (const auto& kv : d.dict->items()) out.push_back(kv.second);
            return Value::make_list(std::move(out));
        });
    if (name == "get")
        return make_method(name, [d](Interpreter&, const CallArgs& a) {
            const Value* key = a.get("key", 0);
            if (!key) fail("get expected at least 1 argument, got 0");
            if (const Value* v = d.dict->find(Dict::key_string(*key))) return *v;
            const Value* def = a.get("default", 1);
            return def ? *def : Value::none();
        });
    if (name == "copy")
        return make_method(name, [d](Interpreter&, const CallArgs&) {
            Value c = Value::make_dict();
            for (const auto& [k, v] : d.dict->items()) c.dict->set(k, v);
            return c;
        });
    if (unsafe_mutator(name, true)) fail("access to attribute '" + name + "' of 'dict' object is unsafe.");
    return Value();
}

Value list_method(const Value& l, const std::string& name) {
    if (name == "index" || name == "count")
        return make_method(name, [l, name](Interpreter&, const CallArgs& a) {
            const Value* x = a.get("value", 0);
            if (!x) fail(name + "() takes exactly one argument");
            int64_t n = 0;
            for (size_t k = 0; k < l.list->items.size(); ++k) {
                if (values_equal(l.list->items[k], *x)) {
                    if (name == "index") return Value::integer(int64_t(k));
                    ++n;
                }
            }
            if (name == "index") fail("value is not in list");
            return Value::integer(n);
        });
    if (unsafe_mutator(name, false)) fail("access to attribute '" + name + "' of 'list' object is unsafe.");
    return Value();
}

int64_t norm_index(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

}  // namespace

Value get_attr(Interpreter& in, const Value& obj, const std::string& name) {
    switch (obj.kind) {
        case Kind::Dict: {
            if (!obj.dict->is_namespace) {
                Value m = dict_method(obj, name);
                if (!m.is_undefined()) return m;
            }
            if (const Value* v = obj.dict->find(name)) return *v;
            return Value();
        }
        case Kind::String: return string_method(obj.s, name);
        case Kind::List: return list_method(obj, name);
        default: return Value();
    }
}

Value get_item(Interpreter& in, const Value& obj, const Value& key) {
    switch (obj.kind) {
        case Kind::Dict:
            if (key.is_string()) {
                if (const Value* v = obj.dict->find(key.s)) return *v;
                return obj.dict->is_namespace ? Value() : dict_method(obj, key.s);
            }
            if (const Value* v = obj.dict->find(Dict::key_string(key))) return *v;
            return Value();
        case Kind::List:
            if (key.is_number() && key.kind != Kind::Float) {
                int64_t n = int64_t(obj.list->items.size());
                int64_t i = norm_index(key.as_int(), n);
                if (i < 0 || i >= n) return Value();
                return obj.list->items[size_t(i)];
            }
            if (key.is_string()) return get_attr(in, obj, key.s);
            return Value();
        case Kind::String:
            if (key.is_number() && key.kind != Kind::Float) {
                if (is_ascii(obj.s)) {
                    int64_t n = int64_t(obj.s.size());
                    int64_t i = norm_index(key.as_int(), n);
                    if (i < 0 || i >= n) return Value();
                    return Value::string(std::string(1, obj.s[size_t(i)]));
                }
                std::vector<uint32_t> cps = utf8_decode(obj.s);
                int64_t n = int64_t(cps.size());
                int64_t i = norm_index(key.as_int(), n);
                if (i < 0 || i >= n) return Value();
                return Value::string(utf8_encode({cps[size_t(i)]}));
            }
            if (key.is_string()) return get_attr(in, obj, key.s);
            return Value();
        default: return Value();
    }
}

Value slice_value(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    auto as_opt = [](const Value& v, const char* what) -> std::pair<bool, int64_t> {
        if (v.is_undefined() || v.is_none()) return {false, 0};
        if (!v.is_number() || v.kind == Kind::Float) fail(std::string("slice indices must be integers or None"));
        return {true, v.as_int()};
    };
    const auto step_opt = as_opt(step, "step");
    const int64_t st = step_opt.first ? step_opt.second : 1;
    if (st == 0) fail("slice step cannot be zero");
    const auto a_opt = as_opt(start, "start");
    const auto b_opt = as_opt(stop, "stop");
    const bool has_a = a_opt.first, has_b = b_opt.first;
    const int64_t a = a_opt.second, b = b_opt.second;
    auto compute = [&](int64_t n, std::vector<size_t>& idx) {
        int64_t lo, hi;
        if (st > 0) {
            lo = has_a ? (a < 0 ? std::max<int64_t>(a + n, 0) : std::min(a, n)) : 0;
            hi = has_b ? (b < 0 ? std::max<int64_t>(b + n, 0) : std::min(b, n)) : n;
            for (int64_t i = lo; i < hi; i += st) {
                idx.push_back(size_t(i));
                if (st > n) break;
            }
        } else {
            lo = has_a ? (a < 0 ? std::max<int64_t>(a + n, -1) : std::min(a, n - 1)) : n - 1;
            hi = has_b ? (b < 0 ? std::max<int64_t>(b + n, -1) : std::min(b, n - 1)) : -1;
            for (int64_t i = lo; i > hi; i += st) {
                idx.push_back(size_t(i));
                if (st < -n) break;
            }
        }
    };
    std::vector<size_t> idx;
    if (obj.is_list()) {
        compute(int64_t(obj.list->items.size()), idx);
        std::vector<Value> out;
        for (size_t i : idx) out.push_back(obj.list->items[i]);
        return Value::make_list(std::move(out), obj.list->tuple);
    }
    if (obj.is_string()) {
        if (is_ascii(obj.s)) {
            compute(int64_t(obj.s.size()), idx);
            std::string out;
            for (size_t i : idx) out += obj.s[i];
            return Value::string(std::move(out));
        }
        std::vector<uint32_t> cps = utf8_decode(obj.s);
        compute(int64_t(cps.size()), idx);
        std::vector<uint32_t> out;
        for (size_t i : idx) out.push_back(cps[i]);
        return Value::string(utf8_encode(out));
    }
    if (obj.is_undefined()) return Value();
    fail("'" + type_name(obj) + "' object is not subscriptable");
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind) {
        case Kind::List: return v.list->items;
        case Kind::Dict: {
            std::vector<Value> out;
            for (const auto& kv : v.dict->items()) out.push_back(Dict::key(kv.first));
            return out;
        }
        case Kind::String: {
            std::vector<Value> out;
            for (uint32_t cp : utf8_decode(v.s)) out.push_back(Value::string(utf8_encode({cp})));
            return out;
        }
        case Kind::Undefined: return {};
        default: fail("'" + type_name(v) + "' object is not iterable");
    }
}

}  // namespace hearth::tmpl
