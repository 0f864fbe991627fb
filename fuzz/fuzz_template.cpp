// libFuzzer target: arbitrary bytes parsed as a Jinja chat template and, when they parse,
// rendered against a small fixed chat context under tight limits. Neither parsing nor
// rendering may crash, hang or grow without bound: every failure must be an error value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "template/template.h"

namespace {

const nlohmann::ordered_json& context() {
    static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Hi \u00e9"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function",
              "function": {"name": "f", "arguments": {"x": 1, "y": [1.5, null, true]}}}]},
            {"role": "tool", "tool_call_id": "call12345", "content": "ok"}
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "add_generation_prompt": true,
        "bos_token": "<s>",
        "eos_token": "</s>"
    })");
    return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;
    hearth::tmpl::Limits limits;
    limits.max_output_bytes = 1 << 20;
    limits.max_loop_iterations = 20000;
    limits.max_call_depth = 40;
    limits.max_parse_depth = 100;
    std::string_view source(reinterpret_cast<const char*>(data), size);
    auto t = hearth::tmpl::Template::parse(source, limits);
    if (!t.ok()) return 0;
    hearth::tmpl::RenderOptions options;
    options.limits = limits;
    options.now = 0;
    auto out = t->render(context(), options);
    if (out.ok() && out->size() > limits.max_output_bytes) __builtin_trap();
    return 0;
}
