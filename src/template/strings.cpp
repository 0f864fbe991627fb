#include "template/strings.h"

#include <cstdio>
#include <string_view>

#include "base/utf8.h"

namespace hearth::tmpl {
namespace {
[[noreturn]] void fail(const std::string& msg) { throw TemplateError{msg}; }
bool py_space(uint32_t c) { return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029; }
}  // namespace

size_t py_len(const std::string& s) {
    // Counts what utf8_to_u32 yields, so len() agrees with indexing and iteration.
    size_t n = 0;
    for (size_t pos = 0; pos < s.size(); ++n) utf8_decode(s, pos);
    return n;
}

std::string py_strip(const std::string& s, const Value* chars, bool left, bool right) {
    const std::u32string cps = utf8_to_u32(s);
    std::u32string set;
    bool ws = !chars || chars->is_none() || chars->is_undefined();
    if (!ws) {
        if (!chars->is_string()) fail("strip arg must be None or str");
        set = utf8_to_u32(chars->s);
    }
    auto strip_it = [&](char32_t c) { return ws ? py_space(c) : set.find(c) != std::u32string::npos; };
    size_t b = 0, e = cps.size();
    if (left) while (b < e && strip_it(cps[b])) ++b;
    if (right) while (e > b && strip_it(cps[e - 1])) --e;
    return u32_to_utf8(std::u32string_view(cps).substr(b, e - b));
}

std::vector<std::string> py_split(const std::string& s, const Value* sep, int64_t maxsplit) {
    std::vector<std::string> out;
    if (!sep || sep->is_none() || sep->is_undefined()) {
        const std::u32string cps = utf8_to_u32(s);
        const std::u32string_view view = cps;
        size_t i = 0;
        while (true) {
            while (i < cps.size() && py_space(cps[i])) ++i;
            if (i >= cps.size()) break;
            if (maxsplit >= 0 && int64_t(out.size()) >= maxsplit) {
                size_t e = cps.size();
                while (e > i && py_space(cps[e - 1])) --e;
                out.push_back(u32_to_utf8(view.substr(i, e - i)));
                break;
            }
            size_t j = i;
            while (j < cps.size() && !py_space(cps[j])) ++j;
            out.push_back(u32_to_utf8(view.substr(i, j - i)));
            i = j;
        }
        return out;
    }
    if (!sep->is_string()) fail("must be str or None, not " + type_name(*sep));
    if (sep->s.empty()) fail("empty separator");
    size_t start = 0;
    while (true) {
        if (maxsplit >= 0 && int64_t(out.size()) >= maxsplit) break;
        size_t p = s.find(sep->s, start);
        if (p == std::string::npos) break;
        out.push_back(s.substr(start, p - start));
        start = p + sep->s.size();
    }
    out.push_back(s.substr(start));
    return out;
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                       size_t limit) {
    std::string out;
    auto check = [&] {
        if (out.size() > limit) fail("output size limit exceeded");
    };
    if (from.empty()) {
        const std::u32string cps = utf8_to_u32(s);
        int64_t n = 0;
        for (size_t k = 0; k <= cps.size(); ++k) {
            if (count < 0 || n < count) { out += to; ++n; }
            if (k < cps.size()) utf8_append(out, cps[k]);
            check();
        }
        return out;
    }
    size_t start = 0;
    int64_t n = 0;
    while (count < 0 || n < count) {
        size_t p = s.find(from, start);
        if (p == std::string::npos) break;
        out.append(s, start, p - start);
        out += to;
        check();
        start = p + from.size();
        ++n;
    }
    out.append(s, start, std::string::npos);
    return out;
}

std::string py_upper(const std::string& s) {
    std::string o = s;
    for (char& c : o)
        if (c >= 'a' && c <= 'z') c = char(c - 32);
    return o;
}
std::string py_lower(const std::string& s) {
    std::string o = s;
    for (char& c : o)
        if (c >= 'A' && c <= 'Z') c = char(c + 32);
    return o;
}
std::string py_title(const std::string& s) {
    std::string o = s;
    bool prev_cased = false;
    for (char& ch : o) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (c >= 'a' && c <= 'z') { if (!prev_cased) ch = char(c - 32); prev_cased = true; }
        else if (c >= 'A' && c <= 'Z') { if (prev_cased) ch = char(c + 32); prev_cased = true; }
        else prev_cased = c >= 0x80;  // non-ASCII: treated as a letter (kept as is)
    }
    return o;
}
std::string py_capitalize(const std::string& s) {
    std::string o = py_lower(s);
    if (!o.empty() && o[0] >= 'a' && o[0] <= 'z') o[0] = char(o[0] - 32);
    return o;
}

std::string py_format(const std::string& fmt, const CallArgs& args) {
    std::string out;
    size_t auto_idx = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c == '{') {
            if (i + 1 < fmt.size() && fmt[i + 1] == '{') { out += '{'; ++i; continue; }
            size_t e = fmt.find('}', i);
            if (e == std::string::npos) fail("Single '{' encountered in format string");
            std::string field = fmt.substr(i + 1, e - i - 1);
            size_t colon = field.find(':');
            if (colon != std::string::npos) field = field.substr(0, colon);
            const Value* v = nullptr;
            if (field.empty()) {
                if (auto_idx >= args.positional.size()) fail("Replacement index out of range");
                v = &args.positional[auto_idx++];
            } else if (field.find_first_not_of("0123456789") == std::string::npos) {
                size_t idx = std::stoul(field.substr(0, 9));
                if (idx >= args.positional.size()) fail("Replacement index out of range");
                v = &args.positional[idx];
            } else {
                for (const auto& [k, val] : args.named)
                    if (k == field) v = &val;
                if (!v) fail("KeyError: '" + field + "'");
            }
            out += v->str();
            i = e;
        } else if (c == '}') {
            if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
            out += '}';
        } else {
            out += c;
        }
    }
    return out;
}

std::string percent_format(const std::string& fmt, const Value& args) {
    std::vector<Value> items = args.is_list() && args.list->tuple ? args.list->items : std::vector<Value>{args};
    std::string out;
    size_t ai = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') { out += fmt[i]; continue; }
        if (++i >= fmt.size()) fail("incomplete format");
        std::string spec;
        int number = 0;
        while (i < fmt.size() && std::string_view("-+ #0123456789.").find(fmt[i]) != std::string_view::npos) {
            number = fmt[i] >= '0' && fmt[i] <= '9' ? number * 10 + (fmt[i] - '0') : 0;
            if (number > 200) fail("format width or precision too large");
            spec += fmt[i++];
        }
        if (i >= fmt.size()) fail("incomplete format");
        if (spec.size() > 12) fail("format spec too long");
        char c = fmt[i];
        if (c == '%') { out += '%'; continue; }
        if (ai >= items.size()) fail("not enough arguments for format string");
        const Value& v = items[ai++];
        char buf[512];
        std::string f = "%" + spec;
        switch (c) {
            case 's': out += v.str(); break;
            case 'r': out += v.repr(); break;
            case 'd': case 'i':
                if (!v.is_number()) fail("%d format: a number is required");
                std::snprintf(buf, sizeof buf, (f + "lld").c_str(), static_cast<long long>(v.as_int()));
                out += buf;
                break;
            case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
                if (!v.is_number()) fail("must be real number");
                std::snprintf(buf, sizeof buf, (f + c).c_str(), v.as_double());
                out += buf;
                break;
            default: fail(std::string("unsupported format character '") + c + "'");
        }
    }
    if (ai < items.size() && args.is_list() && args.list->tuple) fail("not all arguments converted during string formatting");
    return out;
}

}  // namespace hearth::tmpl
