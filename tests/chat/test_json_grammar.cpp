// The schema -> grammar compiler and the byte matcher, on texts: what each schema must
// accept and reject, and the errors for schemas it cannot express.
#include <gtest/gtest.h>

#include "chat/json_grammar.h"
#include "chat/json_schema_grammar.h"

namespace {

using hearth::chat::grammar::Grammar;
using hearth::chat::grammar::GrammarMatcher;
using hearth::chat::grammar::json_schema_grammar;
using json = nlohmann::ordered_json;

struct Checker {
    explicit Checker(const json* schema) {
        auto g = json_schema_grammar(schema);
        EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
        if (g.ok()) m = std::make_unique<GrammarMatcher>(g.value());
    }
    int32_t run(std::string_view text) { return m->step(m->initial(), text); }
    bool accepts(std::string_view text) { return m && m->accepting(run(text)); }
    bool viable(std::string_view prefix) { return m && run(prefix) != GrammarMatcher::kDead; }
    std::unique_ptr<GrammarMatcher> m;
};

Checker schema_checker(const char* schema_text) {
    static std::vector<std::unique_ptr<json>> keep;  // the compiler reads the schema only while building
    keep.push_back(std::make_unique<json>(json::parse(schema_text)));
    return Checker(keep.back().get());
}

TEST(JsonGrammar, AnyObject) {
    Checker c(nullptr);
    for (const char* ok : {"{}", "{ }", "{\"a\":1}", "{\"a\": [1, -2.5e+3, \"x\", null, true, false, {\"b\": {}}, []]}",
                           "{\n  \"a\": {\n    \"b\": 0.5\n  },\n  \"c\": \"\\u00e9\\n\\\"\"\n}",
                           "{\"emoji\": \"\xF0\x9F\x98\x80 \\ud83d\\ude00\", \"e\": \"\xC3\xA9\"}", "{\"\":0}"})
        EXPECT_TRUE(c.accepts(ok)) << ok;
    for (const char* bad : {"[]", "1", "\"x\"", "{\"a\":1,}", "{a:1}", " {}", "{} ", "{}\n", "{\"a\":01}",
                            "{\"a\":1.}", "{\"a\":\"\x01\"}", "{\"a\":\"\xC3\x28\"}", "{\"a\":\"\\ud800\"}",
                            "{\"a\":\"\\ude00\"}", "{\"a\":\"\\x\"}", "{\"a\":tru}", "{\"a\"  :1}", "{\"a\":\"\xED\xA0\x80\"}"})
        EXPECT_FALSE(c.accepts(bad)) << bad;
    // Complete: nothing may follow the closing brace, so the output is finished.
    int32_t s = c.run("{\"a\":[1]}");
    EXPECT_TRUE(c.m->accepting(s));
    EXPECT_FALSE(c.m->can_continue(s));
    EXPECT_FALSE(c.viable("{\"a\":[1]} "));
    // Indentation is bounded as in llama.cpp's JSON grammar ("\n" and at most 20), so
    // whitespace cannot run forever.
    EXPECT_TRUE(c.viable("{\n" + std::string(20, ' ')));
    EXPECT_FALSE(c.viable("{\n" + std::string(21, ' ')));
    EXPECT_FALSE(c.viable("{\n\n"));
    EXPECT_FALSE(c.viable("{\"a\":12345678901234567"));  // 17 digits
    EXPECT_TRUE(c.viable("{\"a\":1234567890123456"));
}

TEST(JsonGrammar, ObjectProperties) {
    auto c = schema_checker(R"({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["name", "tags"]})");
    EXPECT_TRUE(c.accepts(R"({"name":"Ann","age":3,"tags":[]})"));
    EXPECT_TRUE(c.accepts(R"({"name": "Ann", "tags": ["a", "b"]})"));
    EXPECT_FALSE(c.accepts(R"({"name":"Ann","age":3})"));               // tags is required
    EXPECT_FALSE(c.accepts(R"({"name":"Ann","age":3.5,"tags":[]})"));   // integer
    EXPECT_FALSE(c.accepts(R"({"name":"Ann","tags":[],"x":1})"));       // no extra properties
    EXPECT_FALSE(c.accepts(R"({"tags":[],"name":"Ann"})"));             // declared order
    EXPECT_FALSE(c.accepts(R"({"name":"Ann","tags":[1]})"));
    // A number at the top level may end at any digit: accepting, yet it can continue.
    auto n = schema_checker(R"({"type": "number"})");
    int32_t s = n.run("12");
    EXPECT_TRUE(n.m->accepting(s));
    EXPECT_TRUE(n.m->can_continue(s));
    EXPECT_TRUE(n.accepts("-0.25E-7"));
    EXPECT_FALSE(n.accepts("+1"));
    EXPECT_TRUE(n.accepts("9e99"));
    EXPECT_FALSE(n.accepts("1e308"));  // three exponent digits could overflow a double
}

TEST(JsonGrammar, AdditionalPropertiesExcludeDeclaredNames) {
    auto c = schema_checker(R"({"type": "object", "properties": {"name": {"type": "string"}, "né": {"type": "integer"}},
        "additionalProperties": {"type": "boolean"}})");
    EXPECT_TRUE(c.accepts(R"({"name":"x","other":true})"));
    EXPECT_TRUE(c.accepts(R"({"other":true,"nam":false,"names":true,"n":true,"nê":false})"));
    EXPECT_FALSE(c.accepts(R"({"name":"x","name":true})"));
    EXPECT_FALSE(c.accepts(R"({"other":true,"né":true})"));
    EXPECT_FALSE(c.accepts(R"({"n\u0061me":true})"));   // an escaped spelling of a declared name
    EXPECT_TRUE(c.accepts(R"({"x\u0061me":true})"));    // escapes are fine once the name differs
    EXPECT_FALSE(c.accepts(R"({"other":1})"));
}

