// hearth/base — the bottom layer: error values, memory-mapped files, half-precision
// conversions and other small utilities that every other module may use. It knows
// nothing of models, files formats or HTTP and depends only on the standard library.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace hearth {

// An error is a human-readable message. Boundaries (file parsers, HTTP handlers)
// return errors as values instead of throwing so that bad input never crashes.
struct Error {
    std::string message;
};

// Result<T> holds either a value or an Error. Deliberately tiny: g++ 12 has no
// std::expected in C++20 mode.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { assert(!ok_); return error_; }

private:
    Error error_;
    bool ok_ = true;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace hearth
