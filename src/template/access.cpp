// Attribute/item access, slicing, iteration and the Python methods of str, dict and list.
#include <algorithm>

#include "base/utf8.h"
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

// ---- in-place mutation ------------------------------------------------------------
// Lists and dicts are shared by reference like Python objects, so a mutation is seen
// through every name and container holding the same one. Everything a template can
// reach is its own: the caller's context was converted into fresh values for this
// render, so nothing leaks back. Each mutated container is tracked by the interpreter
// (cycles are broken when the render ends) and every added element is charged to the
// render's data budget; O(n) shifts are charged as loop work.

size_t element_bytes(const Value& v) { return 16 + (v.is_string() ? v.s.size() : 0); }

void add_to_list(Interpreter& in, const Value& l, Value item) {
    in.charge_data(element_bytes(item));
    l.list->push(std::move(item));
}

void set_in_dict(Interpreter& in, const Value& d, const std::string& key, Value item) {
    in.charge_data(element_bytes(item) + key.size());
    d.dict->set(key, std::move(item));
}

int64_t list_index(const Value& l, int64_t i, bool clamp) {
    int64_t n = int64_t(l.list->items.size());
    if (i < 0) i += n;
    if (clamp) return std::clamp<int64_t>(i, 0, n);
    return i;
}

Value list_mutator(const Value& l, const std::string& name) {
    if (name == "append")
        return make_method(name, [l](Interpreter& in, const CallArgs& a) {
            if (a.positional.size() != 1) fail("list.append() takes exactly one argument");
            in.track(l.list);
            add_to_list(in, l, a.positional[0]);
            return Value::none();
        });
    if (name == "extend")
        return make_method(name, [l](Interpreter& in, const CallArgs& a) {
            if (a.positional.size() != 1) fail("list.extend() takes exactly one argument");
            // A string becomes a value per character: charge before building them.
            if (a.positional[0].is_string()) in.charge_data(a.positional[0].s.size() * sizeof(Value));
            std::vector<Value> items = iterate(a.positional[0]);  // a copy: l.extend(l) is fine
            in.track(l.list);
            in.tick(int64_t(items.size() / 16));
            for (auto& item : items) add_to_list(in, l, std::move(item));
            return Value::none();
        });
    if (name == "insert")
        return make_method(name, [l](Interpreter& in, const CallArgs& a) {
            if (a.positional.size() != 2) fail("insert expected 2 arguments");
            in.track(l.list);
            int64_t i = list_index(l, int_arg(a, "index", 0, 0), true);
            in.tick(int64_t(l.list->items.size()) / 16);
            add_to_list(in, l, a.positional[1]);  // depth check and growth, then rotate into place
            auto& items = l.list->items;
            std::rotate(items.begin() + long(i), items.end() - 1, items.end());
            return Value::none();
        });
    if (name == "pop")
        return make_method(name, [l](Interpreter& in, const CallArgs& a) {
            auto& items = l.list->items;
            if (items.empty()) fail("pop from empty list");
            int64_t i = list_index(l, int_arg(a, "index", 0, -1), false);
            if (i < 0 || i >= int64_t(items.size())) fail("pop index out of range");
            in.tick(int64_t(items.size() - size_t(i)) / 16);
            Value out = std::move(items[size_t(i)]);
            items.erase(items.begin() + long(i));
            return out;
        });
    if (name == "remove")
        return make_method(name, [l](Interpreter& in, const CallArgs& a) {
            if (a.positional.size() != 1) fail("list.remove() takes exactly one argument");
            auto& items = l.list->items;
            in.tick(int64_t(items.size()) / 16);
            for (size_t k = 0; k < items.size(); ++k) {
                if (!values_equal(items[k], a.positional[0])) continue;
                Value old = std::move(items[k]);
                items.erase(items.begin() + long(k));
                return Value::none();
            }
            fail("list.remove(x): x not in list");
        });
    if (name == "clear")
        return make_method(name, [l](Interpreter&, const CallArgs&) {
            std::vector<Value> old;
            old.swap(l.list->items);
            return Value::none();
        });
    if (name == "reverse")
        return make_method(name, [l](Interpreter& in, const CallArgs&) {
            in.tick(int64_t(l.list->items.size()) / 16);
            std::reverse(l.list->items.begin(), l.list->items.end());
            return Value::none();
        });
    if (name == "sort")
        return make_method(name, [l](Interpreter& in, const CallArgs& a) {
            // list.sort(*, key=None, reverse=False); a key function is not supported.
            if (!a.positional.empty()) fail("sort() takes no positional arguments");
            bool reverse = false;
            for (const auto& [k, v] : a.named) {
                if (k == "reverse") reverse = v.truthy();
                else fail("sort() got an unsupported keyword argument '" + k + "'");
            }
            std::vector<Value> items = l.list->items;  // sorted aside: a failed compare leaves l as it was
            in.tick(int64_t(items.size()) / 4);
            std::stable_sort(items.begin(), items.end(), [reverse](const Value& x, const Value& y) {
                return reverse ? compare_values(y, x) < 0 : compare_values(x, y) < 0;
            });
            l.list->items.swap(items);
            return Value::none();
        });
    if (name == "copy")
        return make_method(name, [l](Interpreter&, const CallArgs&) { return Value::make_list(l.list->items); });
    return Value();
}

