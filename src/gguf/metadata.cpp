#include "gguf/metadata.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace hearth::gguf {

std::string_view value_type_name(ValueType t) {
    switch (t) {
        case ValueType::U8: return "u8";
        case ValueType::I8: return "i8";
        case ValueType::U16: return "u16";
        case ValueType::I16: return "i16";
        case ValueType::U32: return "u32";
        case ValueType::I32: return "i32";
        case ValueType::F32: return "f32";
        case ValueType::Bool: return "bool";
        case ValueType::String: return "str";
        case ValueType::Array: return "arr";
        case ValueType::U64: return "u64";
        case ValueType::I64: return "i64";
        case ValueType::F64: return "f64";
    }
    return "?";
}

Value Value::strings(const std::vector<std::string>& xs) {
    ArrayValue a{ValueType::String, {}};
    a.items.reserve(xs.size());
    for (const auto& x : xs) a.items.push_back(str(x));
    return array(std::move(a));
}

Value Value::floats(const std::vector<float>& xs) {
    ArrayValue a{ValueType::F32, {}};
    a.items.reserve(xs.size());
    for (float x : xs) a.items.push_back(f32(x));
    return array(std::move(a));
}

Value Value::ints(const std::vector<int32_t>& xs) {
    ArrayValue a{ValueType::I32, {}};
    a.items.reserve(xs.size());
    for (int32_t x : xs) a.items.push_back(i32(x));
    return array(std::move(a));
}

std::optional<int64_t> Value::as_int() const {
    return std::visit(
        [](const auto& x) -> std::optional<int64_t> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>) {
                return std::nullopt;
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                if (x > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
                return static_cast<int64_t>(x);
            } else if constexpr (std::is_integral_v<T>) {
                return static_cast<int64_t>(x);
            } else {
                return std::nullopt;
            }
        },
        v);
}

std::optional<double> Value::as_float() const {
    return std::visit(
        [](const auto& x) -> std::optional<double> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>) {
                return std::nullopt;
            } else if constexpr (std::is_arithmetic_v<T>) {
                return static_cast<double>(x);
            } else {
                return std::nullopt;
            }
        },
        v);
}

std::optional<bool> Value::as_bool() const {
    if (const bool* b = std::get_if<bool>(&v)) return *b;
    return std::nullopt;
}

namespace {

void render(std::ostringstream& os, const Value& value, size_t max_items) {
    switch (value.type()) {
        case ValueType::String: {
            const std::string& s = *value.as_string();
            os << '\'';
            const size_t limit = 60;
            for (size_t i = 0; i < s.size() && i < limit; ++i) {
                const char c = s[i];
                if (c == '\n') os << "\\n";
                else if (c == '\t') os << "\\t";
                else if (c == '\'') os << "\\'";
                else os << c;
            }
            if (s.size() > limit) os << "...";
            os << '\'';
            break;
        }
        case ValueType::Bool: os << (*value.as_bool() ? "true" : "false"); break;
        case ValueType::F32:
        case ValueType::F64: os << *value.as_float(); break;
        case ValueType::Array: {
            const ArrayValue& a = *value.as_array();
            os << "arr[" << value_type_name(a.type) << "] n=" << a.items.size() << " [";
            for (size_t i = 0; i < a.items.size() && i < max_items; ++i) {
                if (i) os << ", ";
                render(os, a.items[i], max_items);
            }
            if (a.items.size() > max_items) os << ", ...";
            os << ']';
            break;
        }
        default: os << *value.as_int(); break;
    }
}

}  // namespace

std::string Value::summary(size_t max_items) const {
    std::ostringstream os;
    render(os, *this, max_items);
    return os.str();
}

bool operator==(const ArrayValue& a, const ArrayValue& b) { return a.type == b.type && a.items == b.items; }

bool Value::operator==(const Value& other) const {
    // Bitwise comparison for floats so NaN round-trips compare equal.
    if (type() != other.type()) return false;
    if (type() == ValueType::F32) {
        float a = std::get<float>(v), b = std::get<float>(other.v);
        return std::memcmp(&a, &b, sizeof a) == 0;
    }
    if (type() == ValueType::F64) {
        double a = std::get<double>(v), b = std::get<double>(other.v);
        return std::memcmp(&a, &b, sizeof a) == 0;
    }
    return v == other.v;
}

bool Metadata::insert(std::string key, Value value) {
    if (index_.count(key)) return false;
    index_.emplace(key, entries_.size());
    entries_.emplace_back(std::move(key), std::move(value));
    return true;
}

void Metadata::set(const std::string& key, Value value) {
    auto it = index_.find(key);
    if (it != index_.end()) {
        entries_[it->second].second = std::move(value);
        return;
    }
    insert(key, std::move(value));
}

const Value* Metadata::find(std::string_view key) const {
    auto it = index_.find(std::string(key));
    return it == index_.end() ? nullptr : &entries_[it->second].second;
}

std::optional<int64_t> Metadata::get_int(std::string_view key) const {
    const Value* v = find(key);
    return v ? v->as_int() : std::nullopt;
}

std::optional<double> Metadata::get_float(std::string_view key) const {
    const Value* v = find(key);
    return v ? v->as_float() : std::nullopt;
}

std::optional<bool> Metadata::get_bool(std::string_view key) const {
    const Value* v = find(key);
    return v ? v->as_bool() : std::nullopt;
}

std::optional<std::string> Metadata::get_string(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr || v->as_string() == nullptr) return std::nullopt;
    return *v->as_string();
}

const ArrayValue* Metadata::get_array(std::string_view key) const {
    const Value* v = find(key);
    return v ? v->as_array() : nullptr;
}

std::optional<std::vector<std::string>> Metadata::get_strings(std::string_view key) const {
    const ArrayValue* a = get_array(key);
    if (a == nullptr || a->type != ValueType::String) return std::nullopt;
    std::vector<std::string> out;
    out.reserve(a->items.size());
    for (const auto& item : a->items) out.push_back(*item.as_string());
    return out;
}

std::optional<std::vector<double>> Metadata::get_floats(std::string_view key) const {
    const ArrayValue* a = get_array(key);
    if (a == nullptr) return std::nullopt;
    std::vector<double> out;
    out.reserve(a->items.size());
    for (const auto& item : a->items) {
        auto f = item.as_float();
        if (!f) return std::nullopt;
        out.push_back(*f);
    }
    return out;
}

std::optional<std::vector<int64_t>> Metadata::get_ints(std::string_view key) const {
    const ArrayValue* a = get_array(key);
    if (a == nullptr) return std::nullopt;
    std::vector<int64_t> out;
    out.reserve(a->items.size());
    for (const auto& item : a->items) {
        auto i = item.as_int();
        if (!i) return std::nullopt;
        out.push_back(*i);
    }
    return out;
}

}  // namespace hearth::gguf