TEST(JsonGrammar, EnumConstAnyOfRefAndCounts) {
    auto e = schema_checker(R"({"enum": ["red", "gr\"een", 3, null, {"k": [1]}]})");
    for (const char* ok : {"\"red\"", "\"gr\\\"een\"", "3", "null", "{\"k\":[1]}"}) EXPECT_TRUE(e.accepts(ok)) << ok;
    for (const char* bad : {"\"re\"", "\"blue\"", "30", "{\"k\": [1]}"}) EXPECT_FALSE(e.accepts(bad)) << bad;

    auto k = schema_checker(R"({"const": "x"})");
    EXPECT_TRUE(k.accepts("\"x\""));
    EXPECT_FALSE(k.accepts("\"y\""));

    auto a = schema_checker(R"({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "boolean"},
        "minItems": 2, "maxItems": 3}]})");
    EXPECT_TRUE(a.accepts("42"));
    EXPECT_TRUE(a.accepts("[true, false]"));
    EXPECT_TRUE(a.accepts("[true,false,true]"));
    EXPECT_FALSE(a.accepts("[true]"));
    EXPECT_FALSE(a.accepts("[true,false,true,false]"));
    EXPECT_FALSE(a.accepts("4.5"));

    // Recursion through $ref: a tree of nodes.
    auto r = schema_checker(R"({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
        "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        "required": ["v"]}}})");
    EXPECT_TRUE(r.accepts(R"({"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":4,"kids":[]}]}]})"));
    EXPECT_FALSE(r.accepts(R"({"v":1,"kids":[{"kids":[]}]})"));

    auto s = schema_checker(R"({"type": ["string", "null"], "minLength": 2, "maxLength": 3})");
    EXPECT_TRUE(s.accepts("null"));
    EXPECT_TRUE(s.accepts("\"ab\""));
    EXPECT_TRUE(s.accepts("\"\xC3\xA9\\n\\u0041\""));  // three code points
    EXPECT_FALSE(s.accepts("\"a\""));
    EXPECT_FALSE(s.accepts("\"abcd\""));

    auto nl = schema_checker(R"({"type": "object", "properties": {"x": {"type": "boolean", "nullable": true}},
        "required": ["x"]})");
    EXPECT_TRUE(nl.accepts(R"({"x":null})"));
    EXPECT_TRUE(nl.accepts(R"({"x":true})"));

    auto all = schema_checker(R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}},
        "required": ["a"]}, {"properties": {"b": {"type": "string"}}, "required": ["b"]}]})");
    EXPECT_TRUE(all.accepts(R"({"a":1,"b":"x"})"));
    EXPECT_FALSE(all.accepts(R"({"a":1})"));

    auto any = schema_checker(R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "anyOf": [{"required": ["a"]}, {"required": ["b"]}]})");
    EXPECT_TRUE(any.accepts(R"({"a":1})"));
    EXPECT_TRUE(any.accepts(R"({"b":1})"));
    EXPECT_FALSE(any.accepts(R"({})"));
    EXPECT_FALSE(any.accepts("1"));
}

