// Unit tests of the Jinja interpreter: each case is a template, a context and the exact
// output Jinja2 (transformers' environment: trim_blocks, lstrip_blocks) produces.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/shared_data.h"
#include "template/template.h"

namespace {

using hearth::tmpl::ChatTemplate;
using hearth::tmpl::Limits;
using hearth::tmpl::RenderOptions;
using hearth::tmpl::Template;
using hearth::tmpl::TemplateFailure;
using json = nlohmann::ordered_json;

int g_checked = 0;

json default_ctx() {
    return json::parse(R"({
        "d": {"a": 1, "b": "x"},
        "users": [{"name": "a", "active": true, "age": 3}, {"name": "b", "active": false, "age": 1},
                  {"name": "c", "active": true, "age": 2}],
        "order": {"z": 1, "a": 2}
    })");
}

std::string render(const std::string& src, const json& ctx = default_ctx(), RenderOptions opts = {}) {
    auto t = Template::parse(src);
    if (!t.ok()) return "PARSE ERROR: " + t.error().message;
    std::string out;
    TemplateFailure f;
    if (!t->render(ctx, out, f, opts)) return "RENDER ERROR: " + f.formatted();
    return out;
}

struct Case {
    const char* src;
    const char* expected;
};

void check_all(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        EXPECT_EQ(render(c.src), c.expected) << "template: " << c.src;
        ++g_checked;
    }
}

TEST(TemplateUnits, WhitespaceControl) {
    check_all({
        {"{% if true %}\nyes\n{% endif %}\n", "yes\n"},
        {"  {% if true %}x{% endif %}", "x"},
        {"a  {% if true %}x{% endif %}", "a  x"},
        {"{{ 'a' }}  \n  {{- 'b' }}", "ab"},
        {"{%- if true -%}  x  {%- endif -%}", "x"},
        {"  {%+ if true %}x{% endif %}", "  x"},
        {"{% if true +%}\nx{% endif %}", "\nx"},
        {"a\n  {# comment #}\nb", "a\nb"},
        {"{{ 'a' }}\nb", "a\nb"},
        {"x {{- ' y' -}} z", "x yz"},
        {"{% if true %}{% endif %}  {% if true %}x{% endif %}", "  x"},
        {"{% if true %}\n  {% if true %}x{% endif %}{% endif %}", "x"},
        {"<\n{%- for x in [1, 2] %}\n  {{ x }}\n{%- endfor %}\n>", "<  1  2>"},
        {"<\n{%- for x in [1, 2] %}\n  {{- x }}\n{% endfor %}\n>", "<1\n2\n>"},
        {"{% for x in [1, 2] %}\n    {{ x }}\n{% endfor %}", "    1\n    2\n"},
        {"{#- c -#}  a", "a"},
        {"line\r\nnext\r\n", "line\nnext"},
        {"{% raw %}{{ not evaluated }}{% endraw %}", "{{ not evaluated }}"},
    });
}

TEST(TemplateUnits, Loops) {
    check_all({
        {"{% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
         "{{ loop.revindex }}|{% endfor %}",
         "10TrueFalse33|21FalseFalse32|32FalseTrue31|"},
        {"{% for x in [] %}a{% else %}empty{% endfor %}", "empty"},
        {"{% for x in range(10) if x is even %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", "0,2,4,6,8"},
        {"{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;"},
        {"{% for x in range(10) %}{% if x == 5 %}{% break %}{% endif %}{% if x is odd %}{% continue %}{% endif %}"
         "{{ x }}{% endfor %}",
         "024"},
        {"{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }},{% endfor %}", "-2,1-3,2-,"},
        {"{% for x in range(4) %}{{ loop.cycle('a', 'b') }}{% endfor %}", "abab"},
        {"{% for x in range(1, 10, 3) %}{{ x }}{% endfor %}{% for x in range(3, 0, -1) %}{{ x }}{% endfor %}", "147321"},
        {"{% for c in 'ab' %}[{{ c }}]{% endfor %}", "[a][b]"},
        {"{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}", "xy"},
        {"{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", "37"},
        {"{% for x in [1, 2] %}{% for y in [3, 4] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}", "121122"},
        {"{% for x in undefined_thing %}a{% else %}b{% endfor %}", "b"},
    });
}

TEST(TemplateUnits, ScopingAndAssignment) {
    check_all({
        {"{% set x = 1 %}{% for i in range(3) %}{% set x = x + i %}{% endfor %}{{ x }}", "1"},
        {"{% set ns = namespace(c=0) %}{% for i in range(3) %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}", "3"},
        {"{% set ns = namespace() %}{% set ns.flag = true %}{{ ns.flag }}", "True"},
        {"{% set x %}hello {{ 'w' }}{% endset %}[{{ x }}]", "[hello w]"},
        {"{% set x | upper %}abc{% endset %}{{ x }}", "ABC"},
        {"{% if true %}{% set y = 5 %}{% endif %}{{ y }}", "5"},
        {"{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12"},
        {"{% with q = 3 %}{{ q }}{% endwith %}[{{ q }}]", "3[]"},
        {"{% set d2 = dict(a=1, b=2) %}{{ d2.b }}{{ d2 | length }}", "22"},
    });
}

