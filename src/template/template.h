// hearth/template — Jinja2 chat-template interpreter. Renders the Hugging Face chat
// templates stored in GGUF `tokenizer.chat_template` exactly as transformers'
// apply_chat_template does (Jinja2 sandbox, trim_blocks and lstrip_blocks on, the
// raise_exception and strftime_now globals, tojson as json.dumps(ensure_ascii=False)).
//
//   auto t = hearth::tmpl::Template::parse(source);
//   auto text = t->render(context_json);   // Result<std::string>
//
// Errors (syntax, unknown filter/test, runtime type errors, raise_exception, limits)
// are values carrying line and column. Untrusted templates cannot hang or exhaust
// memory: loops, recursion, nesting and output size are bounded by Limits.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "template/interpreter.h"

namespace hearth::tmpl {

struct TemplateFailure {
    std::string message;    // for raise_exception: the template's own message
    int line = 0;
    int column = 0;
    bool raised = false;    // true when the template called raise_exception(...)
    std::string formatted() const;
};

struct RenderOptions {
    Limits limits;
    int64_t now = -1;  // fixed time for strftime_now (seconds since epoch, UTC); <0: local clock
};

class Template {
public:
    static Result<Template> parse(std::string_view source, const Limits& limits = {});

    Result<std::string> render(const nlohmann::ordered_json& context, const RenderOptions& options = {}) const;
    // Same, but with the failure details (raise_exception flag, line, column).
    bool render(const nlohmann::ordered_json& context, std::string& out, TemplateFailure& failure,
                const RenderOptions& options = {}) const;

private:
    struct Parsed;
    std::shared_ptr<const Parsed> parsed_;
};

// transformers' apply_chat_template(messages, tools=..., add_generation_prompt=...):
// context is {messages, tools (none when null), documents: none, add_generation_prompt,
// bos_token, eos_token, ...extra}.
class ChatTemplate {
public:
    static Result<ChatTemplate> parse(std::string_view source, const Limits& limits = {});

    Result<std::string> apply(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                              bool add_generation_prompt, const std::string& bos, const std::string& eos,
                              const nlohmann::ordered_json& extra = nlohmann::ordered_json::object(),
                              const RenderOptions& options = {}) const;
    static nlohmann::ordered_json make_context(const nlohmann::ordered_json& messages,
                                               const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                               const std::string& bos, const std::string& eos,
                                               const nlohmann::ordered_json& extra);
    const Template& tmpl() const { return template_; }

private:
    explicit ChatTemplate(Template t) : template_(std::move(t)) {}
    Template template_;
};

}  // namespace hearth::tmpl