TEST(JsonGrammar, SchemaErrors) {
    auto error_of = [](const char* text) {
        json s = json::parse(text);
        auto g = json_schema_grammar(&s);
        return g.ok() ? std::string("(ok)") : g.error().message;
    };
    EXPECT_NE(error_of(R"({"type": "string", "pattern": "a+"})").find("'pattern'"), std::string::npos);
    EXPECT_NE(error_of(R"({"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}})")
                  .find("#/properties/n: keyword 'minimum'"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"$ref": "#/$defs/missing"})").find("does not resolve"), std::string::npos);
    EXPECT_NE(error_of(R"({"$ref": "http://example.com/s.json"})").find("only local $ref"), std::string::npos);
    EXPECT_NE(error_of(R"({"type": "strin"})").find("unknown type 'strin'"), std::string::npos);
    EXPECT_NE(error_of(R"({"type": "array", "maxItems": 100000})").find("maxItems"), std::string::npos);
    EXPECT_NE(error_of("false").find("accepts no value"), std::string::npos);
    EXPECT_NE(error_of("[1]").find("must be an object"), std::string::npos);
    // Annotations are not errors.
    EXPECT_EQ(error_of(R"({"type": "string", "format": "date-time", "description": "d", "title": "t"})"), "(ok)");
    // Deep nesting is refused, not a crash.
    std::string deep;
    for (int i = 0; i < 500; ++i) deep += R"({"type": "array", "items": )";
    deep += "{}";
    for (int i = 0; i < 500; ++i) deep += "}";
    EXPECT_NE(error_of(deep.c_str()).find("nests too deeply"), std::string::npos);
}

TEST(JsonGrammar, FewestBytesToClose) {
    Checker any(nullptr);
    EXPECT_EQ(any.m->min_completion(any.m->initial()), 2) << "{}";
    EXPECT_EQ(any.m->min_completion(any.run("{\"ab")), 4) << "\":0}";
    EXPECT_EQ(any.m->min_completion(any.run("{\"a\":[[\"x")), 4) << "\"]]}";
    EXPECT_EQ(any.m->min_completion(any.run("{}")), 0);
    EXPECT_EQ(any.m->min_completion(GrammarMatcher::kDead), Grammar::kNever);
    // Required keys count: {"city":"","days":[]}.
    auto trip = schema_checker(R"({"type":"object","properties":{"city":{"type":"string"},
        "days":{"type":"array","items":{"type":"integer"}}},"required":["city","days"],"additionalProperties":false})");
    EXPECT_EQ(trip.m->min_completion(trip.m->initial()), static_cast<int32_t>(std::string(R"({"city":"","days":[]})").size()));
    EXPECT_EQ(trip.m->min_completion(trip.run(R"({"city":"Paris","days":[1)")), 2) << "]}";
}

}  // namespace
