// Jinja2 builtin filters and tests (the subset chat templates use), with transformers'
// tojson (json.dumps with ensure_ascii=False) and the global functions.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <unordered_map>

#include "base/json_shape.h"
#include "base/utf8.h"
#include "template/interpreter.h"
#include "template/strings.h"

namespace hearth::tmpl {
namespace {

[[noreturn]] void fail(const std::string& msg) { throw TemplateError{msg}; }

using FilterFn = Value (*)(Interpreter&, const Value&, const CallArgs&);
using TestFn = bool (*)(Interpreter&, const Value&, const CallArgs&);

bool bool_arg(const CallArgs& a, const char* name, size_t pos, bool def) {
    const Value* v = a.get(name, pos);
    return v ? v->truthy() : def;
}
int64_t int_arg(const CallArgs& a, const char* name, size_t pos, int64_t def) {
    const Value* v = a.get(name, pos);
    if (!v || v->is_none() || v->is_undefined()) return def;
    if (!v->is_number()) fail(std::string("argument '") + name + "' must be an integer");
    return v->as_int();
}
const Value* opt_arg(const CallArgs& a, const char* name, size_t pos) {
    const Value* v = a.get(name, pos);
    return v && !v->is_none() && !v->is_undefined() ? v : nullptr;
}

// Jinja's make_attrgetter: dotted attribute path, integers index lists.
Value attr_path(Interpreter& in, const Value& obj, const std::string& path) {
    Value cur = obj;
    size_t start = 0;
    while (true) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos && part.size() < 18;
        cur = digits ? get_item(in, cur, Value::integer(std::stoll(part))) : get_item(in, cur, Value::string(part));
        if (dot == std::string::npos) return cur;
        start = dot + 1;
    }
}

Value lower_if(const Value& v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) return Value::string(py_lower(v.s));
    return v;
}


// ---- filters ----------------------------------------------------------------------

Value f_tojson(Interpreter& in, const Value& v, const CallArgs& a) {
    bool ensure_ascii = bool_arg(a, "ensure_ascii", 0, false);
    const Value* indent = opt_arg(a, "indent", 1);
    const Value* seps = opt_arg(a, "separators", 2);
    bool sort_keys = bool_arg(a, "sort_keys", 3, false);
    int ind = -1;
    std::string ind_str;
    if (indent) {
        if (indent->is_string()) { ind = 0; ind_str = indent->s; if (ind_str.empty()) ind = 0; }
        else {
            ind = int(std::clamp<int64_t>(indent->as_int(), 0, 64));
            ind_str = std::string(size_t(ind), ' ');
        }
    }
    std::string item_sep = indent ? "," : ", ", key_sep = ": ";
    if (seps) {
        if (!seps->is_list() || seps->list->items.size() != 2 || !seps->list->items[0].is_string() ||
            !seps->list->items[1].is_string())
            fail("separators must be a (item_separator, key_separator) pair");
        item_sep = seps->list->items[0].s;
        key_sep = seps->list->items[1].s;
    }
    std::string out;
    if (indent && ind_str.empty()) {
        // indent=0 or "": newlines without indentation.
        out = to_json_string(v, 0, sort_keys, item_sep, key_sep, "");
    } else {
        out = to_json_string(v, ind, sort_keys, item_sep, key_sep, ind_str);
    }
    if (ensure_ascii && !is_ascii(out)) {
        std::string esc;
        char buf[16];
        for (uint32_t cp : utf8_to_u32(out)) {
            if (cp < 0x80) { esc += char(cp); continue; }
            if (cp >= 0x10000) {
                uint32_t c = cp - 0x10000;
                std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
            } else {
                std::snprintf(buf, sizeof buf, "\\u%04x", cp);
            }
            esc += buf;
        }
        out = std::move(esc);
    }
    in.check_size(out.size());
    return Value::string(std::move(out));
}

Value f_length(Interpreter&, const Value& v, const CallArgs&) {
    switch (v.kind) {
        case Kind::String: return Value::integer(int64_t(py_len(v.s)));
        case Kind::List: return Value::integer(int64_t(v.list->items.size()));
        case Kind::Dict: return Value::integer(int64_t(v.dict->size()));
        case Kind::Undefined: return Value::integer(0);
        default: fail("object of type '" + type_name(v) + "' has no len()");
    }
}