TEST(TemplateUnits, MacrosAndBlocks) {
    check_all({
        {"{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}"
         "{{ greet('Bob') }} {{ greet('Al', greeting='Hi') }}",
         "Hello, Bob! Hi, Al!"},
        {"{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}", "<inner>"},
        {"{% macro m() %}{{ caller(1) }}{{ caller(2) }}{% endmacro %}{% call(x) m() %}[{{ x }}]{% endcall %}",
         "[1][2]"},
        {"{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "321"},
        {"{% macro v() %}{{ varargs | length }}{{ kwargs.k }}{% endmacro %}{{ v(1, 2, k='z') }}", "2z"},
        {"{% set top = 'T' %}{% macro m() %}{{ top }}{% endmacro %}{{ m() }}", "T"},
        {"{% filter upper %}abc{{ 'd' }}{% endfilter %}", "ABCD"},
        {"{% generation %}gen{% endgeneration %}", "gen"},
    });
}

TEST(TemplateUnits, Expressions) {
    check_all({
        {"{{ 1 + 2 * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 4 / 2 }}|{{ 2 ** 10 }}",
         "7|3|-4|1|2|3.5|2.0|1024"},
        {"{{ 'a' ~ 1 ~ none }}|{{ 'ab' * 3 }}|{{ [1, 2] + [3] }}|{{ 1.5 + 1 }}|{{ 0.1 + 0.2 }}|{{ 1e20 }}|{{ 2 ** -1 }}",
         "a1None|ababab|[1, 2, 3]|2.5|0.30000000000000004|1e+20|0.5"},
        {"{{ 1 < 2 }}{{ 'a' == 'a' }}{{ 1 == 1.0 }}{{ 2 in [1,2] }}{{ 'x' not in 'abc' }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}",
         "TrueTrueTrueTrueTrueTrueFalse"},
        {"{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ not none }}|{{ none or false }}", "x|b|True|False"},
        {"{{ 'y' if true else 'n' }}[{{ 'y' if false }}]", "y[]"},
        {"{{ True }}{{ none }}{{ 'it\\'s' }}{{ \"a\\tb\" }}{{ 'x\\ny' }}", "TrueNoneit'sa\tbx\ny"},
        {"{{ {'a': 1, 'b': 'x'} }}|{{ (1, 2) }}|{{ (1,) }}|{{ [\"it's\"] }}|{{ [none, true, 1.0] }}",
         "{'a': 1, 'b': 'x'}|(1, 2)|(1,)|[\"it's\"]|[None, True, 1.0]"},
        {"{{ [1,2,3,4,5][1:3] }}|{{ [1,2,3,4,5][::-1] }}|{{ [1,2,3,4,5][-2:] }}|{{ 'hello'[1:-1] }}|{{ 'hello'[::2] }}"
         "|{{ [1,2,3][-1] }}|{{ 'héllo'[1] }}|{{ 'héllo'[:2] }}",
         "[2, 3]|[5, 4, 3, 2, 1]|[4, 5]|ell|hlo|3|é|hé"},
        {"{{ d.a }}{{ d['b'] }}[{{ d.missing }}][{{ d.missing.deeper }}][{{ [1][5] }}]", "1x[][][]"},
        {"{{ x is defined }}{{ d.a is defined }}{{ d.zz is undefined }}{{ d.zz is not defined }}", "FalseTrueTrueTrue"},
        {"{{ -3 | abs }}|{{ - 2 ** 2 }}|{{ (1 + 2) * 3 }}|{{ 10 - 2 - 3 }}", "3|4|9|5"},
        {"{{ 'a' 'b' }}|{{ 1_000 }}|{{ 0.5e1 }}", "ab|1000|5.0"},
        {"{{ {1: 'one', 2: 'two'}[2] }}|{{ {1: 'x'} }}", "two|{1: 'x'}"},
    });
}

TEST(TemplateUnits, Tests) {
    check_all({
        {"{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}{{ true is boolean }}{{ 'a' is string }}"
         "{{ {} is mapping }}{{ [] is iterable }}{{ [] is sequence }}{{ none is none }}{{ 2 is even }}"
         "{{ 3 is odd }}{{ true is true }}{{ false is false }}{{ 1 is eq 1 }}{{ 2 is equalto 3 }}{{ range is callable }}",
         "TrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueFalseTrue"},
        {"{{ 9 is divisibleby 3 }}{{ 1.0 is integer }}{{ 'a' is not string }}{{ 1 is string }}{{ true is number }}"
         "{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'x' is in 'xyz' }}{{ none is sameas none }}",
         "TrueFalseFalseFalseTrueTrueTrueTrueTrue"},
    });
}

TEST(TemplateUnits, Methods) {
    check_all({
        {"{{ '  hi  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  hi'.lstrip() }}|{{ 'hi  '.rstrip() }}|", "hi|hi|hi|hi|"},
        {"{{ 'a,b,c'.split(',') }}|{{ 'a b  c'.split() }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}",
         "['a', 'b', 'c']|['a', 'b', 'c']|['a', 'b,c']|['a,b', 'c']"},
        {"{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) }}",
         "TrueTrueTrue"},
        {"{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'Ab'.upper() }}"
         "{{ 'Ab'.lower() }}",
         "bba|Hello World|Hello|ABab"},
        {"{{ '{} and {}'.format(1, 'x') }}|{{ '{name}!'.format(name='N') }}|{{ ', '.join(['a', 'b']) }}",
         "1 and x|N!|a, b"},
        {"{{ d.get('a') }}{{ d.get('zz', 'def') }}{{ d.get('zz') }}|{{ d.keys() | list }}|{{ d.values() | list }}"
         "|{{ d.items() | list }}",
         "1defNone|['a', 'b']|[1, 'x']|[('a', 1), ('b', 'x')]"},
        {"{{ 'abcabc'.find('c') }}{{ 'abcabc'.count('b') }}{{ [1, 2, 2].count(2) }}{{ '42'.isdigit() }}", "222True"},
        {"{{ '%s-%d' % ('a', 3) }}|{{ '%05.1f' % 3.14159 }}", "a-3|003.1"},
    });
}

TEST(TemplateUnits, Filters) {
    check_all({
        {"{{ {'a': [1, 2.5, 'x'], 'b': none, 'c': true} | tojson }}", "{\"a\": [1, 2.5, \"x\"], \"b\": null, \"c\": true}"},
        {"{{ {'a': [1, 2], 'e': {}} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": {}\n}"},
        {"{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}"},
        {"{{ 'héllo \"q\"\\n</' | tojson }}", "\"héllo \\\"q\\\"\\n</\""},
        {"{{ order | tojson }}|{{ order | tojson(separators=(',', ':')) }}", "{\"z\": 1, \"a\": 2}|{\"z\":1,\"a\":2}"},
        {"{{ 'é' | tojson(ensure_ascii=true) }}|{{ 1.0 | tojson }}|{{ 1e-7 | tojson }}", "\"\\u00e9\"|1.0|1e-07"},
        {"{{ '  x '|trim }}{{ [1,2,3]|length }}{{ 'héllo'|length }}{{ {'a':1}|count }}", "x351"},
        {"{{ [1, 2, 3] | join(', ') }}|{{ users | join(', ', attribute='name') }}", "1, 2, 3|a, b, c"},
        {"{{ x | default('d') }}{{ none | default('d') }}{{ '' | default('d', true) }}{{ 0 | d('z', boolean=true) }}",
         "dNonedz"},
        {"{% for k, v in {'a': 1} | items %}{{ k }}{{ v }}{% endfor %}", "a1"},
        {"{{ [1,2,3]|first }}{{ [1,2,3]|last }}{{ 'abc'|first }}{{ 'ab'|list }}", "13a['a', 'b']"},
        {"{{ 'AbC'|lower }}{{ 'abc'|upper }}{{ 'a b'|title }}{{ 'aB'|capitalize }}{{ 'aXa'|replace('a', 'b') }}",
         "abcABCA BAbbXb"},
        {"{{ 12|string ~ 'x' }}{{ '42'|int + 1 }}{{ 'x'|int }}{{ '3.5'|float }}{{ -3|abs }}{{ 2.567|round(2) }}"
         "{{ 2.5|round }}{{ 3.7|int }}",
         "12x4303.532.572.03"},
        {"{{ users | selectattr('active') | map(attribute='name') | join(',') }}|"
         "{{ users | rejectattr('active') | map(attribute='name') | list }}|"
         "{{ users | selectattr('name', 'equalto', 'b') | list | length }}|{{ [1,2,3,4] | select('even') | list }}|"
         "{{ [1,2,3,4] | reject('odd') | list }}|{{ ['a','b'] | map('upper') | join }}",
         "a,c|['b']|1|[2, 4]|[2, 4]|AB"},
        {"{{ users | sort(attribute='age') | map(attribute='name') | join }}|{{ [3,1,2] | sort }}|"
         "{{ [3,1,2] | sort(reverse=true) }}|{{ ['b','A','a'] | unique | list }}|{{ {'b': 1, 'a': 2} | dictsort }}",
         "bca|[1, 2, 3]|[3, 2, 1]|['b', 'A']|[('a', 2), ('b', 1)]"},
        {"{{ [1,2,3] | reverse | list }}|{{ 'abc' | reverse }}|{{ [1,5,3] | min }}{{ [1,5,3] | max }}{{ [1,2,3] | sum }}"
         "|{{ users | sum(attribute='age') }}|{{ [1,2,3,4,5] | batch(2) | list }}",
         "[3, 2, 1]|cba|156|6|[[1, 2], [3, 4], [5]]"},
        {"{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\nb' | indent('> ', first=true) }}",
         "a\n  b\n\n  c|  a\n  b|> a\n> b"},
        {"{{ '<a href=\"x\">' | e }}|{{ 'x' | safe }}|{{ 'one two  three' | wordcount }}|{{ '%s=%s' | format('k', 1) }}",
         "&lt;a href=&#34;x&#34;&gt;|x|3|k=1"},
        {"{{ users | map(attribute='missing', default='?') | join }}|{{ users | max(attribute='age') | tojson }}",
         "???|{\"name\": \"a\", \"active\": true, \"age\": 3}"},
    });
}

TEST(TemplateUnits, Globals) {
    RenderOptions opts;
    opts.now = 1721952000;  // 2024-07-26 00:00:00 UTC
    EXPECT_EQ(render("{{ strftime_now('%d %b %Y') }}", default_ctx(), opts), "26 Jul 2024");
    EXPECT_EQ(render("{{ range(3) | list }}{{ namespace(a=1).a }}{{ dict(x=2).x }}"), "[0, 1, 2]12");
    g_checked += 2;
}

TEST(TemplateUnits, Errors) {
    auto parse_error = [](const std::string& src) {
        auto t = Template::parse(src);
        return t.ok() ? std::string("OK") : t.error().message;
    };
    EXPECT_NE(parse_error("hello\n{% if %}").find("line 2"), std::string::npos) << parse_error("hello\n{% if %}");
    EXPECT_NE(parse_error("{% if x %}open").find("unexpected end of template"), std::string::npos);
    // Unknown filters and tests parse; they fail when evaluated (UnknownFilterOrTest... below).
    EXPECT_EQ(parse_error("a\n\n  {{ x | nosuchfilter }}"), "OK");
    EXPECT_EQ(parse_error("{{ x is nosuchtest }}"), "OK");
    EXPECT_NE(parse_error("{% foo %}").find("unknown tag 'foo'"), std::string::npos);
    EXPECT_NE(parse_error("a\n{% break %}").find("line 2, column 4: 'break' outside of a loop"), std::string::npos)
        << parse_error("a\n{% break %}");
    EXPECT_EQ(parse_error("{% for x in y %}{% if x %}{% continue %}{% endif %}{% endfor %}"), "OK");
    EXPECT_NE(parse_error("{% for x in y %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}").find("outside of a loop"),
              std::string::npos);
    EXPECT_NE(parse_error("{{ 'abc }}").find("unterminated string"), std::string::npos);
    EXPECT_NE(parse_error("{{ (1 }}").find("line 1"), std::string::npos);
    EXPECT_NE(parse_error("{{ (1 %}").find("line 1"), std::string::npos);
    std::string deep = "{{ ";
    for (int i = 0; i < 100000; ++i) deep += "not ";
    EXPECT_NE(parse_error(deep + "1 }}").find("nesting too deep"), std::string::npos);
    std::string deep_blocks;
    for (int i = 0; i < 5000; ++i) deep_blocks += "{% if true %}";
    EXPECT_NE(parse_error(deep_blocks).find("nesting too deep"), std::string::npos);
    g_checked += 12;

    auto t = Template::parse("a\n  {{ raise_exception('bad role') }}");
    ASSERT_TRUE(t.ok());
    std::string out;
    TemplateFailure f;
    EXPECT_FALSE(t->render(json::object(), out, f));
    EXPECT_TRUE(f.raised);
    EXPECT_EQ(f.message, "bad role");
    EXPECT_EQ(f.line, 2);
    EXPECT_EQ(f.column, 6);
    auto r = t->render(json::object());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "template error at line 2, column 6: raise_exception: bad role");

    EXPECT_NE(render("{{ 1 / 0 }}").find("division by zero"), std::string::npos);
    EXPECT_NE(render("{{ 'a' + 1 }}").find("unsupported operand"), std::string::npos);
    EXPECT_EQ(render("{{ [1].append(2) }}"), "None");  // mutation is allowed (InPlaceMutation)
    EXPECT_NE(render("{{ nosuchfunc() }}").find("'nosuchfunc' is undefined"), std::string::npos);
    EXPECT_NE(render("{% for x in none %}{% endfor %}").find("not iterable"), std::string::npos);
    g_checked += 8;
}

