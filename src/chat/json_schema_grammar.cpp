#include "chat/json_schema_grammar.h"

#include <array>
#include <map>
#include <set>

namespace hearth::chat::grammar {

namespace {

using json = nlohmann::ordered_json;
using Frag = GrammarBuilder::Frag;

constexpr int kMaxIndent = 20;  // as llama.cpp's JSON grammar: "\n" [ \t]{0,20}
constexpr int kMaxIntDigits = 16;
constexpr int kMaxFracDigits = 16;
constexpr int kMaxExpDigits = 2;  // every number stays within a double (parsers reject overflow)
constexpr int64_t kMaxUnrolled = 1000;      // maxItems / maxLength written out one by one
constexpr size_t kMaxStates = 4'000'000;
constexpr int kMaxSchemaDepth = 64;

struct SchemaError {
    std::string message;
};

// UTF-8 decoding states inside a JSON string, for building byte automata that accept
// exactly the valid encodings (what a JSON parser will take).
enum Utf8 : int { kBoundary, kNeed1, kNeed2, kNeed3, kAfterE0, kAfterED, kAfterF0, kAfterF4, kUtf8States };

// Next state after `b`, or -1. At a boundary `"`, `\` and control bytes are not
// characters (the caller handles the quote and escapes).
int utf8_next(int u, unsigned b) {
    auto cont = [&](unsigned lo, unsigned hi, int next) { return b >= lo && b <= hi ? next : -1; };
    switch (u) {
        case kBoundary:
            if (b >= 0x20 && b <= 0x7F) return b == '"' || b == '\\' ? -1 : kBoundary;
            if (b >= 0xC2 && b <= 0xDF) return kNeed1;
            if (b == 0xE0) return kAfterE0;
            if (b == 0xED) return kAfterED;
            if (b >= 0xE1 && b <= 0xEF) return kNeed2;
            if (b == 0xF0) return kAfterF0;
            if (b >= 0xF1 && b <= 0xF3) return kNeed3;
            if (b == 0xF4) return kAfterF4;
            return -1;
        case kNeed1: return cont(0x80, 0xBF, kBoundary);
        case kNeed2: return cont(0x80, 0xBF, kNeed1);
        case kNeed3: return cont(0x80, 0xBF, kNeed2);
        case kAfterE0: return cont(0xA0, 0xBF, kNeed1);
        case kAfterED: return cont(0x80, 0x9F, kNeed1);
        case kAfterF0: return cont(0x90, 0xBF, kNeed2);
        case kAfterF4: return cont(0x80, 0x8F, kNeed2);
    }
    return -1;
}

const std::set<std::string>& unsupported_keywords() {
    static const std::set<std::string> k = {
        "pattern", "patternProperties", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minProperties", "maxProperties", "uniqueItems", "contains", "minContains", "maxContains", "prefixItems",
        "unevaluatedProperties", "unevaluatedItems", "not", "if", "then", "else", "dependentRequired",
        "dependentSchemas", "dependencies", "propertyNames", "$dynamicRef", "$recursiveRef"};
    return k;
}

// Keywords that restrict values (as opposed to annotations such as title or format).
bool is_assertion(const std::string& k) {
    static const std::set<std::string> a = {"type", "properties", "required", "additionalProperties", "items", "enum",
                                            "const", "anyOf", "oneOf", "allOf", "$ref", "minItems", "maxItems",
                                            "minLength", "maxLength", "nullable"};
    return a.count(k) || unsupported_keywords().count(k);
}

class SchemaCompiler {
public:
    SchemaCompiler(const json* root, bool lenient) : root_(root), lenient_(lenient) {}

    std::shared_ptr<const Grammar> compile_root() {
        int32_t root = b_.new_rule();
        if (!root_) {
            b_.define(root, object_any());
        } else {
            refs_["#"] = root;
            define_schema(root, *root_, "#", 0);
        }
        return std::make_shared<const Grammar>(b_.finish(root));
    }

private:
    [[noreturn]] static void fail(const std::string& at, const std::string& what) {
        throw SchemaError{"JSON schema at " + at + ": " + what};
    }
    void check_size() {
        if (b_.n_states() > kMaxStates) throw SchemaError{"JSON schema is too large to compile into a grammar"};
    }

    // ---- terminals --------------------------------------------------------------------