// Markup stays Markup through soft_str and the case/strip methods (markupsafe wraps them).
Value keep_safe(const Value& in, std::string text) {
    Value r = Value::string(std::move(text));
    r.safe = in.is_string() && in.safe;
    return r;
}

Value f_string(Interpreter&, const Value& v, const CallArgs&) { return v.is_string() ? v : Value::string(v.str()); }
Value f_trim(Interpreter&, const Value& v, const CallArgs& a) { return keep_safe(v, py_strip(v.str(), a.get("chars", 0), true, true)); }
Value f_lower(Interpreter&, const Value& v, const CallArgs&) { return keep_safe(v, py_lower(v.str())); }
Value f_upper(Interpreter&, const Value& v, const CallArgs&) { return keep_safe(v, py_upper(v.str())); }
Value f_title(Interpreter&, const Value& v, const CallArgs&) { return Value::string(py_title(v.str())); }  // Jinja2's title drops Markup
Value f_capitalize(Interpreter&, const Value& v, const CallArgs&) { return keep_safe(v, py_capitalize(v.str())); }
Value f_safe(Interpreter&, const Value& v, const CallArgs&) { return Value::markup(v.str()); }
// escape() leaves Markup alone and returns Markup; forceescape escapes it anyway.
Value f_escape(Interpreter&, const Value& v, const CallArgs&) {
    if (v.is_string() && v.safe) return v;
    return Value::markup(html_escape(v.str()));
}
Value f_forceescape(Interpreter& in, const Value& v, const CallArgs&) {
    std::string out = html_escape(v.str());
    in.check_size(out.size());
    return Value::markup(std::move(out));
}

// hearth/llama.cpp extension: parse a JSON text into template values (tool-call
// arguments that arrive as strings). Bad JSON is a template error.
Value f_from_json(Interpreter& in, const Value& v, const CallArgs&) {
    if (!v.is_string()) fail("from_json expects a string, got " + type_name(v));
    // Refuse deep nesting and many values before parsing: conversion recurses per level,
    // and ordered_json inserts each key with a scan of the keys before it.
    constexpr int64_t kMaxJsonValues = 10000;
    const JsonShape shape = json_shape(v.s);
    if (shape.max_depth > kMaxNesting) fail("from_json: values nested too deeply");
    const int64_t values = shape.values;
    if (values > kMaxJsonValues) fail("from_json: more than " + std::to_string(kMaxJsonValues) + " values");
    in.tick(values);
    in.charge_data(size_t(values) * sizeof(Value) + v.s.size());
    auto j = nlohmann::ordered_json::parse(v.s, nullptr, false);
    if (j.is_discarded()) fail("from_json: invalid JSON");
    return Value::from_json(j);
}

// truncate(length=255, killwords=False, end='...', leeway=None); leeway defaults to 5.
Value f_truncate(Interpreter&, const Value& v, const CallArgs& a) {
    std::string s = v.str();
    int64_t length = int_arg(a, "length", 0, 255);
    bool killwords = bool_arg(a, "killwords", 1, false);
    const Value* endv = a.get("end", 2);
    std::string end = endv ? endv->str() : "...";
    int64_t leeway = int_arg(a, "leeway", 3, 5);
    const std::u32string cps = utf8_to_u32(s);
    int64_t n = int64_t(cps.size()), n_end = int64_t(py_len(end));
    if (length < n_end) fail("expected length >= " + std::to_string(n_end) + ", got " + std::to_string(length));
    if (leeway < 0) fail("expected leeway >= 0, got " + std::to_string(leeway));
    if (leeway >= n || length >= n - leeway) return Value::string(std::move(s));  // (no overflow for huge arguments)
    std::u32string_view head = std::u32string_view(cps).substr(0, size_t(length - n_end));
    if (killwords) return Value::string(u32_to_utf8(head) + end);
    // s[:length - len(end)].rsplit(" ", 1)[0]
    if (const size_t space = head.rfind(U' '); space != head.npos) head = head.substr(0, space);
    return Value::string(u32_to_utf8(head) + end);
}

