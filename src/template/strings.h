// hearth/template — Python str helpers shared by methods and filters.
#pragma once

#include <string>
#include <vector>

#include "template/value.h"

namespace hearth::tmpl {

std::string py_strip(const std::string& s, const Value* chars, bool left, bool right);
std::vector<std::string> py_split(const std::string& s, const Value* sep, int64_t maxsplit);
// Throws TemplateError when the result would exceed `limit` bytes.
std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                       size_t limit);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_title(const std::string& s);
std::string py_capitalize(const std::string& s);
size_t py_len(const std::string& s);  // code points
std::string py_format(const std::string& fmt, const CallArgs& args);
// Python's printf-style `fmt % args`.
std::string percent_format(const std::string& fmt, const Value& args);

}  // namespace hearth::tmpl