    Frag ws() {
        int32_t in = b_.state(), out = b_.state();
        b_.eps(in, out);
        b_.edge(in, ' ', ' ', out);
        int32_t cur = b_.state();
        b_.edge(in, '\n', '\n', cur);
        for (int i = 0; i < kMaxIndent; ++i) {
            b_.eps(cur, out);
            int32_t n = b_.state();
            b_.edge(cur, ' ', ' ', n);
            b_.edge(cur, '\t', '\t', n);
            cur = n;
        }
        b_.eps(cur, out);
        return {in, out};
    }

    Frag hex() {
        int32_t in = b_.state(), out = b_.state();
        b_.edge(in, '0', '9', out);
        b_.edge(in, 'a', 'f', out);
        b_.edge(in, 'A', 'F', out);
        return {in, out};
    }
    Frag hex_range(const char* ranges) {  // pairs of inclusive ends, e.g. "09ac"
        int32_t in = b_.state(), out = b_.state();
        for (const char* r = ranges; r[0] && r[1]; r += 2) b_.edge(in, r[0], r[1], out);
        return {in, out};
    }

    // Backslash escapes, from just after the backslash to the end of the escape. \u
    // escapes must not leave a lone surrogate (JSON parsers reject those).
    void escape_body(int32_t after_backslash, int32_t out) {
        for (char c : std::string_view("\"\\/bfnrt")) b_.edge(after_backslash, c, c, out);
        int32_t u = b_.state();
        b_.edge(after_backslash, 'u', 'u', u);
        std::vector<Frag> forms;
        forms.push_back(b_.seq({hex_range("09acAC"), hex(), hex(), hex()}));
        forms.push_back(b_.seq({hex_range("ddDD"), hex_range("07"), hex(), hex()}));
        forms.push_back(b_.seq({hex_range("efEF"), hex(), hex(), hex()}));
        forms.push_back(b_.seq({hex_range("ddDD"), hex_range("89abAB"), hex(), hex(), b_.literal("\\u"),
                                hex_range("ddDD"), hex_range("cfCF"), hex(), hex()}));
        Frag a = b_.alt(forms);
        b_.eps(u, a.in);
        b_.eps(a.out, out);
    }

    // One character of string content (a code point, raw UTF-8 or escaped).
    Frag json_char() {
        std::array<int32_t, kUtf8States> s{};
        for (auto& x : s) x = b_.state();
        int32_t out = b_.state();
        for (int u = 0; u < kUtf8States; ++u) add_utf8_edges(s[u], u, [&](int next) { return next == kBoundary ? out : s[next]; });
        int32_t bs = b_.state();
        b_.edge(s[kBoundary], '\\', '\\', bs);
        escape_body(bs, out);
        return {s[kBoundary], out};
    }

    // Edges for every byte valid in UTF-8 state u, grouped into ranges by target.
    template <class Target>
    void add_utf8_edges(int32_t from, int u, Target target, const std::array<int32_t, 256>* override = nullptr) {
        int32_t run_target = -1;
        int run_start = 0;
        for (int b = 0; b <= 256; ++b) {
            int32_t t = -1;
            if (b < 256) {
                if (override && (*override)[b] >= 0) t = (*override)[b];
                else if (int n = utf8_next(u, static_cast<unsigned>(b)); n >= 0) t = target(n);
            }
            if (t != run_target) {
                if (run_target >= 0) b_.edge(from, static_cast<uint8_t>(run_start), static_cast<uint8_t>(b - 1), run_target);
                run_target = t;
                run_start = b;
            }
        }
    }

    Frag string_any() {
        Frag c = json_char();
        Frag body = b_.star(c);
        return b_.seq({b_.literal("\""), body, b_.literal("\"")});
    }

    Frag string_bounded(int64_t min_len, int64_t max_len, const std::string& at) {
        if (min_len > kMaxUnrolled || max_len > kMaxUnrolled)
            fail(at, "minLength/maxLength above " + std::to_string(kMaxUnrolled) + " are not supported");
        Frag f = b_.literal("\"");
        for (int64_t i = 0; i < min_len; ++i) f = b_.seq(f, json_char());
        if (max_len < 0) {
            f = b_.seq(f, b_.star(json_char()));
        } else {
            // nested optionals: (c (c (c)?)?)?
            Frag tail = b_.empty();
            for (int64_t i = min_len; i < max_len; ++i) tail = b_.opt(b_.seq(json_char(), tail));
            f = b_.seq(f, tail);
        }
        check_size();
        return b_.seq(f, b_.literal("\""));
    }