TEST(TemplateUnits, Limits) {
    RenderOptions opts;
    opts.limits.max_loop_iterations = 100000;
    EXPECT_NE(render("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", default_ctx(), opts)
                  .find("loop iteration limit"),
              std::string::npos);
    EXPECT_NE(render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("recursion depth"), std::string::npos);
    opts.limits.max_output_bytes = 1000;
    EXPECT_NE(render("{% for i in range(100) %}{{ 'xxxxxxxxxxxxxxxxxxxx' }}{% endfor %}", default_ctx(), opts)
                  .find("output size limit"),
              std::string::npos);
    EXPECT_NE(render("{{ 'x' * 100000000000 }}", default_ctx(), opts).find("too large"), std::string::npos);
    EXPECT_NE(render("{{ range(10000000) | length }}").find("Range too big"), std::string::npos);
    EXPECT_EQ(render("{{ 9223372036854775807 + 1 }}"), "9.223372036854776e+18");
    std::string chain = "{{ 1";
    for (int i = 0; i < 5000; ++i) chain += " + 1";
    EXPECT_NE(render(chain + " }}").find("nesting too deep"), std::string::npos);
    std::string filters = "{{ 'x'";
    for (int i = 0; i < 5000; ++i) filters += " | trim";
    EXPECT_NE(render(filters + " }}").find("nesting too deep"), std::string::npos);
    EXPECT_NE(render("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}")
                  .find("nested too deeply"),
              std::string::npos);
    EXPECT_EQ(render("{% set a = namespace() %}{% set b = namespace(o=a) %}{% set a.o = b %}{{ a == b }}{{ a == a }}"),
              "FalseTrue");
    EXPECT_EQ(render("{{ [] * 1000000000000 }}{{ '' * 1000000000000 }}"), "[]");
    EXPECT_NE(render("{{ '%999999999d' % 1 }}").find("too large"), std::string::npos);
    g_checked += 12;
}

