// libFuzzer target: the input is a JSON schema, a newline, then bytes to match. The schema
// (when it parses) is compiled into a grammar and the bytes are walked through the
// matcher. Nothing may crash or hang, bad schemas must be error values, and every prefix
// the grammar accepts as complete must be valid JSON (an object when there is no schema).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/json_grammar.h"
#include "chat/json_schema_grammar.h"

using hearth::chat::grammar::GrammarMatcher;
using json = nlohmann::ordered_json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 16 * 1024) return 0;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const size_t nl = in.find('\n');
    std::string_view head = in.substr(0, nl == std::string_view::npos ? in.size() : nl);
    std::string_view text = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

    json schema;
    const bool any_object = head.empty() || head == "-";
    if (!any_object) {
        schema = json::parse(head, nullptr, false);
        if (schema.is_discarded()) return 0;
    }
    auto g = hearth::chat::grammar::json_schema_grammar(any_object ? nullptr : &schema);
    if (!g.ok()) return 0;
    GrammarMatcher m(g.value());
    int32_t s = m.initial();
    for (size_t i = 0; i < text.size() && s != GrammarMatcher::kDead; ++i) {
        s = m.step(s, static_cast<uint8_t>(text[i]));
        if (m.accepting(s)) {
            json v = json::parse(text.substr(0, i + 1), nullptr, false);
            if (v.is_discarded() || (any_object && !v.is_object())) std::abort();
        }
        if (m.n_sets() > 5000) s = m.compact(s);
    }
    return 0;
}