Value f_replace(Interpreter& in, const Value& v, const CallArgs& a) {
    const Value* from = a.get("old", 0);
    const Value* to = a.get("new", 1);
    if (!from || !to) fail("replace filter needs old and new");
    std::string r = py_replace(v.str(), from->str(), to->str(), int_arg(a, "count", 2, -1), in.limits().max_output_bytes);
    return Value::string(std::move(r));
}

Value f_default(Interpreter&, const Value& v, const CallArgs& a) {
    const Value* def = a.get("default_value", 0);
    bool boolean = bool_arg(a, "boolean", 1, false);
    if (v.is_undefined() || (boolean && !v.truthy())) return def ? *def : Value::string("");
    return v;
}

Value f_join(Interpreter& in, const Value& v, const CallArgs& a) {
    const Value* sep = a.get("d", 0);
    const Value* attr = opt_arg(a, "attribute", 1);
    std::string s = sep ? sep->str() : "";
    std::string out;
    bool first = true;
    for (const auto& item : iterate(v)) {
        if (!first) out += s;
        first = false;
        out += (attr ? attr_path(in, item, attr->str()) : item).str();
        in.check_size(out.size());
    }
    return Value::string(std::move(out));
}

Value f_items(Interpreter&, const Value& v, const CallArgs&) {
    if (v.is_undefined()) return Value::make_list();
    if (!v.is_dict()) fail("items filter expects a mapping");
    std::vector<Value> out;
    for (const auto& [k, val] : v.dict->items()) out.push_back(Value::make_list({Dict::key(k), val}, true));
    return Value::make_list(std::move(out));
}

Value f_list(Interpreter&, const Value& v, const CallArgs&) { return Value::make_list(iterate(v)); }

Value f_first(Interpreter&, const Value& v, const CallArgs&) {
    std::vector<Value> items = iterate(v);
    return items.empty() ? Value() : items.front();
}
Value f_last(Interpreter&, const Value& v, const CallArgs&) {
    std::vector<Value> items = iterate(v);
    return items.empty() ? Value() : items.back();
}

Value f_reverse(Interpreter&, const Value& v, const CallArgs&) {
    if (v.is_string()) {
        std::u32string cps = utf8_to_u32(v.s);
        std::reverse(cps.begin(), cps.end());
        return Value::string(u32_to_utf8(cps));
    }
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
}

Value f_int(Interpreter&, const Value& v, const CallArgs& a) {
    int64_t def = int_arg(a, "default", 0, 0);
    int64_t base = int_arg(a, "base", 1, 10);
    switch (v.kind) {
        case Kind::Int: return v;
        case Kind::Bool: return Value::integer(v.b ? 1 : 0);
        case Kind::Float:
            if (!std::isfinite(v.f) || std::fabs(v.f) > 9e18) return Value::integer(def);
            return Value::integer(int64_t(v.f));
        case Kind::String: {
            std::string s = py_strip(v.s, nullptr, true, true);
            if (s.empty() || base < 2 || base > 36) return Value::integer(def);
            char* end = nullptr;
            errno = 0;
            long long r = std::strtoll(s.c_str(), &end, int(base));
            if (errno == 0 && end && *end == 0) return Value::integer(r);
            double d = std::strtod(s.c_str(), &end);
            if (end && *end == 0 && std::isfinite(d) && std::fabs(d) < 9e18) return Value::integer(int64_t(d));
            return Value::integer(def);
        }
        default: return Value::integer(def);
    }
}

Value f_float(Interpreter&, const Value& v, const CallArgs& a) {
    const Value* d = a.get("default", 0);
    Value def = d ? *d : Value::number(0.0);
    if (v.is_number()) return Value::number(v.as_double());
    if (v.is_string()) {
        std::string s = py_strip(v.s, nullptr, true, true);
        char* end = nullptr;
        double r = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == 0) return Value::number(r);
    }
    return def;
}