std::string read_file(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

json tools_json() {
    return json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}])");
}

TEST(TemplateUnits, Qwen25ByteExact) {
    HEARTH_REQUIRE_SHARED("data/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
    auto t = ChatTemplate::parse(read_file(hearth::test::shared_path("data/templates/Qwen-Qwen2.5-7B-Instruct.jinja")));
    ASSERT_TRUE(t.ok()) << t.error().message;
    json basic = json::parse(R"([{"role": "system", "content": "You are a helpful assistant."},
                                 {"role": "user", "content": "Hello!"}])");
    auto out = t->apply(basic, nullptr, true, "", "<|im_end|>");
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out,
              "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n"
              "<|im_start|>assistant\n");
    json user_only = json::parse(R"([{"role": "user", "content": "Hi"}])");
    out = t->apply(user_only, nullptr, false, "", "<|im_end|>");
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out,
              "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
              "<|im_start|>user\nHi<|im_end|>\n");
    json conv = json::parse(R"([{"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function",
          "function": {"name": "get_weather", "arguments": {"location": "Paris"}}}]},
        {"role": "tool", "tool_call_id": "call12345", "content": "{\"temperature\": 22}"},
        {"role": "user", "content": "Thanks!"}])");
    out = t->apply(conv, tools_json(), true, "", "<|im_end|>");
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out,
              "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\n"
              "You may call one or more functions to assist with the user query.\n\nYou are provided with function "
              "signatures within <tools></tools> XML tags:\n<tools>\n"
              "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the weather\", "
              "\"parameters\": {\"type\": \"object\", \"properties\": {\"location\": {\"type\": \"string\"}}, "
              "\"required\": [\"location\"]}}}\n</tools>\n\nFor each function call, return a json object with function "
              "name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
              "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
              "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
              "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}"
              "\n</tool_call><|im_end|>\n"
              "<|im_start|>user\n<tool_response>\n{\"temperature\": 22}\n</tool_response><|im_end|>\n"
              "<|im_start|>user\nThanks!<|im_end|>\n<|im_start|>assistant\n");
    g_checked += 3;
}