    // A property name that is none of `keys` (for additional properties beside declared
    // ones): a trie of the names, left for a free string automaton at the first byte
    // that differs. Escapes are only allowed once the name differs, so an escaped
    // spelling of a declared name cannot slip through.
    Frag string_excluding(const std::vector<std::string>& keys) {
        if (keys.empty()) return string_any();
        int32_t open = b_.state(), out = b_.state();
        // Free automaton: one state per UTF-8 state.
        std::array<int32_t, kUtf8States> free{};
        for (auto& x : free) x = b_.state();
        for (int u = 0; u < kUtf8States; ++u) add_utf8_edges(free[u], u, [&](int n) { return free[n]; });
        b_.edge(free[kBoundary], '"', '"', out);
        int32_t bs = b_.state();
        b_.edge(free[kBoundary], '\\', '\\', bs);
        escape_body(bs, free[kBoundary]);
        // Trie of the names.
        struct Node {
            std::map<uint8_t, int> children;
            bool complete = false;
            int utf8 = kBoundary;
            int32_t state = -1;
        };
        std::vector<Node> nodes(1);
        for (const std::string& k : keys) {
            int n = 0;
            bool spelled = true;  // every byte can appear literally
            for (unsigned char c : k) {
                int next_u = utf8_next(nodes[n].utf8, c);
                if (next_u < 0) {
                    spelled = false;  // needs an escape: unreachable without one, nothing to exclude
                    break;
                }
                auto it = nodes[n].children.find(c);
                if (it == nodes[n].children.end()) {
                    nodes.push_back({});
                    nodes.back().utf8 = next_u;
                    it = nodes[n].children.emplace(c, static_cast<int>(nodes.size() - 1)).first;
                }
                n = it->second;
            }
            if (spelled) nodes[n].complete = true;
        }
        for (auto& n : nodes) n.state = b_.state();
        for (auto& n : nodes) {
            std::array<int32_t, 256> over;
            over.fill(-1);
            for (auto [c, child] : n.children) over[c] = nodes[child].state;
            add_utf8_edges(n.state, n.utf8, [&](int next) { return free[next]; }, &over);
            if (n.utf8 == kBoundary && !n.complete) b_.edge(n.state, '"', '"', out);
        }
        b_.edge(open, '"', '"', nodes[0].state);
        return {open, out};
    }

    Frag digits(int min, int max, char lo = '0') {
        Frag f = b_.empty();
        for (int i = 0; i < min; ++i) f = b_.seq(f, b_.bytes(i == 0 ? lo : '0', '9'));
        Frag tail = b_.empty();
        for (int i = min; i < max; ++i) tail = b_.opt(b_.seq(b_.bytes('0', '9'), tail));
        return b_.seq(f, tail);
    }

    Frag integer() {
        Frag int_part = b_.alt({b_.literal("0"), b_.seq(b_.bytes('1', '9'), digits(0, kMaxIntDigits - 1))});
        return b_.seq(b_.opt(b_.literal("-")), int_part);
    }

    Frag number() {
        Frag frac = b_.opt(b_.seq(b_.literal("."), digits(1, kMaxFracDigits)));
        Frag sign = b_.opt(b_.alt({b_.literal("+"), b_.literal("-")}));
        Frag exp = b_.opt(b_.seq({b_.alt({b_.literal("e"), b_.literal("E")}), sign, digits(1, kMaxExpDigits)}));
        return b_.seq({integer(), frac, exp});
    }

    // ---- generic JSON ---------------------------------------------------------------

    int32_t any_value_rule() {
        if (any_value_ >= 0) return any_value_;
        any_value_ = b_.new_rule();
        any_object_ = b_.new_rule();
        any_array_ = b_.new_rule();
        b_.define(any_value_, b_.alt({b_.call(any_object_), b_.call(any_array_), string_any(), number(),
                                      b_.literal("true"), b_.literal("false"), b_.literal("null")}));
        b_.define(any_object_, object_any());
        b_.define(any_array_, array_of(any_value_, 0, -1, "#"));
        return any_value_;
    }

    Frag kv(Frag key, int32_t value_rule) { return b_.seq({key, ws(), b_.literal(":"), ws(), b_.call(value_rule)}); }