Value f_abs(Interpreter&, const Value& v, const CallArgs&) {
    if (v.kind == Kind::Float) return Value::number(std::fabs(v.f));
    if (v.is_number()) {
        int64_t x = v.as_int();
        if (x == INT64_MIN) return Value::number(-double(x));
        return Value::integer(x < 0 ? -x : x);
    }
    fail("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_round(Interpreter&, const Value& v, const CallArgs& a) {
    int64_t prec = std::clamp<int64_t>(int_arg(a, "precision", 0, 0), -300, 300);
    const Value* m = a.get("method", 1);
    std::string method = m ? m->str() : "common";
    if (!v.is_number()) fail("round filter expects a number");
    double x = v.as_double(), p = std::pow(10.0, double(prec));
    double r;
    if (method == "common") r = std::nearbyint(x * p) / p;
    else if (method == "ceil") r = std::ceil(x * p) / p;
    else if (method == "floor") r = std::floor(x * p) / p;
    else fail("method must be common, ceil or floor");
    return Value::number(r);
}

// select/reject/selectattr/rejectattr share this.
Value select_impl(Interpreter& in, const Value& v, const CallArgs& a, bool by_attr, bool keep) {
    if (!v.truthy()) return Value::make_list();  // Jinja2: `if value:` before anything else (none -> empty)
    size_t pos = 0;
    std::string attr;
    if (by_attr) {
        const Value* at = a.get("attribute", 0);
        if (!at) fail("selectattr needs an attribute");
        attr = at->str();
        pos = 1;
    }
    std::string test;
    if (pos < a.positional.size()) test = a.positional[pos].str();
    CallArgs targs;
    for (size_t k = pos + 1; k < a.positional.size(); ++k) targs.positional.push_back(a.positional[k]);
    std::vector<Value> out;
    for (const auto& item : iterate(v)) {
        in.tick();
        Value x = by_attr ? attr_path(in, item, attr) : item;
        bool r = test.empty() ? x.truthy() : apply_test(in, test, x, targs);
        if (r == keep) out.push_back(item);
    }
    return Value::make_list(std::move(out));
}
Value f_select(Interpreter& in, const Value& v, const CallArgs& a) { return select_impl(in, v, a, false, true); }
Value f_reject(Interpreter& in, const Value& v, const CallArgs& a) { return select_impl(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, const CallArgs& a) { return select_impl(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, const CallArgs& a) { return select_impl(in, v, a, true, false); }

Value f_map(Interpreter& in, const Value& v, const CallArgs& a) {
    if (!v.truthy()) return Value::make_list();  // Jinja2: `if value:` before anything else (none -> empty)
    std::vector<Value> out;
    const Value* attr = nullptr;
    for (const auto& [k, val] : a.named)
        if (k == "attribute") attr = &val;
    if (attr) {
        const Value* def = nullptr;
        for (const auto& [k, val] : a.named)
            if (k == "default") def = &val;
        for (const auto& item : iterate(v)) {
            in.tick();
            Value x = attr_path(in, item, attr->str());
            out.push_back(x.is_undefined() && def ? *def : x);
        }
        return Value::make_list(std::move(out));
    }
    if (a.positional.empty()) fail("map requires a filter name or attribute=");
    std::string name = a.positional[0].str();
    CallArgs fargs;
    fargs.positional.assign(a.positional.begin() + 1, a.positional.end());
    fargs.named = a.named;
    for (const auto& item : iterate(v)) {
        in.tick();
        out.push_back(apply_filter(in, name, item, fargs));
    }
    return Value::make_list(std::move(out));
}

Value f_unique(Interpreter& in, const Value& v, const CallArgs& a) {
    bool cs = bool_arg(a, "case_sensitive", 0, false);
    const Value* attr = opt_arg(a, "attribute", 1);
    std::vector<Value> out, seen;
    for (const auto& item : iterate(v)) {
        in.tick();
        Value key = lower_if(attr ? attr_path(in, item, attr->str()) : item, cs);
        bool dup = false;
        for (const auto& s : seen) dup |= values_equal(s, key);
        if (!dup) { seen.push_back(key); out.push_back(item); }
    }
    return Value::make_list(std::move(out));
}

Value f_sort(Interpreter& in, const Value& v, const CallArgs& a) {
    bool reverse = bool_arg(a, "reverse", 0, false);
    bool cs = bool_arg(a, "case_sensitive", 1, false);
    const Value* attr = opt_arg(a, "attribute", 2);
    std::vector<Value> items = iterate(v);
    std::vector<std::pair<Value, Value>> keyed;
    for (auto& item : items) keyed.emplace_back(lower_if(attr ? attr_path(in, item, attr->str()) : item, cs), item);
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
        return reverse ? compare_values(y.first, x.first) < 0 : compare_values(x.first, y.first) < 0;
    });
    std::vector<Value> out;
    for (auto& kv : keyed) out.push_back(kv.second);
    return Value::make_list(std::move(out));
}

Value f_dictsort(Interpreter&, const Value& v, const CallArgs& a) {
    bool cs = bool_arg(a, "case_sensitive", 0, false);
    const Value* by = a.get("by", 1);
    bool by_value = by && by->str() == "value";
    bool reverse = bool_arg(a, "reverse", 2, false);
    if (!v.is_dict()) fail("dictsort expects a mapping");
    std::vector<Value> pairs;
    for (const auto& [k, val] : v.dict->items()) pairs.push_back(Value::make_list({Dict::key(k), val}, true));
    std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
        const Value& kx = x.list->items[by_value ? 1 : 0];
        const Value& ky = y.list->items[by_value ? 1 : 0];
        int c = compare_values(lower_if(kx, cs), lower_if(ky, cs));
        return reverse ? c > 0 : c < 0;
    });
    return Value::make_list(std::move(pairs));
}