TEST(TemplateUnits, Llama31ByteExact) {
    HEARTH_REQUIRE_SHARED("data/templates/meta-llama-Llama-3.1-8B-Instruct.jinja");
    auto t =
        ChatTemplate::parse(read_file(hearth::test::shared_path("data/templates/meta-llama-Llama-3.1-8B-Instruct.jinja")));
    ASSERT_TRUE(t.ok()) << t.error().message;
    json basic = json::parse(R"([{"role": "system", "content": "You are a helpful assistant."},
                                 {"role": "user", "content": "Hello!"}])");
    auto out = t->apply(basic, nullptr, true, "<|begin_of_text|>", "<|eot_id|>");
    ASSERT_TRUE(out.ok()) << out.error().message;
    // No date_string passed: the template's own default "26 Jul 2024" is used.
    EXPECT_EQ(*out,
              "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
              "Today Date: 26 Jul 2024\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>"
              "\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    json conv = json::parse(R"([{"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function",
          "function": {"name": "get_weather", "arguments": {"location": "Paris"}}}]},
        {"role": "tool", "tool_call_id": "call12345", "content": "22C"}])");
    out = t->apply(conv, tools_json(), false, "<|begin_of_text|>", "<|eot_id|>", json{{"date_string", "01 Jan 2025"}});
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out,
              "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n"
              "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond with a JSON for "
              "a function call with its proper arguments that best answers the given prompt.\n\nRespond in the format "
              "{\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use "
              "variables.\n\n{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\",\n"
              "        \"description\": \"Get the weather\",\n        \"parameters\": {\n            \"type\": \"object\",\n"
              "            \"properties\": {\n                \"location\": {\n                    \"type\": \"string\"\n"
              "                }\n            },\n            \"required\": [\n                \"location\"\n            ]\n"
              "        }\n    }\n}\n\nWeather in Paris?<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": "
              "{\"location\": \"Paris\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n\"22C\"<|eot_id|>");
    g_checked += 2;
}

