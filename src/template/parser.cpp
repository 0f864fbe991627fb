#include "template/parser.h"

#include <cerrno>
#include <cstdlib>
#include <set>

namespace hearth::tmpl {
namespace {

class Parser {
public:
    Parser(const std::vector<Token>& t, int max_depth) : t_(t), max_depth_(max_depth) {}

    Body parse_all() {
        std::string end;
        Body body = parse_until({}, end);
        return body;
    }

private:
    const Token& cur() const { return t_[p_]; }
    const Token& peek(size_t k = 1) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
    void next() { if (p_ + 1 < t_.size()) ++p_; }

    [[noreturn]] void fail(const std::string& msg) const { throw TemplateError{msg, cur().line, cur().column}; }

    bool is_op(const char* op) const { return cur().type == Tok::Op && cur().text == op; }
    bool is_name(const char* n) const { return cur().type == Tok::Name && cur().text == n; }
    bool skip_op(const char* op) { if (is_op(op)) { next(); return true; } return false; }
    bool skip_name(const char* n) { if (is_name(n)) { next(); return true; } return false; }
    void expect_op(const char* op) {
        if (!skip_op(op)) fail(std::string("expected '") + op + "', got " + describe(cur()));
    }
    void expect_block_end() {
        if (cur().type != Tok::BlockEnd) fail("expected end of statement block, got " + describe(cur()));
        next();
    }
    std::string expect_name() {
        if (cur().type != Tok::Name) fail("expected name, got " + describe(cur()));
        std::string n = cur().text;
        next();
        return n;
    }
    static std::string describe(const Token& t) {
        switch (t.type) {
            case Tok::Eof: return "end of template";
            case Tok::BlockEnd: return "'%}'";
            case Tok::VarEnd: return "'}}'";
            case Tok::Text: return "text";
            case Tok::String: return "string";
            default: return "'" + t.text + "'";
        }
    }

    struct DepthGuard {
        Parser& p;
        explicit DepthGuard(Parser& pp) : p(pp) {
            if (++p.depth_ > p.max_depth_) p.fail("template nesting too deep");
        }
        ~DepthGuard() { --p.depth_; }
    };

    // Left-associative chains (a + b + c, x|f|g, a.b.c) nest the tree without nesting
    // the parser's calls; each link counts toward the depth limit until the chain ends.
    struct ChainGuard {
        Parser& p;
        int n = 0;
        explicit ChainGuard(Parser& pp) : p(pp) {}
        void step() {
            ++n;
            if (++p.depth_ > p.max_depth_) p.fail("template nesting too deep");
        }
        ~ChainGuard() { p.depth_ -= n; }
    };

    ExprPtr make(ExprType type, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->type = type;
        e->line = at.line;
        e->column = at.column;
        return e;
    }
    NodePtr make_node(NodeType type, const Token& at) {
        auto n = std::make_unique<Node>();
        n->type = type;
        n->line = at.line;
        n->column = at.column;
        return n;
    }

    // ---- statements -------------------------------------------------------------

    // Parses nodes until a block tag whose keyword is in `ends`; leaves the keyword as
    // the current token and stores it in `found`. With no ends, parses until Eof.
    Body parse_until(const std::set<std::string>& ends, std::string& found) {
        DepthGuard g(*this);
        Body body;
        while (true) {
            const Token& t = cur();
            if (t.type == Tok::Eof) {
                if (!ends.empty()) fail("unexpected end of template; expected one of: " + join(ends));
                return body;
            }
            if (t.type == Tok::Text) {
                auto n = make_node(NodeType::Text, t);
                n->text = t.text;
                body.push_back(std::move(n));
                next();
            } else if (t.type == Tok::VarBegin) {
                auto n = make_node(NodeType::Output, t);
                next();
                n->expr = parse_tuple(true);
                if (cur().type != Tok::VarEnd) fail("expected '}}', got " + describe(cur()));
                next();
                body.push_back(std::move(n));
            } else if (t.type == Tok::BlockBegin) {
                next();
                if (cur().type == Tok::Name && ends.count(cur().text)) {
                    found = cur().text;
                    return body;
                }
                body.push_back(parse_statement());
            } else {
                fail("unexpected " + describe(t));
            }
        }
    }