Value minmax(Interpreter& in, const Value& v, const CallArgs& a, bool want_max) {
    bool cs = bool_arg(a, "case_sensitive", 0, false);
    const Value* attr = opt_arg(a, "attribute", 1);
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value();
    size_t best = 0;
    Value bk = lower_if(attr ? attr_path(in, items[0], attr->str()) : items[0], cs);
    for (size_t k = 1; k < items.size(); ++k) {
        Value key = lower_if(attr ? attr_path(in, items[k], attr->str()) : items[k], cs);
        int c = compare_values(key, bk);
        if (want_max ? c > 0 : c < 0) { best = k; bk = key; }
    }
    return items[best];
}
Value f_min(Interpreter& in, const Value& v, const CallArgs& a) { return minmax(in, v, a, false); }
Value f_max(Interpreter& in, const Value& v, const CallArgs& a) { return minmax(in, v, a, true); }

Value f_sum(Interpreter& in, const Value& v, const CallArgs& a) {
    const Value* attr = opt_arg(a, "attribute", 0);
    const Value* start = a.get("start", 1);
    Value acc = start ? *start : Value::integer(0);
    for (const auto& item : iterate(v)) {
        Value x = attr ? attr_path(in, item, attr->str()) : item;
        if (!acc.is_number() || !x.is_number()) fail("unsupported operand type(s) for +: '" + type_name(acc) + "' and '" + type_name(x) + "'");
        if (acc.kind == Kind::Float || x.kind == Kind::Float) acc = Value::number(acc.as_double() + x.as_double());
        else {
            int64_t r;
            if (__builtin_add_overflow(acc.as_int(), x.as_int(), &r)) acc = Value::number(acc.as_double() + x.as_double());
            else acc = Value::integer(r);
        }
    }
    return acc;
}

Value f_batch(Interpreter& in, const Value& v, const CallArgs& a) {
    int64_t n = int_arg(a, "linecount", 0, 1);
    if (n <= 0) fail("batch size must be positive");
    const Value* fill = a.get("fill_with", 1);
    std::vector<Value> out, cur;
    for (const auto& item : iterate(v)) {
        cur.push_back(item);
        if (int64_t(cur.size()) == n) { out.push_back(Value::make_list(std::move(cur))); cur.clear(); }
    }
    if (!cur.empty()) {
        if (fill && !fill->is_none())
            while (int64_t(cur.size()) < n) { in.tick(); cur.push_back(*fill); }
        out.push_back(Value::make_list(std::move(cur)));
    }
    return Value::make_list(std::move(out));
}