    // "{" ws (kv (ws "," ws kv)* ws)? "}"
    Frag object_any() {
        int32_t v = any_value_rule();
        Frag more = b_.star(b_.seq({ws(), b_.literal(","), ws(), kv(string_any(), v)}));
        Frag items = b_.opt(b_.seq({kv(string_any(), v), more, ws()}));
        return b_.seq({b_.literal("{"), ws(), items, b_.literal("}")});
    }

    Frag array_of(int32_t item, int64_t min_items, int64_t max_items, const std::string& at) {
        if (min_items > kMaxUnrolled || max_items > kMaxUnrolled)
            fail(at, "minItems/maxItems above " + std::to_string(kMaxUnrolled) + " are not supported");
        if (max_items >= 0 && max_items < min_items) fail(at, "maxItems is below minItems");
        auto sep_item = [&] { return b_.seq({ws(), b_.literal(","), ws(), b_.call(item)}); };
        Frag open = b_.seq(b_.literal("["), ws());
        if (max_items == 0) return b_.seq(open, b_.literal("]"));
        // first item, then min-1 required, then the rest optional (or unbounded)
        Frag items = b_.call(item);
        for (int64_t i = 1; i < min_items; ++i) items = b_.seq(items, sep_item());
        if (max_items < 0) {
            items = b_.seq(items, b_.star(sep_item()));
        } else {
            Frag tail = b_.empty();
            for (int64_t i = std::max<int64_t>(min_items, 1); i < max_items; ++i) tail = b_.opt(b_.seq(sep_item(), tail));
            items = b_.seq(items, tail);
        }
        items = b_.seq(items, ws());
        if (min_items == 0) items = b_.opt(items);
        check_size();
        return b_.seq({open, items, b_.literal("]")});
    }

    // ---- schemas --------------------------------------------------------------------

    const json& resolve(const std::string& ref, const std::string& at) {
        if (ref.empty() || ref[0] != '#') fail(at, "only local $ref ('#...') is supported, not '" + ref + "'");
        if (ref == "#") return *root_;
        try {
            json::json_pointer ptr(ref.substr(1));
            if (!root_->contains(ptr)) fail(at, "$ref '" + ref + "' does not resolve");
            return root_->at(ptr);
        } catch (const json::exception&) {
            fail(at, "$ref '" + ref + "' is not a valid JSON pointer");
        }
    }

    int32_t ref_rule(const std::string& ref, const std::string& at, int depth) {
        auto it = refs_.find(ref);
        if (it != refs_.end()) return it->second;
        const json& target = resolve(ref, at);
        int32_t r = b_.new_rule();
        refs_[ref] = r;
        define_schema(r, target, ref, depth + 1);
        return r;
    }

    int32_t schema_rule(const json& s, const std::string& at, int depth) {
        if (s.is_object() && s.size() == 1 && s.contains("$ref") && s["$ref"].is_string())
            return ref_rule(s["$ref"].get<std::string>(), at, depth);
        int32_t r = b_.new_rule();
        define_schema(r, s, at, depth + 1);
        return r;
    }

    void define_schema(int32_t rule, const json& s, const std::string& at, int depth) {
        b_.define(rule, schema_frag(s, at, depth));
        check_size();
    }

    // Shallow merge for allOf and for anyOf alternatives with sibling keywords.
    json merge(const json& a, const json& b, const std::string& at, int depth) {
        json out = a;
        const json& bb = b.is_object() && b.contains("$ref") ? resolve(b["$ref"].get<std::string>(), at) : b;
        if (depth > kMaxSchemaDepth) fail(at, "schema nests too deeply");
        if (!bb.is_object()) fail(at, "allOf/anyOf entries must be schema objects");
        for (auto it = bb.begin(); it != bb.end(); ++it) {
            if (it.key() == "properties" && out.contains("properties") && out["properties"].is_object()) {
                for (auto p = it.value().begin(); p != it.value().end(); ++p) out["properties"][p.key()] = p.value();
            } else if (it.key() == "required" && out.contains("required") && out["required"].is_array()) {
                for (const auto& r : it.value())
                    if (std::find(out["required"].begin(), out["required"].end(), r) == out["required"].end())
                        out["required"].push_back(r);
            } else {
                out[it.key()] = it.value();
            }
        }
        return out;
    }