    static std::string join(const std::set<std::string>& s) {
        std::string out;
        for (const auto& x : s) out += (out.empty() ? "'" : ", '") + x + "'";
        return out;
    }

    NodePtr parse_statement() {
        const Token& kw = cur();
        if (kw.type != Tok::Name) fail("expected statement keyword, got " + describe(kw));
        std::string k = kw.text;
        Token at = kw;
        next();
        std::string found;
        if (k == "if") {
            auto n = make_node(NodeType::If, at);
            ExprPtr cond = parse_tuple(true);
            expect_block_end();
            while (true) {
                Body b = parse_until({"elif", "else", "endif"}, found);
                n->branches.emplace_back(std::move(cond), std::move(b));
                next();
                if (found == "elif") {
                    cond = parse_tuple(true);
                    expect_block_end();
                    continue;
                }
                if (found == "else") {
                    expect_block_end();
                    n->else_body = parse_until({"endif"}, found);
                    next();
                }
                expect_block_end();
                return n;
            }
        }
        if (k == "for") {
            auto n = make_node(NodeType::For, at);
            n->target = parse_target(false);
            if (!skip_name("in")) fail("expected 'in' in for loop, got " + describe(cur()));
            n->expr = parse_tuple(false);
            if (skip_name("if")) n->cond = parse_expr();
            if (skip_name("recursive")) n->recursive = true;
            expect_block_end();
            ++loop_depth_;
            n->body = parse_until({"else", "endfor"}, found);
            --loop_depth_;
            next();
            if (found == "else") {
                expect_block_end();
                n->else_body = parse_until({"endfor"}, found);
                next();
            }
            expect_block_end();
            return n;
        }
        if (k == "set") {
            Target target = parse_target(true);
            if (skip_op("=")) {
                auto n = make_node(NodeType::Set, at);
                n->target = std::move(target);
                n->expr = parse_tuple(true);
                expect_block_end();
                return n;
            }
            auto n = make_node(NodeType::SetBlock, at);
            n->target = std::move(target);
            if (is_op("|")) n->expr = parse_filter_chain();
            expect_block_end();
            n->body = parse_until({"endset"}, found);
            next();
            expect_block_end();
            return n;
        }
        if (k == "macro") {
            auto n = make_node(NodeType::Macro, at);
            n->text = expect_name();
            parse_params(n->params);
            expect_block_end();
            int saved_loops = loop_depth_;
            loop_depth_ = 0;
            n->body = parse_until({"endmacro"}, found);
            loop_depth_ = saved_loops;
            next();
            if (cur().type == Tok::Name) next();  // optional macro name after endmacro
            expect_block_end();
            return n;
        }
        if (k == "call") {
            auto n = make_node(NodeType::CallBlock, at);
            if (is_op("(")) parse_params(n->params);
            n->expr = parse_expr();
            if (n->expr->type != ExprType::Call) fail("expected call");
            expect_block_end();
            int saved_loops = loop_depth_;
            loop_depth_ = 0;
            n->body = parse_until({"endcall"}, found);
            loop_depth_ = saved_loops;
            next();
            expect_block_end();
            return n;
        }
        if (k == "filter") {
            auto n = make_node(NodeType::FilterBlock, at);
            n->expr = parse_filter_chain();
            expect_block_end();
            n->body = parse_until({"endfilter"}, found);
            next();
            expect_block_end();
            return n;
        }
        if (k == "with") {
            auto n = make_node(NodeType::With, at);
            while (cur().type != Tok::BlockEnd) {
                if (!n->params.empty()) expect_op(",");
                std::string name = expect_name();
                expect_op("=");
                n->params.emplace_back(name, parse_expr());
            }
            expect_block_end();
            n->body = parse_until({"endwith"}, found);
            next();
            expect_block_end();
            return n;
        }
        if (k == "generation") {
            auto n = make_node(NodeType::Scope, at);
            expect_block_end();
            n->body = parse_until({"endgeneration"}, found);
            next();
            expect_block_end();
            return n;
        }
        if (k == "break" || k == "continue") {
            if (loop_depth_ == 0) {
                p_--;
                fail("'" + k + "' outside of a loop");
            }
            auto n = make_node(k == "break" ? NodeType::Break : NodeType::Continue, at);
            expect_block_end();
            return n;
        }
        p_--;
        fail("Encountered unknown tag '" + k + "'");
    }

