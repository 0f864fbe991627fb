#include "server/openai_params.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>

namespace hearth::server {
namespace {

bool present(const ojson& body, const char* key) {
    auto it = body.find(key);
    return it != body.end() && !it->is_null();
}

std::optional<ApiError> get_number(const ojson& body, const char* key, double lo, double hi, double& out) {
    if (!present(body, key)) return std::nullopt;
    const auto& v = body.at(key);
    if (!v.is_number()) return bad_request(fmt::format("'{}' must be a number", key), key);
    const double d = v.get<double>();
    if (!(d >= lo && d <= hi)) return bad_request(fmt::format("'{}' must be between {} and {}", key, lo, hi), key);
    out = d;
    return std::nullopt;
}

std::optional<ApiError> get_int(const ojson& body, const char* key, int64_t lo, int64_t hi, int64_t& out) {
    if (!present(body, key)) return std::nullopt;
    const auto& v = body.at(key);
    if (!v.is_number_integer()) return bad_request(fmt::format("'{}' must be an integer", key), key);
    // Unsigned values beyond int64 read as negative through get<int64_t>.
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
        return bad_request(fmt::format("'{}' must be between {} and {}", key, lo, hi), key);
    }
    const int64_t i = v.get<int64_t>();
    if (i < lo || i > hi) return bad_request(fmt::format("'{}' must be between {} and {}", key, lo, hi), key);
    out = i;
    return std::nullopt;
}

std::optional<ApiError> get_bool(const ojson& body, const char* key, bool& out) {
    if (!present(body, key)) return std::nullopt;
    const auto& v = body.at(key);
    if (!v.is_boolean()) return bad_request(fmt::format("'{}' must be a boolean", key), key);
    out = v.get<bool>();
    return std::nullopt;
}

}  // namespace

std::string random_id(const std::string& prefix, int n) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string s = prefix;
    for (int i = 0; i < n; ++i) s += alphabet[rng() % (sizeof(alphabet) - 1)];
    return s;
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<ApiError> check_nesting(const ojson& body, int limit) {
    std::vector<std::pair<const ojson*, int>> stack{{&body, 0}};
    while (!stack.empty()) {
        auto [j, depth] = stack.back();
        stack.pop_back();
        if (depth > limit) return bad_request(fmt::format("The request is nested more than {} levels deep", limit));
        if (j->is_structured()) {
            for (const auto& child : *j) stack.emplace_back(&child, depth + 1);
        }
    }
    return std::nullopt;
}