// dict.update(other=(), **kwargs): other is a mapping or an iterable of pairs.
void dict_update(Interpreter& in, const Value& d, const CallArgs& a) {
    if (a.positional.size() > 1) fail("update expected at most 1 argument, got " + std::to_string(a.positional.size()));
    std::vector<std::pair<std::string, Value>> add;  // gathered first: d.update(d) is fine
    if (!a.positional.empty()) {
        const Value& o = a.positional[0];
        if (o.is_dict()) {
            add = o.dict->items();
        } else {
            for (const auto& pair : iterate(o)) {
                if (!pair.is_list() || pair.list->items.size() != 2)
                    fail("dictionary update sequence element has wrong length");
                add.emplace_back(Dict::key_string(pair.list->items[0]), pair.list->items[1]);
            }
        }
    }
    for (const auto& kv : a.named) add.push_back(kv);
    in.track(d.dict);
    in.tick(int64_t(add.size() / 16));
    for (auto& [k, v] : add) set_in_dict(in, d, k, std::move(v));
}

Value dict_mutator(const Value& d, const std::string& name) {
    if (name == "update")
        return make_method(name, [d](Interpreter& in, const CallArgs& a) {
            dict_update(in, d, a);
            return Value::none();
        });
    if (name == "setdefault")
        return make_method(name, [d](Interpreter& in, const CallArgs& a) {
            const Value* key = a.get("key", 0);
            if (!key) fail("setdefault expected at least 1 argument, got 0");
            std::string k = Dict::key_string(*key);
            if (const Value* v = d.dict->find(k)) return *v;
            const Value* def = a.get("default", 1);
            Value v = def ? *def : Value::none();
            in.track(d.dict);
            set_in_dict(in, d, k, v);
            return v;
        });
    if (name == "pop")
        return make_method(name, [d](Interpreter& in, const CallArgs& a) {
            const Value* key = a.get("key", 0);
            if (!key) fail("pop expected at least 1 argument, got 0");
            std::string k = Dict::key_string(*key);
            if (const Value* v = d.dict->find(k)) {
                Value out = *v;
                in.tick(int64_t(d.dict->size() / 16));
                d.dict->erase(k);
                return out;
            }
            if (const Value* def = a.get("default", 1)) return *def;
            fail("KeyError: " + key->repr());
        });
    if (name == "popitem")
        return make_method(name, [d](Interpreter&, const CallArgs&) {
            if (d.dict->size() == 0) fail("KeyError: 'popitem(): dictionary is empty'");
            auto last = d.dict->items().back();  // LIFO, as in Python 3.7+
            d.dict->erase(last.first);
            return Value::make_list({Dict::key(last.first), std::move(last.second)}, true);
        });
    if (name == "clear")
        return make_method(name, [d](Interpreter&, const CallArgs&) {
            d.dict->clear();
            return Value::none();
        });
    return Value();
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
    return dict_mutator(d, name);
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
    if (l.list->tuple) return Value();  // tuples have no mutators
    return list_mutator(l, name);
}

int64_t norm_index(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

// A method of a list/dict keeps it alive: record the nesting it carries (Callable::depth).
Value bound(const Value& self, Value method) {
    if (method.is_callable()) method.fn->depth = self.nesting() + 1;
    return method;
}

}  // namespace

Value get_attr(Interpreter& in, const Value& obj, const std::string& name) {
    switch (obj.kind) {
        case Kind::Dict: {
            if (!obj.dict->is_namespace) {
                Value m = bound(obj, dict_method(obj, name));
                if (!m.is_undefined()) return m;
            }
            if (const Value* v = obj.dict->find(name)) return *v;
            return Value();
        }
        case Kind::String: return string_method(obj.s, name);
        case Kind::List: return bound(obj, list_method(obj, name));
        default: return Value();
    }
}

Value get_item(Interpreter& in, const Value& obj, const Value& key) {
    switch (obj.kind) {
        case Kind::Dict:
            if (key.is_string()) {
                if (const Value* v = obj.dict->find(key.s)) return *v;
                return obj.dict->is_namespace ? Value() : bound(obj, dict_method(obj, key.s));
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
                const std::u32string cps = utf8_to_u32(obj.s);
                int64_t n = int64_t(cps.size());
                int64_t i = norm_index(key.as_int(), n);
                if (i < 0 || i >= n) return Value();
                return Value::string(u32_to_utf8(cps.substr(size_t(i), 1)));
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
        const std::u32string cps = utf8_to_u32(obj.s);
        compute(int64_t(cps.size()), idx);
        std::string out;
        for (size_t i : idx) utf8_append(out, cps[i]);
        return Value::string(std::move(out));
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
            for (char32_t cp : utf8_to_u32(v.s)) out.push_back(Value::string(u32_to_utf8({&cp, 1})));
            return out;
        }
        case Kind::Undefined: return {};
        default: fail("'" + type_name(v) + "' object is not iterable");
    }
}

}  // namespace hearth::tmpl
