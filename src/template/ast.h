// hearth/template — syntax tree of a parsed Jinja template: expressions and statements.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/value.h"

namespace hearth::tmpl {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprType {
    Literal,   // value
    Name,      // name
    List,      // children
    Tuple,     // children
    Dict,      // kwargs-like: keys[] paired with children[]
    Unary,     // name = "-", "+", "not"; children[0]
    Binary,    // name = operator; children[0], children[1]
    And,       // children[0], children[1]
    Or,        // children[0], children[1]
    Compare,   // children = operands; ops = operators (==, !=, <, <=, >, >=, in, notin)
    Cond,      // children = then, cond, else (else may be null)
    GetAttr,   // children[0], name
    GetItem,   // children[0], children[1]
    Slice,     // children[0], start, stop, step (each may be null)
    Call,      // children[0] = callee, children[1..] = positional args, kwargs
    Filter,    // children[0] = input (null in filter blocks), name, children[1..] args, kwargs
    Test,      // children[0] = input, name, children[1..] args, negated
};

struct Expr {
    ExprType type = ExprType::Literal;
    int line = 0, column = 0;
    Value value;
    std::string name;
    std::vector<ExprPtr> children;
    std::vector<std::string> ops;   // Compare operators / Dict keys are children pairs
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    bool negated = false;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

enum class NodeType { Text, Output, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, With, Break, Continue, Scope };

// A target of for/set: one or more names, or an attribute of a namespace (`ns.attr`).
struct Target {
    std::vector<std::string> names;
    bool tuple = false;
    std::string ns_attr;  // non-empty: names[0] is the namespace variable
};

struct Node {
    NodeType type = NodeType::Text;
    int line = 0, column = 0;
    std::string text;                                     // Text; Macro name
    ExprPtr expr;                                         // Output, Set value, For iterable, CallBlock call, FilterBlock filter
    ExprPtr cond;                                         // For filter
    std::vector<std::pair<ExprPtr, Body>> branches;       // If (cond, body)
    Body body;                                            // For, SetBlock, Macro, CallBlock, FilterBlock, With, Scope
    Body else_body;                                       // If, For
    Target target;                                        // For, Set, SetBlock
    std::vector<std::pair<std::string, ExprPtr>> params;  // Macro/CallBlock params (default may be null); With assignments
    bool recursive = false;
};

}  // namespace hearth::tmpl