    Frag schema_frag(const json& s, const std::string& at, int depth) {
        if (depth > kMaxSchemaDepth) fail(at, "schema nests too deeply");
        if (s.is_boolean()) {
            if (!s.get<bool>()) fail(at, "the schema `false` accepts no value");
            return b_.call(any_value_rule());
        }
        if (!s.is_object()) fail(at, "a schema must be an object or a boolean");
        if (!lenient_)
            for (auto it = s.begin(); it != s.end(); ++it)
                if (unsupported_keywords().count(it.key())) fail(at, "keyword '" + it.key() + "' is not supported");

        if (auto ref = s.find("$ref"); ref != s.end()) {
            if (!ref->is_string()) fail(at, "$ref must be a string");
            return b_.call(ref_rule(ref->get<std::string>(), at, depth));
        }
        if (auto all = s.find("allOf"); all != s.end()) {
            if (!all->is_array() || all->empty()) fail(at, "allOf must be a non-empty array");
            json merged = s;
            merged.erase("allOf");
            for (const auto& part : *all) merged = merge(merged, part, at + "/allOf", depth + 1);
            return schema_frag(merged, at, depth + 1);
        }
        for (const char* key : {"anyOf", "oneOf"}) {
            auto any = s.find(key);
            if (any == s.end()) continue;
            if (!any->is_array() || any->empty()) fail(at, std::string(key) + " must be a non-empty array");
            json base = s;
            base.erase("anyOf");
            base.erase("oneOf");
            bool siblings = false;
            for (auto it = base.begin(); it != base.end(); ++it) siblings = siblings || is_assertion(it.key());
            std::vector<Frag> options;
            for (size_t i = 0; i < any->size(); ++i) {
                std::string sub_at = at + "/" + key + "/" + std::to_string(i);
                if (siblings) options.push_back(schema_frag(merge(base, (*any)[i], sub_at, depth + 1), sub_at, depth + 1));
                else options.push_back(b_.call(schema_rule((*any)[i], sub_at, depth)));
            }
            return b_.alt(options);
        }
        if (auto c = s.find("const"); c != s.end()) return b_.literal(c->dump());
        if (auto e = s.find("enum"); e != s.end()) {
            if (!e->is_array() || e->empty()) fail(at, "enum must be a non-empty array");
            std::vector<Frag> options;
            for (const auto& v : *e) options.push_back(b_.literal(v.dump(-1, ' ', false, json::error_handler_t::replace)));
            return b_.alt(options);
        }

        std::vector<std::string> types;
        if (auto t = s.find("type"); t != s.end()) {
            if (t->is_string()) types.push_back(t->get<std::string>());
            else if (t->is_array())
                for (const auto& x : *t) {
                    if (!x.is_string()) fail(at, "type entries must be strings");
                    types.push_back(x.get<std::string>());
                }
            else fail(at, "type must be a string or an array of strings");
            if (types.empty()) fail(at, "type must not be an empty array");
        } else if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required")) {
            types.push_back("object");
        } else if (s.contains("items") || s.contains("minItems") || s.contains("maxItems")) {
            types.push_back("array");
        } else if (s.contains("minLength") || s.contains("maxLength")) {
            types.push_back("string");
        } else {
            Frag any = b_.call(any_value_rule());
            return any;
        }
        if (s.value("nullable", false) && std::find(types.begin(), types.end(), "null") == types.end())
            types.push_back("null");
        std::vector<Frag> options;
        for (const std::string& t : types) options.push_back(typed_frag(t, s, at, depth));
        return options.size() == 1 ? options[0] : b_.alt(options);
    }

    int64_t count_keyword(const json& s, const char* key, int64_t dflt, const std::string& at) {
        auto it = s.find(key);
        if (it == s.end()) return dflt;
        if (!it->is_number_integer() && !it->is_number_unsigned()) fail(at, std::string(key) + " must be an integer");
        int64_t v = it->get<int64_t>();
        if (v < 0) fail(at, std::string(key) + " must not be negative");
        return v;
    }