std::optional<ApiError> parse_common_params(const ojson& body, Endpoint endpoint, CommonParams& out) {
    if (!body.is_object()) return bad_request("The request body must be a JSON object");
    if (auto e = check_nesting(body)) return e;
    if (!present(body, "model")) return bad_request("you must provide a model parameter", "model");
    if (!body.at("model").is_string()) return bad_request("'model' must be a string", "model");
    out.model = body.at("model").get<std::string>();

    auto& gen = out.gen;
    auto& s = gen.sampling;
    gen.max_tokens = -1;  // OpenAI: up to the context
    int64_t i = 0;
    if (present(body, "max_tokens")) {
        if (auto e = get_int(body, "max_tokens", 1, 1 << 30, i)) return e;
        gen.max_tokens = static_cast<int>(i);
    }
    if (present(body, "max_completion_tokens")) {
        if (auto e = get_int(body, "max_completion_tokens", 1, 1 << 30, i)) return e;
        gen.max_tokens = static_cast<int>(i);
    }
    // OpenAI's defaults (temperature 1, top_p 1) with llama.cpp's top_k/min_p unless given.
    double d = 1.0;
    if (auto e = get_number(body, "temperature", 0, 2, d)) return e;
    s.temperature = static_cast<float>(d);
    d = 1.0;
    if (auto e = get_number(body, "top_p", 0, 1, d)) return e;
    s.top_p = static_cast<float>(d);
    i = s.top_k;
    if (auto e = get_int(body, "top_k", 0, 1 << 20, i)) return e;
    s.top_k = static_cast<int>(i);
    d = s.min_p;
    if (auto e = get_number(body, "min_p", 0, 1, d)) return e;
    s.min_p = static_cast<float>(d);
    d = 0;
    if (auto e = get_number(body, "presence_penalty", -2, 2, d)) return e;
    s.presence_penalty = static_cast<float>(d);
    d = 0;
    if (auto e = get_number(body, "frequency_penalty", -2, 2, d)) return e;
    s.frequency_penalty = static_cast<float>(d);
    d = 1;
    if (auto e = get_number(body, "repeat_penalty", 0, 10, d)) return e;
    s.repeat_penalty = static_cast<float>(d);
    // OpenAI's penalties count every generated token, not a recent window.
    if (s.presence_penalty != 0 || s.frequency_penalty != 0) s.repeat_last_n = -1;
    if (present(body, "seed")) {
        if (auto e = get_int(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), i)) {
            return e;
        }
        s.seed = static_cast<uint64_t>(i);
    } else {
        s.seed = std::random_device{}() * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(unix_now());
    }
    int64_t n = 1;
    if (auto e = get_int(body, "n", 1, 128, n)) return e;
    if (n != 1) return bad_request("only n = 1 is supported", "n");
    if (present(body, "best_of")) {
        int64_t b = 1;
        if (auto e = get_int(body, "best_of", 1, 128, b)) return e;
        if (b != 1) return bad_request("only best_of = 1 is supported", "best_of");
    }

    if (present(body, "stop")) {
        const auto& st = body.at("stop");
        if (st.is_string()) {
            if (!st.get<std::string>().empty()) gen.stop.push_back(st.get<std::string>());
        } else if (st.is_array()) {
            if (st.size() > 16) return bad_request("'stop' may have at most 16 strings", "stop");
            for (const auto& x : st) {
                if (!x.is_string()) return bad_request("'stop' must be a string or an array of strings", "stop");
                if (!x.get<std::string>().empty()) gen.stop.push_back(x.get<std::string>());
            }
        } else {
            return bad_request("'stop' must be a string or an array of strings", "stop");
        }
    }

    // llama.cpp's extension: keep generating past end-of-generation tokens (benchmarks).
    bool ignore_eos = false;
    if (auto e = get_bool(body, "ignore_eos", ignore_eos)) return e;
    gen.stop_at_eog = !ignore_eos;

    if (auto e = get_bool(body, "stream", out.stream)) return e;
    if (present(body, "stream_options")) {
        const auto& so = body.at("stream_options");
        if (!so.is_object()) return bad_request("'stream_options' must be an object", "stream_options");
        if (!out.stream) return bad_request("'stream_options' is only allowed when 'stream' is true", "stream_options");
        if (auto e = get_bool(so, "include_usage", out.include_usage)) {
            e->param = "stream_options.include_usage";
            return e;
        }
    }

    if (endpoint == Endpoint::Chat) {
        if (auto e = get_bool(body, "logprobs", out.logprobs)) return e;
        if (present(body, "top_logprobs")) {
            if (auto e = get_int(body, "top_logprobs", 0, 20, i)) return e;
            if (!out.logprobs) return bad_request("'top_logprobs' requires 'logprobs' to be true", "top_logprobs");
            out.top_logprobs = static_cast<int>(i);
        }
    } else if (present(body, "logprobs")) {
        if (auto e = get_int(body, "logprobs", 0, 5, i)) return e;
        out.logprobs = true;
        out.top_logprobs = static_cast<int>(i);
    }
    return std::nullopt;
}

std::optional<ApiError> parse_logit_bias(const ojson& body, const tokenizer::Tokenizer& tok, CommonParams& out) {
    if (!present(body, "logit_bias")) return std::nullopt;
    const auto& lb = body.at("logit_bias");
    if (!lb.is_object()) return bad_request("'logit_bias' must be an object of token id -> bias", "logit_bias");
    for (const auto& [key, value] : lb.items()) {
        char* end = nullptr;
        errno = 0;
        const long long id = std::strtoll(key.c_str(), &end, 10);
        if (key.empty() || *end != '\0' || errno != 0 || id < 0 || id >= static_cast<long long>(tok.n_vocab())) {
            return bad_request(fmt::format("logit_bias: '{}' is not a token id of this model", key), "logit_bias");
        }
        if (!value.is_number() || !(value.get<double>() >= -100 && value.get<double>() <= 100)) {
            return bad_request("logit_bias values must be numbers between -100 and 100", "logit_bias");
        }
        // -100 means "never" in OpenAI's API.
        const double b = value.get<double>();
        const float bias = b <= -100 ? -std::numeric_limits<float>::infinity() : static_cast<float>(b);
        out.gen.sampling.logit_bias.emplace_back(static_cast<int32_t>(id), bias);
    }
    return std::nullopt;
}

}  // namespace hearth::server