Value f_indent(Interpreter& in, const Value& v, const CallArgs& a) {
    const Value* w = a.get("width", 0);
    std::string ind = w && w->is_string() ? w->s : std::string(size_t(std::clamp<int64_t>(w ? w->as_int() : 4, 0, 1024)), ' ');
    bool first = bool_arg(a, "first", 1, false);
    bool blank = bool_arg(a, "blank", 2, false);
    std::string s = v.str() + "\n";
    std::vector<std::string> lines;
    std::string cur;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' || s[i] == '\r') {
            lines.push_back(cur);
            cur.clear();
            if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        } else {
            cur += s[i];
        }
    }
    if (!cur.empty()) lines.push_back(cur);
    std::string rv;
    if (blank) {
        for (size_t k = 0; k < lines.size(); ++k) {
            if (k) {
                rv += '\n';
                rv += ind;
            }
            rv += lines[k];
            in.check_size(rv.size());
        }
    } else {
        rv = lines.empty() ? "" : lines[0];
        for (size_t k = 1; k < lines.size(); ++k) {
            rv += '\n';
            if (!lines[k].empty()) {
                rv += ind;
                rv += lines[k];
            }
            in.check_size(rv.size());
        }
    }
    if (first) rv = ind + rv;
    in.check_size(rv.size());
    return Value::string(std::move(rv));
}

Value f_wordcount(Interpreter&, const Value& v, const CallArgs&) {
    int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : v.str()) {
        bool w = std::isalnum(c) || c == '_' || c >= 0x80;
        if (w && !in_word) ++n;
        in_word = w;
    }
    return Value::integer(n);
}

Value f_format(Interpreter&, const Value& v, const CallArgs& a) {
    return Value::string(percent_format(v.str(), Value::make_list(a.positional, true)));
}

Value f_attr(Interpreter& in, const Value& v, const CallArgs& a) {
    const Value* n = a.get("name", 0);
    if (!n) fail("attr filter needs a name");
    return get_attr(in, v, n->str());
}

Value f_center(Interpreter&, const Value& v, const CallArgs& a) {
    std::string s = v.str();
    int64_t width = std::clamp<int64_t>(int_arg(a, "width", 0, 80), 0, 1 << 20);
    int64_t len = int64_t(py_len(s));
    if (width <= len) return Value::string(s);
    int64_t total = width - len, left = total / 2 + (total & width & 1);
    return Value::string(std::string(size_t(left), ' ') + s + std::string(size_t(total - left), ' '));
}

const std::unordered_map<std::string, FilterFn>& filters() {
    static const std::unordered_map<std::string, FilterFn> m = {
        {"tojson", f_tojson}, {"length", f_length}, {"count", f_length}, {"string", f_string}, {"trim", f_trim},
        {"lower", f_lower}, {"upper", f_upper}, {"title", f_title}, {"capitalize", f_capitalize}, {"safe", f_safe},
        {"escape", f_escape}, {"e", f_escape}, {"forceescape", f_forceescape}, {"replace", f_replace},
        {"default", f_default}, {"d", f_default}, {"join", f_join}, {"items", f_items}, {"list", f_list},
        {"first", f_first}, {"last", f_last}, {"reverse", f_reverse}, {"int", f_int}, {"float", f_float},
        {"abs", f_abs}, {"round", f_round}, {"select", f_select}, {"reject", f_reject},
        {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr}, {"map", f_map}, {"unique", f_unique},
        {"sort", f_sort}, {"dictsort", f_dictsort}, {"min", f_min}, {"max", f_max}, {"sum", f_sum},
        {"batch", f_batch}, {"indent", f_indent}, {"wordcount", f_wordcount}, {"format", f_format},
        {"attr", f_attr}, {"center", f_center}, {"from_json", f_from_json}, {"truncate", f_truncate},
    };
    return m;
}

// ---- tests ------------------------------------------------------------------------

const Value& arg0(const CallArgs& a) {
    if (a.positional.empty()) fail("test requires an argument");
    return a.positional[0];
}

