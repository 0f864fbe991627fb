// The web UI's Markdown renderer: exact HTML for small inputs, safety against raw HTML and
// script links, every prefix of a streamed reply balanced, and hostile nesting bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "markdown.h"

namespace {

using hearth::ui::escape_html;
using hearth::ui::render_markdown;

constexpr std::string_view kAnchorRest = " target=\"_blank\" rel=\"noopener noreferrer\">";

std::string anchor(std::string_view href) { return "<a href=\"" + std::string(href) + "\"" + std::string(kAnchorRest); }

std::string code_block(std::string_view lang, std::string_view escaped_code) {
    std::string html = "<div class=\"code\"><div class=\"code-bar\"><span class=\"code-lang\">" + std::string(lang) +
                       "</span><button type=\"button\" class=\"copy\" data-action=\"copy-code\">Copy</button></div><pre><code";
    if (!lang.empty()) html += " class=\"language-" + std::string(lang) + "\"";
    return html + ">" + std::string(escaped_code) + "</code></pre></div>";
}

size_t count(std::string_view text, std::string_view needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// Empty when every tag is closed in order and only names the renderer uses appear; else
// what went wrong.
std::string balance_error(std::string_view html) {
    static const std::vector<std::string> kNames = {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "code", "pre", "div", "span",
        "button", "blockquote", "ul", "ol", "li", "input", "table", "thead", "tbody", "tr", "th", "td", "a"};
    std::vector<std::string> open;
    for (size_t at = html.find('<'); at != std::string_view::npos; at = html.find('<', at + 1)) {
        const size_t end = html.find('>', at);
        if (end == std::string_view::npos) return "unterminated tag";
        const bool closing = html[at + 1] == '/';
        const size_t name_start = at + 1 + closing;
        const std::string name(html.substr(name_start, html.find_first_of(" >", name_start) - name_start));
        if (std::find(kNames.begin(), kNames.end(), name) == kNames.end()) return "unknown tag " + name;
        if (!closing) {
            if (name != "br" && name != "hr" && name != "input") open.push_back(name);
        } else if (open.empty() || open.back() != name) {
            return "</" + name + "> closes " + (open.empty() ? std::string("nothing") : open.back());
        } else {
            open.pop_back();
        }
    }
    return open.empty() ? std::string() : "<" + open.back() + "> left open";
}

TEST(Markdown, EscapeHtml) {
    EXPECT_EQ(escape_html("<a href='x' title=\"y\">&</a>"),
              "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;");
    EXPECT_EQ(escape_html("plain ü"), "plain ü");
}

TEST(Markdown, EmptyAndBlankInput) {
    EXPECT_EQ(render_markdown(""), "");
    EXPECT_EQ(render_markdown("\n \n\t\n"), "");
}

TEST(Markdown, ParagraphsAndLineBreaks) {
    EXPECT_EQ(render_markdown("Hello *world*"), "<p>Hello <em>world</em></p>");
    EXPECT_EQ(render_markdown("one\ntwo  \n   three"), "<p>one<br>two<br>three</p>");
    EXPECT_EQ(render_markdown("a\n\nb\n\n\n c "), "<p>a</p><p>b</p><p>c</p>");
    EXPECT_EQ(render_markdown("a\r\nb\r\n"), "<p>a<br>b</p>");
    EXPECT_EQ(render_markdown("end\\\nnext"), "<p>end<br>next</p>");
}

TEST(Markdown, RawHtmlIsText) {
    EXPECT_EQ(render_markdown("<script>alert(1)</script>"), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    EXPECT_EQ(render_markdown("<img src=x onerror=alert(1)>"), "<p>&lt;img src=x onerror=alert(1)&gt;</p>");
    EXPECT_EQ(render_markdown("# <b onclick=\"x\">T</b>"), "<h1>&lt;b onclick=&quot;x&quot;&gt;T&lt;/b&gt;</h1>");
    EXPECT_EQ(render_markdown("<div>\n\n</div>"), "<p>&lt;div&gt;</p><p>&lt;/div&gt;</p>");
    EXPECT_EQ(render_markdown("| <i>a</i> |\n| - |\n| <svg onload=x> |"),
              "<div class=\"table\"><table><thead><tr><th>&lt;i&gt;a&lt;/i&gt;</th></tr></thead>"
              "<tbody><tr><td>&lt;svg onload=x&gt;</td></tr></tbody></table></div>");
    EXPECT_EQ(render_markdown("```\n</code></pre><script>x</script>\n```"),
              code_block("", "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;"));
    EXPECT_EQ(render_markdown("`<b>`"), "<p><code>&lt;b&gt;</code></p>");
}

TEST(Markdown, LinkTextUrlAndTitleAreEscaped) {
    EXPECT_EQ(render_markdown("[<b>x</b>](http://a.com/\"onmouseover=\"alert(1))"),
              "<p>" + anchor("http://a.com/&quot;onmouseover=&quot;alert(1)") + "&lt;b&gt;x&lt;/b&gt;</a></p>");
    EXPECT_EQ(render_markdown("[a](/x \"t\\\"><script>\")"),
              "<p><a href=\"/x\" title=\"t&quot;&gt;&lt;script&gt;\"" + std::string(kAnchorRest) + "a</a></p>");
    EXPECT_EQ(render_markdown("[a](<http://x/a b>)"), "<p>" + anchor("http://x/a%20b") + "a</a></p>");
}

TEST(Markdown, ScriptLinksLoseTheirAnchor) {
    EXPECT_EQ(render_markdown("[click](javascript:alert(1))"), "<p>click</p>");
    EXPECT_EQ(render_markdown("[click](JaVaScRiPt:alert(1))"), "<p>click</p>");
    EXPECT_EQ(render_markdown("[click](<java\tscript:alert(1)>)"), "<p>click</p>");
    EXPECT_EQ(render_markdown("[click](<\x01 javascript:alert(1)>)"), "<p>click</p>");
    EXPECT_EQ(render_markdown("[click](  vbscript:x)"), "<p>click</p>");
    EXPECT_EQ(render_markdown("[click](data:text/html;base64,PHNjcmlwdD4=)"), "<p>click</p>");
    EXPECT_EQ(render_markdown("[click](file:///etc/passwd)"), "<p>click</p>");
    EXPECT_EQ(render_markdown("![pic](javascript:alert(1))"), "<p>pic</p>");
    EXPECT_EQ(render_markdown("<javascript:alert(1)>"), "<p>&lt;javascript:alert(1)&gt;</p>");
    // A tab ends a plain destination, so this is no link at all: plain text, no anchor.
    EXPECT_EQ(render_markdown("[x](java\tscript:alert(1))"), "<p>[x](java\tscript:alert(1))</p>");
    // Entities are not decoded: the browser sees "&#106;avascript:" as a relative path.
    EXPECT_EQ(render_markdown("[x](&#106;avascript:alert(1))"),
              "<p>" + anchor("&amp;#106;avascript:alert(1)") + "x</a></p>");
}

TEST(Markdown, AllowedLinks) {
    EXPECT_EQ(render_markdown("[site](https://example.com/a?b=1&c=2)"),
              "<p>" + anchor("https://example.com/a?b=1&amp;c=2") + "site</a></p>");
    EXPECT_EQ(render_markdown("[mail](mailto:me@example.com) [top](#top) [doc](/docs/a.md)"),
              "<p>" + anchor("mailto:me@example.com") + "mail</a> " + anchor("#top") + "top</a> " +
                  anchor("/docs/a.md") + "doc</a></p>");
    EXPECT_EQ(render_markdown("[**bold** link](/x)"), "<p>" + anchor("/x") + "<strong>bold</strong> link</a></p>");
    EXPECT_EQ(render_markdown("![a cat](https://x.org/cat.png)"), "<p>" + anchor("https://x.org/cat.png") + "a cat</a></p>");
    EXPECT_EQ(render_markdown("[a [b](/1)](/2)"), "<p>[a " + anchor("/1") + "b</a>](/2)</p>");
    EXPECT_EQ(render_markdown("[no link] and [half](http://x"), "<p>[no link] and [half](http://x</p>");
}

TEST(Markdown, Autolinks) {
    EXPECT_EQ(render_markdown("see https://example.com/path?q=1."),
              "<p>see " + anchor("https://example.com/path?q=1") + "https://example.com/path?q=1</a>.</p>");
    EXPECT_EQ(render_markdown("(http://x.org/a_(b))"), "<p>(" + anchor("http://x.org/a_(b)") + "http://x.org/a_(b)</a>)</p>");
    EXPECT_EQ(render_markdown("**https://x.io**"), "<p><strong>" + anchor("https://x.io") + "https://x.io</a></strong></p>");
    EXPECT_EQ(render_markdown("<https://a.b/c> <me@x.org>"),
              "<p>" + anchor("https://a.b/c") + "https://a.b/c</a> " + anchor("mailto:me@x.org") + "me@x.org</a></p>");
    EXPECT_EQ(render_markdown("[https://a.com](https://a.com)"), "<p>" + anchor("https://a.com") + "https://a.com</a></p>");
    EXPECT_EQ(render_markdown("xhttp://a.com http:// x"), "<p>xhttp://a.com http:// x</p>");
}

TEST(Markdown, Emphasis) {
    EXPECT_EQ(render_markdown("**strong** __also__ *em* _em_ ***both*** ~~gone~~"),
              "<p><strong>strong</strong> <strong>also</strong> <em>em</em> <em>em</em> "
              "<em><strong>both</strong></em> <del>gone</del></p>");
    EXPECT_EQ(render_markdown("snake_case_name and my_var_"), "<p>snake_case_name and my_var_</p>");
    EXPECT_EQ(render_markdown("**bold** in a*b*c"), "<p><strong>bold</strong> in a<em>b</em>c</p>");
    EXPECT_EQ(render_markdown("**unclosed and *half"), "<p>**unclosed and *half</p>");
    EXPECT_EQ(render_markdown("2 * 3 * 4 and ~single~ ~~~three~~~"), "<p>2 * 3 * 4 and ~single~ ~~~three~~~</p>");
    EXPECT_EQ(render_markdown("*a **b** c*"), "<p><em>a <strong>b</strong> c</em></p>");
}

TEST(Markdown, InlineCode) {
    EXPECT_EQ(render_markdown("`**not bold** [x](y) _z_`"), "<p><code>**not bold** [x](y) _z_</code></p>");
    EXPECT_EQ(render_markdown("``a`b`` and ` `` `"), "<p><code>a`b</code> and <code>``</code></p>");
    EXPECT_EQ(render_markdown("`open and **b**"), "<p>`open and <strong>b</strong></p>");
    EXPECT_EQ(render_markdown("\\`not code`"), "<p>`not code`</p>");
}

TEST(Markdown, BackslashEscapes) {
    EXPECT_EQ(render_markdown("\\*not em\\* \\# \\[x\\](y) \\\\ \\a"), "<p>*not em* # [x](y) \\ \\a</p>");
    EXPECT_EQ(render_markdown("\\# not a heading"), "<p># not a heading</p>");
    EXPECT_EQ(render_markdown("\\- not a list"), "<p>- not a list</p>");
}

TEST(Markdown, Headings) {
    EXPECT_EQ(render_markdown("# T"), "<h1>T</h1>");
    EXPECT_EQ(render_markdown("## Two ##\n###### six *em*"), "<h2>Two</h2><h6>six <em>em</em></h6>");
    EXPECT_EQ(render_markdown("####### seven\n#nospace"), "<p>####### seven<br>#nospace</p>");
    EXPECT_EQ(render_markdown("text\n# H\nmore"), "<p>text</p><h1>H</h1><p>more</p>");
    EXPECT_EQ(render_markdown("# C#"), "<h1>C#</h1>");
}

TEST(Markdown, ThematicBreaks) {
    EXPECT_EQ(render_markdown("a\n\n---\n\n***\n___\n- - -"), "<p>a</p><hr><hr><hr><hr>");
    EXPECT_EQ(render_markdown("a\n---\nb"), "<p>a</p><hr><p>b</p>");
    EXPECT_EQ(render_markdown("--"), "<p>--</p>");
}

TEST(Markdown, Lists) {
    EXPECT_EQ(render_markdown("- a\n- b\n* c"), "<ul><li>a</li><li>b</li></ul><ul><li>c</li></ul>");
    EXPECT_EQ(render_markdown("3. x\n4. y"), "<ol start=\"3\"><li>x</li><li>y</li></ol>");
    EXPECT_EQ(render_markdown("1) a\n2) b"), "<ol><li>a</li><li>b</li></ol>");
    EXPECT_EQ(render_markdown("Steps:\n1. go\n\nIn\n2020 we"), "<p>Steps:</p><ol><li>go</li></ol><p>In<br>2020 we</p>");
    EXPECT_EQ(render_markdown("- a\nlazy\n- b"), "<ul><li>a<br>lazy</li><li>b</li></ul>");
    EXPECT_EQ(render_markdown("- a\n\n- b"), "<ul><li><p>a</p></li><li><p>b</p></li></ul>");
    EXPECT_EQ(render_markdown("- a\n\n  more\n- c"), "<ul><li><p>a</p><p>more</p></li><li><p>c</p></li></ul>");
    EXPECT_EQ(render_markdown("- a\n\nafter"), "<ul><li>a</li></ul><p>after</p>");
    EXPECT_EQ(render_markdown("-\n- "), "<ul><li></li><li></li></ul>");
}

TEST(Markdown, NestedLists) {
    const std::string expected = "<ol><li>one<ul><li>a<ul><li>deep</li></ul></li></ul></li><li>two</li></ol>";
    EXPECT_EQ(render_markdown("1. one\n   - a\n     - deep\n2. two"), expected);
    EXPECT_EQ(render_markdown("1. one\n    - a\n        - deep\n2. two"), expected);
    EXPECT_EQ(render_markdown("1. one\n  - a\n    - deep\n2. two"), expected);
    EXPECT_EQ(render_markdown("1. one\n\t- a\n\t\t- deep\n2. two"), expected);
    EXPECT_EQ(render_markdown("- a\n  1. x\n  2. y\n- b"), "<ul><li>a<ol><li>x</li><li>y</li></ol></li><li>b</li></ul>");
}

TEST(Markdown, TaskItems) {
    EXPECT_EQ(render_markdown("- [ ] todo\n- [x] done\n- [X] Done\n- [y] not"),
              "<ul><li class=\"task\"><input type=\"checkbox\" disabled> todo</li>"
              "<li class=\"task\"><input type=\"checkbox\" checked disabled> done</li>"
              "<li class=\"task\"><input type=\"checkbox\" checked disabled> Done</li><li>[y] not</li></ul>");
    EXPECT_EQ(render_markdown("- [ ] a\n\n- [x] b"),
              "<ul><li class=\"task\"><p><input type=\"checkbox\" disabled> a</p></li>"
              "<li class=\"task\"><p><input type=\"checkbox\" checked disabled> b</p></li></ul>");
}

TEST(Markdown, BlockQuotes) {
    EXPECT_EQ(render_markdown("> a\nlazy"), "<blockquote><p>a<br>lazy</p></blockquote>");
    EXPECT_EQ(render_markdown("> a\n>\n> > b\n\nout"),
              "<blockquote><p>a</p><blockquote><p>b</p></blockquote></blockquote><p>out</p>");
    EXPECT_EQ(render_markdown(">> deep\n> - item"), "<blockquote><blockquote><p>deep</p></blockquote><ul><li>item</li></ul></blockquote>");
    EXPECT_EQ(render_markdown("- item\n  > quoted\n- next"), "<ul><li>item<blockquote><p>quoted</p></blockquote></li><li>next</li></ul>");
}

TEST(Markdown, FencedCode) {
    EXPECT_EQ(render_markdown("```python\nif a < b:\n    print('x')\n```"),
              code_block("python", "if a &lt; b:\n    print(&#39;x&#39;)"));
    EXPECT_EQ(render_markdown("~~~\n*x*\n\n~~~\nafter"), code_block("", "*x*\n") + "<p>after</p>");
    EXPECT_EQ(render_markdown("````md\n```\n````"), code_block("md", "```"));
    EXPECT_EQ(render_markdown("```c++ title=\"x\"\nint x;\n```"), code_block("c++", "int x;"));
    EXPECT_EQ(render_markdown("```\"><x\ny\n```"), code_block("x", "y"));
    EXPECT_EQ(render_markdown("```make\nall:\n\tcc -o a a.c\n```"), code_block("make", "all:\n\tcc -o a a.c"));
    EXPECT_EQ(render_markdown("text\n```\ncode\n```"), "<p>text</p>" + code_block("", "code"));
    EXPECT_EQ(render_markdown("1. Install:\n   ```bash\n   make\n\n   make install\n   ```\n2. Run"),
              "<ol><li>Install:" + code_block("bash", "make\n\nmake install") + "</li><li>Run</li></ol>");
    EXPECT_EQ(render_markdown("> ```\n> x\n\nout"), "<blockquote>" + code_block("", "x") + "</blockquote><p>out</p>");
}

TEST(Markdown, Tables) {
    EXPECT_EQ(render_markdown("| Left | Center | Right | None |\n|:-----|:------:|------:|------|\n"
                              "| a \\| b | `c \\| d` | **e** | f |"),
              "<div class=\"table\"><table><thead><tr><th style=\"text-align:left\">Left</th>"
              "<th style=\"text-align:center\">Center</th><th style=\"text-align:right\">Right</th><th>None</th></tr>"
              "</thead><tbody><tr><td style=\"text-align:left\">a | b</td><td style=\"text-align:center\"><code>c | d</code>"
              "</td><td style=\"text-align:right\"><strong>e</strong></td><td>f</td></tr></tbody></table></div>");
    EXPECT_EQ(render_markdown("a | b\n--|--\n1 | 2 | 3\n4\n\nafter"),
              "<div class=\"table\"><table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td>"
              "</tr><tr><td>4</td><td></td></tr></tbody></table></div><p>after</p>");
    EXPECT_EQ(render_markdown("|a|b|c|\n|-|-|-|\n|x|"),
              "<div class=\"table\"><table><thead><tr><th>a</th><th>b</th><th>c</th></tr></thead><tbody><tr><td>x</td>"
              "<td colspan=\"2\"></td></tr></tbody></table></div>");
    EXPECT_EQ(render_markdown("Intro:\n| a |\n| - |"),
              "<p>Intro:</p><div class=\"table\"><table><thead><tr><th>a</th></tr></thead></table></div>");
}

TEST(Markdown, PartialTablesStayParagraphs) {
    EXPECT_EQ(render_markdown("| a | b |"), "<p>| a | b |</p>");
    EXPECT_EQ(render_markdown("| a | b |\n"), "<p>| a | b |</p>");
    EXPECT_EQ(render_markdown("| a | b |\n| --"), "<p>| a | b |<br>| --</p>");
    EXPECT_EQ(render_markdown("| a | b |\n| -- | :"), "<p>| a | b |<br>| -- | :</p>");
}

TEST(Markdown, StreamingPrefixes) {
    EXPECT_EQ(render_markdown("**bol"), "<p>**bol</p>");
    EXPECT_EQ(render_markdown("Some `co"), "<p>Some `co</p>");
    EXPECT_EQ(render_markdown("```js\nconst a = 1;\nif (a <"), code_block("js", "const a = 1;\nif (a &lt;"));
    EXPECT_EQ(render_markdown("```"), code_block("", ""));
    EXPECT_EQ(render_markdown("- item\n  ```py\n  x = 1"), "<ul><li>item" + code_block("py", "x = 1") + "</li></ul>");
    EXPECT_EQ(render_markdown("[link](https://exa"), "<p>[link](https://exa</p>");
}

TEST(Markdown, EveryPrefixOfAReplyIsBalanced) {
    const std::string reply =
        "# Setup guide\n\nHere is **how** to build `hearth` (see https://example.com/docs).\n\n"
        "1. Install the *dependencies*:\n   ```bash\n   sudo apt install cmake <ninja>\n   ```\n"
        "2. Configure:\n   - Debug: `-DCMAKE_BUILD_TYPE=Debug`\n   - Release\n     - with ***LTO***\n\n"
        "> **Note:** tables work too\n> > nested _quote_\nlazy line\n\n"
        "| Option | Default | Meaning |\n|:-------|:-------:|--------:|\n| `-j` | 1 | jobs \\| threads |\n"
        "| ~~old~~ | [x](http://a.b \"t\") | <b>no</b> |\n\n- [ ] test\n- [x] ship\n\n---\n\n"
        "![diagram](https://x.org/d.png) and [bad](javascript:alert(1))\n\n~~~\nunterminated fence at the end\n";
    for (size_t n = 0; n <= reply.size(); ++n) {
        const std::string html = render_markdown(std::string_view(reply).substr(0, n));
        ASSERT_EQ(balance_error(html), "") << "prefix of " << n << " bytes: " << html;
        ASSERT_EQ(html.find("href=\"javascript"), std::string::npos);
        ASSERT_EQ(html.find("<b>"), std::string::npos);
    }
    const std::string html = render_markdown(reply);
    EXPECT_EQ(count(html, "<blockquote>"), 2u);
    EXPECT_EQ(count(html, "<ul>"), 3u);
    EXPECT_EQ(count(html, "<tr>"), 3u);
    EXPECT_EQ(count(html, "<div class=\"code\">"), 2u);
    EXPECT_NE(html.find("<em><strong>LTO</strong></em>"), std::string::npos);
    EXPECT_NE(html.find(" and bad</p>"), std::string::npos);
    EXPECT_NE(html.find("<code>unterminated fence at the end</code></pre></div>"), std::string::npos);
    // Half way through the first fence, the open code block holds what has arrived.
    const size_t in_fence = reply.find("cmake") + 3;
    EXPECT_NE(render_markdown(reply.substr(0, in_fence)).find("<pre><code class=\"language-bash\">sudo apt install cma</code>"),
              std::string::npos);
}

TEST(Markdown, DeepNestingIsCapped) {
    const std::string quotes = render_markdown(std::string(10000, '>') + " x");
    EXPECT_EQ(count(quotes, "<blockquote>"), 16u);
    EXPECT_EQ(balance_error(quotes), "");
    std::string expected;
    for (int i = 0; i < 16; ++i) expected += "<blockquote>";
    expected += "<p>";
    for (int i = 16; i < 10000; ++i) expected += "&gt;";
    expected += " x</p>";
    for (int i = 0; i < 16; ++i) expected += "</blockquote>";
    EXPECT_EQ(quotes, expected);

    std::string bullets;
    for (int i = 0; i < 5000; ++i) bullets += "- ";
    const std::string bullet_html = render_markdown(bullets + "x");
    EXPECT_EQ(count(bullet_html, "<ul>"), 16u);
    EXPECT_EQ(balance_error(bullet_html), "");

    std::string indented;
    for (int i = 0; i < 2000; ++i) indented += std::string(2 * static_cast<size_t>(i), ' ') + "- x\n";
    const std::string indented_html = render_markdown(indented);
    EXPECT_EQ(count(indented_html, "<ul>"), 16u);
    EXPECT_EQ(balance_error(indented_html), "");
}

// Inputs that make naive parsers quadratic or worse; each must render in about linear time
// (every loop in the renderer advances or is bounded by the depth cap), so the test stays fast.
TEST(Markdown, HostileInputsStayLinear) {
    const std::string stars(100000, '*');
    EXPECT_EQ(render_markdown(stars), "<hr>");
    EXPECT_EQ(render_markdown("x" + stars + "x"), "<p>x" + stars + "x</p>");
    std::string strong;
    for (int i = 0; i < 25000; ++i) strong += "<strong>";
    strong += "a";
    for (int i = 0; i < 25000; ++i) strong += "</strong>";
    EXPECT_EQ(render_markdown(stars.substr(50000) + "a" + stars.substr(50000)), "<p>" + strong + "</p>");
    std::vector<std::string> inputs;
    std::string s;
    for (int i = 0; i < 50000; ++i) s += "*a";
    inputs.push_back(s);
    s.clear();
    for (int i = 0; i < 30000; ++i) s += "_a*";
    inputs.push_back(s);
    inputs.push_back(std::string(100000, '['));
    inputs.push_back(std::string(50000, '[') + std::string(50000, ']'));
    s.clear();
    for (int i = 0; i < 25000; ++i) s += "[a](";
    inputs.push_back(s);
    s.clear();
    for (int i = 0; i < 20000; ++i) s += "[a](b \"";
    inputs.push_back(s);
    s.clear();
    for (int i = 1; i < 400; ++i) s += std::string(static_cast<size_t>(i), '`') + "x";
    inputs.push_back(s);
    s.clear();
    for (int i = 0; i < 20000; ++i) s += "<http://";
    inputs.push_back(s);
    s.clear();
    for (int i = 0; i < 20000; ++i) s += "http://a)";
    inputs.push_back(s);
    s.clear();
    for (int i = 0; i < 20000; ++i) s += "|";
    inputs.push_back(s + "\n" + std::string(20000, '-') + "\n" + std::string(20000, 'x'));
    s.clear();
    for (int i = 0; i < 20000; ++i) s += "- a\n  > b\n";
    inputs.push_back(s);
    s.clear();
    for (int i = 0; i < 20000; ++i) s += "```\n";
    inputs.push_back(s);
    for (const std::string& input : inputs) {
        const std::string html = render_markdown(input);
        EXPECT_EQ(balance_error(html), "") << input.substr(0, 20);
        EXPECT_LE(html.size(), 40 * input.size() + 4096) << input.substr(0, 20);
    }
}

}  // namespace