TEST(TemplateUnits, ChatTemplateContext) {
    auto t = ChatTemplate::parse(
        "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
        "{{ tools is none }}{{ tools is defined }}{{ documents is none }}{% if add_generation_prompt %}>{% endif %}"
        "{{ eos_token }}{{ extra_var }}{{ 'héllo wörld'.title() }}");
    ASSERT_TRUE(t.ok()) << t.error().message;
    json msgs = json::parse(R"([{"role": "user", "content": "hi"}])");
    auto out = t->apply(msgs, nullptr, true, "<s>", "</s>", json{{"extra_var", 7}});
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, "<s>[user:hi]TrueTrueTrue></s>7Héllo Wörld");
    out = t->apply(msgs, tools_json(), false, "", "");
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, "[user:hi]FalseTrueTrueHéllo Wörld");
    g_checked += 2;
}

// Expected outputs below were produced by Python Jinja2 3.1.6 in transformers' environment
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, tojson as json.dumps) with
// a from_json filter (json.loads) added; the mutation cases by SandboxedEnvironment (the
// same with list/dict mutators allowed, as llama.cpp's template engine does).
TEST(TemplateUnits, RuntimeFiltersMarkupAndEmptySelect) {
    check_all({
        {"{{ 'a<b'|safe + '<i>&' }}",
         "a<b&lt;i&gt;&amp;"},
        {"{{ '<i>' + 'a<b'|safe }}",
         "&lt;i&gt;a<b"},
        {"{{ ('x'|safe + '<') + '>' }}",
         "x&lt;&gt;"},
        {"{% set s = 'a'|safe %}{% set t = s + '\"' %}{{ t ~ '<' }}",
         "a&#34;<"},
        {"{{ 'a'|safe ~ '<' }}",
         "a<"},
        {"{{ ('<'|safe) * 2 + '&' }}",
         "<<&amp;"},
        {"{{ '<'|e + '<' }}",
         "&lt;&lt;"},
        {"{{ '<'|safe|e + '<' }}",
         "<&lt;"},
        {"{{ ('<'|safe|forceescape) + '<' }}",
         "&lt;&lt;"},
        {"{{ ('a'|safe|upper) + '<' }}",
         "A&lt;"},
        {"{{ ('a '|safe|trim) + '<' }}",
         "a&lt;"},
        {"{{ ('a'|safe|string) + '<' }}",
         "a&lt;"},
        {"{{ ('a'|safe|replace('a','b')) + '<' }}",
         "b<"},
        {"{{ 'a'|safe + 'b'|safe + '<' }}",
         "ab&lt;"},
        {"{{ (1|safe) + '<' }}",
         "1&lt;"},
        {"{{ none|selectattr('x')|list }}",
         "[]"},
        {"{{ none|map(attribute='x')|list }}",
         "[]"},
        {"{{ none|select|list }}",
         "[]"},
        {"{{ none|reject('none')|list }}",
         "[]"},
        {"{{ none|rejectattr('x', 'equalto', 1)|list }}",
         "[]"},
        {"{{ ''|map('upper')|list }}",
         "[]"},
        {"{{ 0|select|list }}",
         "[]"},
        {"{% for x in none|selectattr('role', 'equalto', 'tool') %}x{% else %}empty{% endfor %}",
         "empty"},
        {"{{ users|selectattr('name', 'equalto', 'b')|map(attribute='age')|list }}",
         "[1]"},
        {"{{ 'hello world foo'|truncate(9) }}",
         "hello..."},
        {"{{ 'hello world foo'|truncate(9, true) }}",
         "hello ..."},
        {"{{ 'hello world foo'|truncate(9, leeway=0) }}",
         "hello..."},
        {"{{ 'hello world foo bar baz qux'|truncate(12, false, '…', 0) }}",
         "hello…"},
        {"{{ 'hello'|truncate(3, leeway=0) }}",
         "..."},
        {"{{ '{\"a\": [1, 2.5, \"x\"], \"b\": null, \"c\": true}'|from_json }}",
         "{'a': [1, 2.5, 'x'], 'b': None, 'c': True}"},
        {"{% set args = '{\"city\": \"Paris\"}' %}{% if args is string %}{{ (args|from_json).city }}{% endif %}",
         "Paris"},
        {"{% set args = {'city': 'Paris'} %}{% if args is string %}{{ args|from_json }}{% else %}{{ args|tojson }}{% endif %}",
         "{\"city\": \"Paris\"}"},
        {"{% if false %}{{ x|nosuchfilter }}{% endif %}ok",
         "ok"},
        {"{% if false %}{{ x is nosuchtest }}{% endif %}ok",
         "ok"},
        {"{{ 'x'|nosuchfilter if false else 'y' }}",
         "y"},
    });
}