    void parse_params(std::vector<std::pair<std::string, ExprPtr>>& params) {
        expect_op("(");
        while (!is_op(")")) {
            if (!params.empty()) expect_op(",");
            if (is_op(")")) break;
            std::string name = expect_name();
            ExprPtr def;
            if (skip_op("=")) def = parse_expr();
            params.emplace_back(name, std::move(def));
        }
        expect_op(")");
    }

    Target parse_target(bool allow_attr) {
        Target t;
        bool paren = skip_op("(");
        t.names.push_back(expect_name());
        if (allow_attr && !paren && skip_op(".")) {
            t.ns_attr = expect_name();
            return t;
        }
        while (skip_op(",")) {
            t.tuple = true;
            if (cur().type != Tok::Name) break;
            t.names.push_back(expect_name());
        }
        if (paren) { expect_op(")"); t.tuple = true; }
        return t;
    }

    // ---- expressions ------------------------------------------------------------

    ExprPtr parse_tuple(bool with_condexpr) {
        const Token at = cur();
        ExprPtr first = with_condexpr ? parse_expr() : parse_or();
        if (!is_op(",")) return first;
        auto tup = make(ExprType::Tuple, at);
        tup->children.push_back(std::move(first));
        while (skip_op(",")) {
            if (cur().type == Tok::BlockEnd || cur().type == Tok::VarEnd || is_op(")") || is_name("if")) break;
            tup->children.push_back(with_condexpr ? parse_expr() : parse_or());
        }
        return tup;
    }

    ExprPtr parse_expr() {
        ChainGuard chain(*this);
        DepthGuard g(*this);
        const Token at = cur();
        ExprPtr e = parse_or();
        while (skip_name("if")) {
            chain.step();
            auto c = make(ExprType::Cond, at);
            ExprPtr cond = parse_or();
            ExprPtr other;
            if (skip_name("else")) other = parse_expr();
            c->children.push_back(std::move(e));
            c->children.push_back(std::move(cond));
            c->children.push_back(std::move(other));
            e = std::move(c);
        }
        return e;
    }

    ExprPtr parse_or() {
        ChainGuard chain(*this);
        ExprPtr e = parse_and();
        while (is_name("or")) {
            chain.step();
            auto n = make(ExprType::Or, cur());
            next();
            n->children.push_back(std::move(e));
            n->children.push_back(parse_and());
            e = std::move(n);
        }
        return e;
    }

    ExprPtr parse_and() {
        ChainGuard chain(*this);
        ExprPtr e = parse_not();
        while (is_name("and")) {
            chain.step();
            auto n = make(ExprType::And, cur());
            next();
            n->children.push_back(std::move(e));
            n->children.push_back(parse_not());
            e = std::move(n);
        }
        return e;
    }

    ExprPtr parse_not() {
        DepthGuard g(*this);
        if (is_name("not")) {
            auto n = make(ExprType::Unary, cur());
            n->name = "not";
            next();
            n->children.push_back(parse_not());
            return n;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        ChainGuard chain(*this);
        const Token at = cur();
        ExprPtr e = parse_math1();
        ExprPtr cmp;
        while (true) {
            chain.step();
            std::string op;
            if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                          cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
                op = cur().text;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
                op = "notin";
                next();
                next();
            } else {
                break;
            }
            if (!cmp) {
                cmp = make(ExprType::Compare, at);
                cmp->children.push_back(std::move(e));
            }
            cmp->ops.push_back(op);
            cmp->children.push_back(parse_math1());
        }
        return cmp ? std::move(cmp) : std::move(e);
    }

    ExprPtr binary(const Token& at, std::string op, ExprPtr l, ExprPtr r) {
        auto n = make(ExprType::Binary, at);
        n->name = std::move(op);
        n->children.push_back(std::move(l));
        n->children.push_back(std::move(r));
        return n;
    }

