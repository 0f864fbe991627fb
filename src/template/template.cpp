#include "template/template.h"

#include "template/lexer.h"
#include "template/parser.h"

namespace hearth::tmpl {

struct Template::Parsed {
    Body body;
    std::shared_ptr<const Frame> globals;
};

namespace {

// Unknown filters and tests are not checked here: like Jinja2 for a conditional branch,
// they fail only when evaluated (apply_filter/apply_test), so a template can guard a
// filter some engines lack (`{% if x is string %}{{ x | from_json }}{% endif %}`).

TemplateFailure to_failure(const TemplateError& e) {
    TemplateFailure f;
    f.line = e.line;
    f.column = e.column;
    if (!e.message.empty() && e.message[0] == '\x01') {
        f.raised = true;
        f.message = e.message.substr(1);
    } else {
        f.message = e.message;
    }
    return f;
}

}  // namespace

std::string TemplateFailure::formatted() const {
    std::string where = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
    return "template error at " + where + (raised ? "raise_exception: " : "") + message;
}

Result<Template> Template::parse(std::string_view source, const Limits& limits) {
    try {
        auto parsed = std::make_shared<Parsed>();
        parsed->body = parse_template(lex(source), limits.max_parse_depth);
        parsed->globals = make_globals();
        Template t;
        t.parsed_ = std::move(parsed);
        return t;
    } catch (const TemplateError& e) {
        return make_error(to_failure(e).formatted());
    } catch (const std::exception& e) {  // e.g. std::bad_alloc: still an error value
        return make_error(std::string("template error: ") + e.what());
    }
}

bool Template::render(const nlohmann::ordered_json& context, std::string& out, TemplateFailure& failure,
                      const RenderOptions& options) const {
    if (!parsed_) {
        failure = TemplateFailure{"template was not parsed", 0, 0, false};
        return false;
    }
    try {
        auto root = std::make_shared<Frame>();
        if (context.is_object())
            for (auto it = context.begin(); it != context.end(); ++it) (*root)[it.key()] = Value::from_json(it.value());
        Interpreter in(options.limits, root, parsed_->globals);
        in.now_override = options.now;
        out = in.render(parsed_->body);
        return true;
    } catch (const TemplateError& e) {
        failure = to_failure(e);
        return false;
    } catch (const std::exception& e) {
        failure = TemplateFailure{std::string("internal error: ") + e.what(), 0, 0, false};
        return false;
    }
}

Result<std::string> Template::render(const nlohmann::ordered_json& context, const RenderOptions& options) const {
    std::string out;
    TemplateFailure f;
    if (!render(context, out, f, options)) return make_error(f.formatted());
    return out;
}

Result<ChatTemplate> ChatTemplate::parse(std::string_view source, const Limits& limits) {
    auto t = Template::parse(source, limits);
    if (!t) return t.error();
    return ChatTemplate(std::move(t.value()));
}

nlohmann::ordered_json ChatTemplate::make_context(const nlohmann::ordered_json& messages,
                                                  const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                                  const std::string& bos, const std::string& eos,
                                                  const nlohmann::ordered_json& extra) {
    nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
    ctx["messages"] = messages;
    ctx["tools"] = tools;
    ctx["documents"] = nullptr;
    ctx["add_generation_prompt"] = add_generation_prompt;
    ctx["bos_token"] = bos;
    ctx["eos_token"] = eos;
    if (extra.is_object())
        for (auto it = extra.begin(); it != extra.end(); ++it) ctx[it.key()] = it.value();
    return ctx;
}

Result<std::string> ChatTemplate::apply(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                        bool add_generation_prompt, const std::string& bos, const std::string& eos,
                                        const nlohmann::ordered_json& extra, const RenderOptions& options) const {
    return template_.render(make_context(messages, tools, add_generation_prompt, bos, eos, extra), options);
}

}  // namespace hearth::tmpl