    Frag typed_frag(const std::string& type, const json& s, const std::string& at, int depth) {
        if (type == "string")
            return string_bounded(count_keyword(s, "minLength", 0, at), count_keyword(s, "maxLength", -1, at), at);
        if (type == "number") return number();
        if (type == "integer") return integer();
        if (type == "boolean") return b_.alt({b_.literal("true"), b_.literal("false")});
        if (type == "null") return b_.literal("null");
        if (type == "array") {
            int32_t item;
            auto items = s.find("items");
            if (items == s.end()) item = any_value_rule();
            else if (items->is_array()) fail(at, "the array form of 'items' (tuples) is not supported");
            else item = schema_rule(*items, at + "/items", depth);
            return array_of(item, count_keyword(s, "minItems", 0, at), count_keyword(s, "maxItems", -1, at), at);
        }
        if (type == "object") return object_frag(s, at, depth);
        fail(at, "unknown type '" + type + "'");
    }

    Frag object_frag(const json& s, const std::string& at, int depth) {
        struct Prop {
            std::string name;
            int32_t rule;
            bool required;
        };
        std::vector<Prop> props;
        std::set<std::string> required;
        if (auto r = s.find("required"); r != s.end()) {
            if (!r->is_array()) fail(at, "required must be an array");
            for (const auto& x : *r) {
                if (!x.is_string()) fail(at, "required entries must be strings");
                required.insert(x.get<std::string>());
            }
        }
        auto p = s.find("properties");
        if (p != s.end() && !p->is_object()) fail(at, "properties must be an object");
        if (p != s.end())
            for (auto it = p->begin(); it != p->end(); ++it)
                props.push_back({it.key(), schema_rule(it.value(), at + "/properties/" + it.key(), depth),
                                 required.count(it.key()) > 0});
        for (const std::string& r : required)
            if (p == s.end() || !p->contains(r)) props.push_back({r, any_value_rule(), true});

        // Extra properties: as additionalProperties says; when absent, only for objects
        // that declare no properties (declared ones are then all there is, as in llama.cpp).
        int32_t extra = -1;
        if (auto a = s.find("additionalProperties"); a != s.end()) {
            if (a->is_boolean()) extra = a->get<bool>() ? any_value_rule() : -1;
            else extra = schema_rule(*a, at + "/additionalProperties", depth);
        } else if (props.empty()) {
            extra = any_value_rule();
        }

        // Junctions (i, wrote_one): before property i, with or without a pair written.
        const size_t n = props.size();
        std::vector<std::array<int32_t, 2>> j(n + 1);
        for (auto& x : j) x = {b_.state(), b_.state()};
        auto pair_from = [&](int32_t from, bool wrote, Frag pair, int32_t to) {
            Frag f = wrote ? b_.seq({ws(), b_.literal(","), ws(), pair}) : pair;
            b_.eps(from, f.in);
            b_.eps(f.out, to);
        };
        for (size_t i = 0; i < n; ++i) {
            std::string key = json(props[i].name).dump(-1, ' ', false, json::error_handler_t::replace);
            for (int wrote = 0; wrote < 2; ++wrote) {
                if (!props[i].required) b_.eps(j[i][wrote], j[i + 1][wrote]);
                pair_from(j[i][wrote], wrote, kv(b_.literal(key), props[i].rule), j[i + 1][1]);
            }
        }
        int32_t close = b_.state();
        for (int wrote = 0; wrote < 2; ++wrote) {
            if (extra >= 0) {
                std::vector<std::string> names;
                for (const auto& pr : props) names.push_back(pr.name);
                pair_from(j[n][wrote], wrote, kv(string_excluding(names), extra), j[n][1]);
            }
        }
        Frag end0 = b_.literal("}");
        b_.eps(j[n][0], end0.in);
        b_.eps(end0.out, close);
        Frag end1 = b_.seq(ws(), b_.literal("}"));
        b_.eps(j[n][1], end1.in);
        b_.eps(end1.out, close);
        Frag open = b_.seq(b_.literal("{"), ws());
        b_.eps(open.out, j[0][0]);
        check_size();
        return {open.in, close};
    }

    const json* root_;
    bool lenient_;
    GrammarBuilder b_;
    std::map<std::string, int32_t> refs_;
    int32_t any_value_ = -1, any_object_ = -1, any_array_ = -1;
};

}  // namespace

Result<std::shared_ptr<const Grammar>> json_schema_grammar(const json* schema, bool lenient) {
    try {
        SchemaCompiler c(schema, lenient);
        return c.compile_root();
    } catch (const SchemaError& e) {
        return make_error(e.message);
    } catch (const std::exception& e) {
        return make_error(std::string("JSON schema could not be compiled: ") + e.what());
    }
}

}  // namespace hearth::chat::grammar
