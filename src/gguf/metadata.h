#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace hearth::gguf {

// Metadata value types, numbered as stored in GGUF files.
enum class ValueType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

std::string_view value_type_name(ValueType t);

struct Value;

// A homogeneous array; `type` is kept even when the array is empty.
struct ArrayValue {
    ValueType type = ValueType::U8;
    std::vector<Value> items;
};

// One metadata value. The variant's alternative index equals the GGUF type id.
struct Value {
    using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
                                 ArrayValue, uint64_t, int64_t, double>;
    Storage v;

    ValueType type() const { return static_cast<ValueType>(v.index()); }

    template <ValueType T, class X>
    static Value make(X&& x) {
        return Value{Storage(std::in_place_index<static_cast<size_t>(T)>, std::forward<X>(x))};
    }
    static Value u8(uint8_t x) { return make<ValueType::U8>(x); }
    static Value i8(int8_t x) { return make<ValueType::I8>(x); }
    static Value u16(uint16_t x) { return make<ValueType::U16>(x); }
    static Value i16(int16_t x) { return make<ValueType::I16>(x); }
    static Value u32(uint32_t x) { return make<ValueType::U32>(x); }
    static Value i32(int32_t x) { return make<ValueType::I32>(x); }
    static Value f32(float x) { return make<ValueType::F32>(x); }
    static Value boolean(bool x) { return make<ValueType::Bool>(x); }
    static Value str(std::string x) { return make<ValueType::String>(std::move(x)); }
    static Value array(ArrayValue x) { return make<ValueType::Array>(std::move(x)); }
    static Value u64(uint64_t x) { return make<ValueType::U64>(x); }
    static Value i64(int64_t x) { return make<ValueType::I64>(x); }
    static Value f64(double x) { return make<ValueType::F64>(x); }
    static Value strings(const std::vector<std::string>& xs);
    static Value floats(const std::vector<float>& xs);
    static Value ints(const std::vector<int32_t>& xs);

    // Conversions that accept any numeric type that represents the value exactly.
    std::optional<int64_t> as_int() const;
    std::optional<double> as_float() const;
    std::optional<bool> as_bool() const;
    const std::string* as_string() const { return std::get_if<std::string>(&v); }
    const ArrayValue* as_array() const { return std::get_if<ArrayValue>(&v); }

    // Short human-readable rendering (arrays abbreviated), for `hearth inspect`.
    std::string summary(size_t max_items = 8) const;

    bool operator==(const Value& other) const;
};

bool operator==(const ArrayValue& a, const ArrayValue& b);

// Ordered key/value store with O(1) lookup; keys are unique.
class Metadata {
public:
    // Returns false (and changes nothing) when the key exists already.
    bool insert(std::string key, Value value);
    // Inserts or replaces.
    void set(const std::string& key, Value value);

    const Value* find(std::string_view key) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;
    std::optional<bool> get_bool(std::string_view key) const;
    std::optional<std::string> get_string(std::string_view key) const;
    const ArrayValue* get_array(std::string_view key) const;
    std::optional<std::vector<std::string>> get_strings(std::string_view key) const;
    std::optional<std::vector<double>> get_floats(std::string_view key) const;
    std::optional<std::vector<int64_t>> get_ints(std::string_view key) const;

    const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
    size_t size() const { return entries_.size(); }

private:
    std::vector<std::pair<std::string, Value>> entries_;
    std::unordered_map<std::string, size_t> index_;
};

}  // namespace hearth::gguf