TEST(TemplateUnits, InPlaceMutation) {
    check_all({
        {"{% set a = [] %}{% set b = a %}{% set _ = a.append(1) %}{% set _ = b.append('x') %}{{ a }} {{ b }} {{ a|length }}",
         "[1, 'x'] [1, 'x'] 2"},
        {"{% set inner = [] %}{% set outer = [inner, {'k': inner}] %}{% set _ = inner.append(2) %}{{ outer }}",
         "[[2], {'k': [2]}]"},
        {"{% set ns = namespace(calls=[]) %}{% for u in users %}{% set _ = ns.calls.append(u.name) %}{% endfor %}{{ ns.calls|join(',') }}",
         "a,b,c"},
        {"{% set l = [3, 1] %}{{ l.append(2) }}{% set _ = l.extend([5, 4]) %}{% set _ = l.insert(0, 9) %}{% set _ = l.insert(-1, 7) %}{% set _ = l.insert(100, 8) %}{{ l }}",
         "None[9, 3, 1, 2, 5, 7, 4, 8]"},
        {"{% set l = [1, 2, 3, 4] %}{{ l.pop() }}{{ l.pop(0) }}{{ l.pop(-1) }}{{ l }}",
         "413[2]"},
        {"{% set l = [3, 1, 2, 1] %}{% set _ = l.remove(1) %}{{ l }}{% set _ = l.sort() %}{{ l }}{% set _ = l.sort(reverse=true) %}{{ l }}{% set _ = l.reverse() %}{{ l }}{% set _ = l.clear() %}{{ l }}",
         "[3, 2, 1][1, 2, 3][3, 2, 1][1, 2, 3][]"},
        {"{% set l = [1] %}{% set _ = l.extend(l) %}{% set _ = l.extend('ab') %}{{ l }}",
         "[1, 1, 'a', 'b']"},
        {"{% set d = {'a': 1} %}{% set e = d %}{% set _ = d.update({'b': 2}, c=3) %}{% set _ = d.update([('a', 0)]) %}{{ e }}",
         "{'a': 0, 'b': 2, 'c': 3}"},
        {"{% set d = {'a': 1, 'b': 2} %}{{ d.pop('a') }}{{ d.pop('zz', 'dflt') }}{{ d.setdefault('b', 5) }}{{ d.setdefault('c', 6) }}{{ d.setdefault('n') }}{{ d }}",
         "1dflt26None{'b': 2, 'c': 6, 'n': None}"},
        {"{% set d = {'a': 1, 'b': 2} %}{{ d.popitem() }}{{ d }}{% set _ = d.clear() %}{{ d }}",
         "('b', 2){'a': 1}{}"},
        {"{% set msgs = [] %}{% for m in [{'role': 'user', 'content': 'hi'}] %}{% set m2 = {} %}{% set _ = m2.update(m) %}{% set _ = m2.update({'content': m.content|upper}) %}{% set _ = msgs.append(m2) %}{% endfor %}{{ msgs|tojson }}",
         "[{\"role\": \"user\", \"content\": \"HI\"}]"},
        {"{% set a = [] %}{% set _ = a.append(a) %}{{ a }}",
         "[[...]]"},
        {"{% set d = {} %}{% set _ = d.update({'self': d}) %}{{ d }}",
         "{'self': {...}}"},
        {"{% set l = [1, 2] %}{% for x in l %}{{ x }}{% endfor %}{{ l.copy() is sameas l }}",
         "12False"},
        {"{{ users[0].update({'age': 9}) }}{{ users[0].age }}",
         "None9"},
    });
}

TEST(TemplateUnits, UnknownFilterOrTestFailsOnlyWhenEvaluated) {
    // The DeepSeek pattern: the filter only runs for string arguments.
    const std::string src = "{% if args is string %}{{ args | from_json }}{% else %}{{ args | tojson }}{% endif %}";
    EXPECT_EQ(render(src, json{{"args", json{{"a", 1}}}}), "{\"a\": 1}");
    EXPECT_EQ(render(src, json{{"args", "[1, \"x\"]"}}), "[1, 'x']");
    EXPECT_EQ(render("{% if false %}{{ x | nosuchfilter }}{{ x is nosuchtest }}{% endif %}ok"), "ok");
    EXPECT_EQ(render("{{ 'y' if true else x | nosuchfilter }}"), "y");
    EXPECT_EQ(render("{% for m in [] %}{{ m | nosuchfilter }}{% endfor %}ok"), "ok");
    // Executed: an error value naming the filter/test and where it is.
    EXPECT_EQ(render("a\n\n  {{ x | nosuchfilter }}"),
              "RENDER ERROR: template error at line 3, column 10: No filter named 'nosuchfilter'.");
    EXPECT_NE(render("{% if true %}{{ 1 is nosuchtest }}{% endif %}").find("No test named 'nosuchtest'."),
              std::string::npos);
    EXPECT_NE(render("{% filter nosuchfilter %}x{% endfilter %}").find("No filter named 'nosuchfilter'."),
              std::string::npos);
    EXPECT_NE(render("{{ [1] | map('nosuchfilter') | list }}").find("No filter named 'nosuchfilter'."),
              std::string::npos);
    // from_json: bad JSON and non-strings are errors; deep nesting is refused before parsing.
    EXPECT_NE(render("{{ '{\"a\": ' | from_json }}").find("from_json: invalid JSON"), std::string::npos);
    EXPECT_NE(render("{{ 1 | from_json }}").find("from_json expects a string"), std::string::npos);
    EXPECT_NE(render("{{ x | from_json }}", json{{"x", std::string(100000, '[')}}).find("nested too deeply"),
              std::string::npos);
    EXPECT_EQ(render("{{ ('\"[[[\"' | from_json) ~ ('{\"k\": \"}\"}' | from_json).k }}"), "[[[}");
    // Many values are refused before parsing (ordered keys make a huge object quadratic).
    std::string many = "[0";
    for (int i = 0; i < 20000; ++i) many += ",0";
    EXPECT_NE(render("{{ x | from_json | length }}", json{{"x", many + "]"}}).find("more than 10000 values"), std::string::npos);
    // Huge truncate arguments neither overflow nor truncate (Jinja2 returns the text).
    EXPECT_EQ(render("{{ ('x' * 300) | truncate(9223372036854775807) | length }}"), "300");
    EXPECT_EQ(render("{{ ('x' * 300) | truncate(10, leeway=9223372036854775807) | length }}"), "300");
    EXPECT_EQ(render("{{ (('a' | safe | title) + '<') }}"), "A<");  // title drops Markup, as in Jinja2
    g_checked += 15;
}