bool t_defined(Interpreter&, const Value& v, const CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, const CallArgs&) { return v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, const CallArgs&) { return v.is_none(); }
bool t_string(Interpreter&, const Value& v, const CallArgs&) { return v.is_string(); }
bool t_number(Interpreter&, const Value& v, const CallArgs&) { return v.is_number(); }
bool t_integer(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Int; }
bool t_float(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Float; }
bool t_boolean(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Bool; }
bool t_mapping(Interpreter&, const Value& v, const CallArgs&) { return v.is_dict() && !v.dict->is_namespace; }
bool t_iterable(Interpreter&, const Value& v, const CallArgs&) {
    return v.is_list() || v.is_string() || (v.is_dict() && !v.dict->is_namespace) || v.is_undefined();
}
bool t_sequence(Interpreter& in, const Value& v, const CallArgs& a) { return t_iterable(in, v, a); }
bool t_callable(Interpreter&, const Value& v, const CallArgs&) { return v.is_callable(); }
bool t_true(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Bool && v.b; }
bool t_false(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Bool && !v.b; }
bool t_even(Interpreter&, const Value& v, const CallArgs&) {
    if (!v.is_number()) fail("even test expects a number");
    return v.as_int() % 2 == 0;
}
bool t_odd(Interpreter&, const Value& v, const CallArgs&) {
    if (!v.is_number()) fail("odd test expects a number");
    return v.as_int() % 2 != 0;
}
bool t_divisibleby(Interpreter&, const Value& v, const CallArgs& a) {
    const Value& d = arg0(a);
    if (!v.is_number() || !d.is_number() || d.as_int() == 0) fail("divisibleby expects non-zero numbers");
    if (d.as_int() == -1) return true;
    return v.as_int() % d.as_int() == 0;
}
bool t_eq(Interpreter&, const Value& v, const CallArgs& a) { return values_equal(v, arg0(a)); }
bool t_ne(Interpreter&, const Value& v, const CallArgs& a) { return !values_equal(v, arg0(a)); }
bool t_lt(Interpreter&, const Value& v, const CallArgs& a) { return compare_values(v, arg0(a)) < 0; }
bool t_le(Interpreter&, const Value& v, const CallArgs& a) { return compare_values(v, arg0(a)) <= 0; }
bool t_gt(Interpreter&, const Value& v, const CallArgs& a) { return compare_values(v, arg0(a)) > 0; }
bool t_ge(Interpreter&, const Value& v, const CallArgs& a) { return compare_values(v, arg0(a)) >= 0; }
bool t_in(Interpreter&, const Value& v, const CallArgs& a) {
    const Value& c = arg0(a);
    if (c.is_string()) return v.is_string() && c.s.find(v.s) != std::string::npos;
    if (c.is_dict()) return c.dict->find(Dict::key_string(v));
    for (const auto& x : iterate(c))
        if (values_equal(x, v)) return true;
    return false;
}
bool t_sameas(Interpreter&, const Value& v, const CallArgs& a) {
    const Value& o = arg0(a);
    if (v.kind != o.kind) return false;
    switch (v.kind) {
        case Kind::List: return v.list == o.list;
        case Kind::Dict: return v.dict == o.dict;
        case Kind::Callable: return v.fn == o.fn;
        default: return values_equal(v, o);
    }
}
bool t_lower(Interpreter&, const Value& v, const CallArgs&) {
    std::string s = v.str();
    return s == py_lower(s) && s != py_upper(s);
}
bool t_upper(Interpreter&, const Value& v, const CallArgs&) {
    std::string s = v.str();
    return s == py_upper(s) && s != py_lower(s);
}
bool t_escaped(Interpreter&, const Value&, const CallArgs&) { return false; }
bool t_filter(Interpreter&, const Value& v, const CallArgs&) { return v.is_string() && filter_exists(v.s); }
bool t_test(Interpreter&, const Value& v, const CallArgs&) { return v.is_string() && test_exists(v.s); }

const std::unordered_map<std::string, TestFn>& tests() {
    static const std::unordered_map<std::string, TestFn> m = {
        {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"string", t_string},
        {"number", t_number}, {"integer", t_integer}, {"float", t_float}, {"boolean", t_boolean},
        {"mapping", t_mapping}, {"iterable", t_iterable}, {"sequence", t_sequence}, {"callable", t_callable},
        {"true", t_true}, {"false", t_false}, {"even", t_even}, {"odd", t_odd}, {"divisibleby", t_divisibleby},
        {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq}, {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt},
        {"lessthan", t_lt}, {"<", t_lt}, {"le", t_le}, {"<=", t_le}, {"gt", t_gt}, {"greaterthan", t_gt},
        {">", t_gt}, {"ge", t_ge}, {">=", t_ge}, {"in", t_in}, {"sameas", t_sameas}, {"lower", t_lower},
        {"upper", t_upper}, {"escaped", t_escaped}, {"filter", t_filter}, {"test", t_test},
    };
    return m;
}