    ExprPtr parse_math1() {
        ChainGuard chain(*this);
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            chain.step();
            Token at = cur();
            next();
            e = binary(at, at.text, std::move(e), parse_concat());
        }
        return e;
    }

    ExprPtr parse_concat() {
        ChainGuard chain(*this);
        ExprPtr e = parse_math2();
        while (is_op("~")) {
            chain.step();
            Token at = cur();
            next();
            e = binary(at, "~", std::move(e), parse_math2());
        }
        return e;
    }

    ExprPtr parse_math2() {
        ChainGuard chain(*this);
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            chain.step();
            Token at = cur();
            next();
            e = binary(at, at.text, std::move(e), parse_pow());
        }
        return e;
    }

    ExprPtr parse_pow() {
        ChainGuard chain(*this);
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            chain.step();
            Token at = cur();
            next();
            e = binary(at, "**", std::move(e), parse_unary(true));
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        DepthGuard g(*this);
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            auto n = make(ExprType::Unary, cur());
            n->name = cur().text;
            next();
            n->children.push_back(parse_unary(false));
            e = std::move(n);
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filter_expr(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        DepthGuard g(*this);
        const Token t = cur();
        switch (t.type) {
            case Tok::Name: {
                next();
                auto e = make(ExprType::Literal, t);
                if (t.text == "true" || t.text == "True") e->value = Value::boolean(true);
                else if (t.text == "false" || t.text == "False") e->value = Value::boolean(false);
                else if (t.text == "none" || t.text == "None") e->value = Value::none();
                else { e->type = ExprType::Name; e->name = t.text; }
                return e;
            }
            case Tok::String: {
                std::string s;
                while (cur().type == Tok::String) { s += cur().text; next(); }
                auto e = make(ExprType::Literal, t);
                e->value = Value::string(std::move(s));
                return e;
            }
            case Tok::Int: {
                next();
                auto e = make(ExprType::Literal, t);
                errno = 0;
                long long v = std::strtoll(t.text.c_str(), nullptr, 10);
                if (errno == ERANGE) e->value = Value::number(std::strtod(t.text.c_str(), nullptr));
                else e->value = Value::integer(v);
                return e;
            }
            case Tok::Float: {
                next();
                auto e = make(ExprType::Literal, t);
                e->value = Value::number(std::strtod(t.text.c_str(), nullptr));
                return e;
            }
            case Tok::Op:
                if (t.text == "(") {
                    next();
                    if (skip_op(")")) return make(ExprType::Tuple, t);
                    ExprPtr first = parse_expr();
                    if (!is_op(",")) { expect_op(")"); return first; }
                    auto tup = make(ExprType::Tuple, t);
                    tup->children.push_back(std::move(first));
                    while (skip_op(",")) {
                        if (is_op(")")) break;
                        tup->children.push_back(parse_expr());
                    }
                    expect_op(")");
                    return tup;
                }
                if (t.text == "[") {
                    next();
                    auto list = make(ExprType::List, t);
                    while (!is_op("]")) {
                        if (!list->children.empty()) expect_op(",");
                        if (is_op("]")) break;
                        list->children.push_back(parse_expr());
                    }
                    expect_op("]");
                    return list;
                }
                if (t.text == "{") {
                    next();
                    auto dict = make(ExprType::Dict, t);
                    while (!is_op("}")) {
                        if (!dict->children.empty()) expect_op(",");
                        if (is_op("}")) break;
                        dict->children.push_back(parse_expr());
                        expect_op(":");
                        dict->children.push_back(parse_expr());
                    }
                    expect_op("}");
                    return dict;
                }
                break;
            default: break;
        }
        fail("unexpected " + describe(t));
    }

    ExprPtr parse_postfix(ExprPtr e) {
        ChainGuard chain(*this);
        while (true) {
            chain.step();
            const Token t = cur();
            if (is_op(".")) {
                next();
                if (cur().type == Tok::Name) {
                    auto n = make(ExprType::GetAttr, t);
                    n->name = cur().text;
                    next();
                    n->children.push_back(std::move(e));
                    e = std::move(n);
                } else if (cur().type == Tok::Int) {
                    auto n = make(ExprType::GetItem, t);
                    auto idx = make(ExprType::Literal, cur());
                    idx->value = Value::integer(std::strtoll(cur().text.c_str(), nullptr, 10));
                    next();
                    n->children.push_back(std::move(e));
                    n->children.push_back(std::move(idx));
                    e = std::move(n);
                } else {
                    fail("expected attribute name after '.'");
                }
            } else if (is_op("[")) {
                next();
                e = parse_subscript(t, std::move(e));
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(const Token& at, ExprPtr obj) {
        ExprPtr parts[3];
        bool slice = false;
        int idx = 0;
        while (!is_op("]")) {
            if (is_op(":")) {
                slice = true;
                if (++idx > 2) fail("invalid slice");
                next();
                continue;
            }
            if (parts[idx]) fail("expected ']'");
            parts[idx] = parse_expr();
            if (!slice && is_op(",")) fail("tuple subscripts are not supported");
        }
        expect_op("]");
        if (!slice) {
            if (!parts[0]) fail("expected subscript expression");
            auto n = make(ExprType::GetItem, at);
            n->children.push_back(std::move(obj));
            n->children.push_back(std::move(parts[0]));
            return n;
        }
        auto n = make(ExprType::Slice, at);
        n->children.push_back(std::move(obj));
        for (auto& part : parts) n->children.push_back(std::move(part));
        return n;
    }

    void parse_args(Expr& call) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
                std::string name = cur().text;
                next();
                next();
                call.kwargs.emplace_back(name, parse_expr());
            } else {
                if (!call.kwargs.empty()) fail("positional argument follows keyword argument");
                call.children.push_back(parse_expr());
            }
        }
        expect_op(")");
    }

    ExprPtr parse_call(ExprPtr callee) {
        DepthGuard g(*this);
        auto n = make(ExprType::Call, cur());
        n->line = callee->line;
        n->column = callee->column;
        n->children.push_back(std::move(callee));
        parse_args(*n);
        return n;
    }

    std::string dotted_name() {
        std::string name = expect_name();
        while (is_op(".") && peek().type == Tok::Name) {
            next();
            name += "." + expect_name();
        }
        return name;
    }

    ExprPtr parse_filter(ExprPtr input) {
        DepthGuard g(*this);
        auto n = make(ExprType::Filter, cur());
        n->name = dotted_name();
        n->children.push_back(std::move(input));
        if (is_op("(")) parse_args(*n);
        return n;
    }

    // For {% filter %} and {% set x | f %}: a filter chain applied to the block body.
    ExprPtr parse_filter_chain() {
        skip_op("|");
        ChainGuard chain(*this);
        ExprPtr e = parse_filter(nullptr);
        while (skip_op("|")) {
            chain.step();
            e = parse_filter(std::move(e));
        }
        return e;
    }

    ExprPtr parse_filter_expr(ExprPtr e) {
        ChainGuard chain(*this);
        while (true) {
            chain.step();
            if (is_op("|")) {
                next();
                e = parse_filter(std::move(e));
            } else if (is_name("is")) {
                auto n = make(ExprType::Test, cur());
                next();
                if (skip_name("not")) n->negated = true;
                n->name = dotted_name();
                n->children.push_back(std::move(e));
                if (is_op("(")) {
                    parse_args(*n);
                } else {
                    const Token& c = cur();
                    bool arg = c.type == Tok::String || c.type == Tok::Int || c.type == Tok::Float ||
                               (c.type == Tok::Op && (c.text == "[" || c.text == "{")) ||
                               (c.type == Tok::Name && c.text != "else" && c.text != "or" && c.text != "and" &&
                                c.text != "not" && c.text != "if" && c.text != "in" && c.text != "is");
                    if (arg) n->children.push_back(parse_postfix(parse_primary()));
                }
                e = std::move(n);
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    const std::vector<Token>& t_;
    size_t p_ = 0;
    int depth_ = 0;
    int max_depth_;
    int loop_depth_ = 0;
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens, int max_depth) {
    return Parser(tokens, max_depth).parse_all();
}

}  // namespace hearth::tmpl