TEST(TemplateUnits, MutationErrorsAndLimits) {
    EXPECT_NE(render("{% set l = [] %}{{ l.pop() }}").find("pop from empty list"), std::string::npos);
    EXPECT_NE(render("{% set l = [1] %}{{ l.remove(5) }}").find("x not in list"), std::string::npos);
    EXPECT_NE(render("{% set d = {} %}{{ d.pop('k') }}").find("KeyError: 'k'"), std::string::npos);
    EXPECT_NE(render("{% set t = (1, 2) %}{{ t.append(3) }}").find("undefined"), std::string::npos);
    EXPECT_NE(render("{% set l = [] %}{{ l.__setitem__(0, 1) }}").find("undefined"), std::string::npos);
    // Caller data is converted per render: mutating it does not change the caller's JSON
    // nor the next render.
    json ctx = {{"messages", json::array({json{{"role", "user"}}})}};
    auto t = Template::parse("{% set _ = messages.append(1) %}{% set _ = messages[0].update(x=2) %}{{ messages }}");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->render(ctx).value(), "[{'role': 'user', 'x': 2}, 1]");
    EXPECT_EQ(t->render(ctx).value(), "[{'role': 'user', 'x': 2}, 1]");
    EXPECT_EQ(ctx.dump(), R"({"messages":[{"role":"user"}]})");

    RenderOptions opts;
    opts.limits.max_output_bytes = 100000;
    // Growth through append/extend/update is bounded by the data budget...
    EXPECT_NE(render("{% set l = [] %}{% for i in range(100000) %}{% set _ = l.append(i) %}{% endfor %}", default_ctx(),
                     opts)
                  .find("template data size limit exceeded"),
              std::string::npos);
    EXPECT_NE(render("{% set l = ['x' * 1000] %}{% for i in range(20) %}{% set _ = l.extend(l) %}{% endfor %}",
                     default_ctx(), opts)
                  .find("template data size limit exceeded"),
              std::string::npos);
    EXPECT_NE(render("{% set d = {} %}{% for i in range(100000) %}{% set _ = d.update({i: i}) %}{% endfor %}",
                     default_ctx(), opts)
                  .find("template data size limit exceeded"),
              std::string::npos);
    // ... nesting by the depth limit, printing of deep chains built through mutation too ...
    EXPECT_NE(render("{% set l = [] %}{% set ns = namespace(cur=l) %}{% for i in range(1000) %}{% set n = [] %}"
                     "{% set _ = ns.cur.append(n) %}{% set ns.cur = n %}{% endfor %}{{ l }}")
                  .find("nested too deeply"),
              std::string::npos);
    EXPECT_NE(render("{% set l = [] %}{% for i in range(1000) %}{% set _ = l.append([l]) %}{% endfor %}{{ 1 }}")
                  .find("nested too deeply"),
              std::string::npos);
    // A bound method keeps its list alive, so chains through methods count as nesting.
    EXPECT_NE(render("{% set ns = namespace(v=[]) %}{% for i in range(100000) %}{% set ns.v = [ns.v.copy] %}{% endfor %}")
                  .find("nested too deeply"),
              std::string::npos);
    // ... and the work of the O(n) operations by the loop iteration limit.
    opts.limits.max_loop_iterations = 20000;
    opts.limits.max_output_bytes = 64u << 20;
    EXPECT_NE(render("{% set l = range(10000) | list %}{% for i in range(10000) %}{% set _ = l.insert(0, i) %}"
                     "{% set _ = l.pop(0) %}{% endfor %}",
                     default_ctx(), opts)
                  .find("loop iteration limit exceeded"),
              std::string::npos);
    // Self-references print as Python does and are released when the render ends.
    EXPECT_EQ(render("{% set a = [1] %}{% set b = {'a': a} %}{% set _ = a.append(b) %}{{ a }} {{ b }}"),
              "[1, {'a': [...]}] {'a': [1, {...}]}");
    g_checked += 15;
}

TEST(TemplateUnits, ZZSummary) { std::cout << "template unit cases checked: " << g_checked << "\n"; }

}  // namespace