// ---- globals ----------------------------------------------------------------------

Value g_range(Interpreter& in, const CallArgs& a) {
    std::vector<int64_t> p;
    for (const auto& v : a.positional) {
        if (!v.is_number() || v.kind == Kind::Float) fail("range() integer arguments expected");
        p.push_back(v.as_int());
    }
    int64_t start = 0, stop = 0, step = 1;
    if (p.size() == 1) stop = p[0];
    else if (p.size() == 2) { start = p[0]; stop = p[1]; }
    else if (p.size() == 3) { start = p[0]; stop = p[1]; step = p[2]; }
    else fail("range expected 1 to 3 arguments");
    if (step == 0) fail("range() arg 3 must not be zero");
    double count = std::ceil((double(stop) - double(start)) / double(step));
    if (count > 100000) fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    std::vector<Value> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        out.push_back(Value::integer(i));
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    return Value::make_list(std::move(out));
}

Value dict_from_args(const CallArgs& a, bool ns) {
    Value d = Value::make_dict();
    d.dict->is_namespace = ns;
    for (const auto& p : a.positional) {
        if (p.is_dict()) {
            for (const auto& [k, v] : p.dict->items()) d.dict->set(k, v);
        } else if (p.is_list()) {
            for (const auto& pair : p.list->items) {
                if (!pair.is_list() || pair.list->items.size() != 2) fail("dictionary update sequence element has wrong length");
                d.dict->set(Dict::key_string(pair.list->items[0]), pair.list->items[1]);
            }
        } else {
            fail("'" + type_name(p) + "' object is not iterable");
        }
    }
    for (const auto& [k, v] : a.named) d.dict->set(k, v);
    return d;
}

Value g_raise(Interpreter&, const CallArgs& a) {
    std::string msg = a.positional.empty() ? "" : a.positional[0].str();
    throw TemplateError{"\x01" + msg};  // marker: raised by the template itself
}

Value g_strftime(Interpreter& in, const CallArgs& a) {
    if (a.positional.empty()) fail("strftime_now() takes a format argument");
    std::string fmt = a.positional[0].str();
    if (fmt.size() > 256) fail("strftime format too long");
    std::time_t t = in.now_override >= 0 ? std::time_t(in.now_override) : std::time(nullptr);
    std::tm tm{};
    if (in.now_override >= 0) gmtime_r(&t, &tm);
    else localtime_r(&t, &tm);
    char buf[1024];
    size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
    return Value::string(std::string(buf, n));
}

}  // namespace

Value apply_filter(Interpreter& in, const std::string& name, const Value& input, const CallArgs& args) {
    auto it = filters().find(name);
    if (it == filters().end()) fail("No filter named '" + name + "'.");
    return it->second(in, input, args);
}

bool apply_test(Interpreter& in, const std::string& name, const Value& input, const CallArgs& args) {
    auto it = tests().find(name);
    if (it == tests().end()) fail("No test named '" + name + "'.");
    return it->second(in, input, args);
}

bool filter_exists(const std::string& name) { return filters().count(name) != 0; }
bool test_exists(const std::string& name) { return tests().count(name) != 0; }

std::shared_ptr<Frame> make_globals() {
    auto g = std::make_shared<Frame>();
    (*g)["range"] = Value::callable("range", g_range);
    (*g)["dict"] = Value::callable("dict", [](Interpreter&, const CallArgs& a) { return dict_from_args(a, false); });
    (*g)["namespace"] = Value::callable("namespace", [](Interpreter& in, const CallArgs& a) {
        Value ns = dict_from_args(a, true);
        in.track(ns.dict);
        return ns;
    });
    (*g)["raise_exception"] = Value::callable("raise_exception", g_raise);
    (*g)["strftime_now"] = Value::callable("strftime_now", g_strftime);
    return g;
}

}  // namespace hearth::tmpl
