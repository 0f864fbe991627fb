#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "llm/generate.h"
#include "server/net.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {

using ojson = nlohmann::ordered_json;

enum class Endpoint { Chat, Completions };

// The request fields chat and completions share, validated and turned into engine options.
struct CommonParams {
    std::string model;
    llm::GenerateOptions gen;
    bool stream = false;
    bool include_usage = false;
    bool logprobs = false;
    int top_logprobs = 0;  // chat: top_logprobs; completions: the integer `logprobs`
};

// Validates model, max_tokens/max_completion_tokens, temperature, top_p, top_k, min_p,
// seed, stop, n, presence/frequency/repeat penalties, logit_bias, logprobs,
// top_logprobs, stream, stream_options and llama.cpp's ignore_eos. Errors name the offending param.
std::optional<ApiError> parse_common_params(const ojson& body, Endpoint endpoint, CommonParams& out);

// logit_bias needs the vocabulary size, known once the model is loaded.
std::optional<ApiError> parse_logit_bias(const ojson& body, const tokenizer::Tokenizer& tok, CommonParams& out);

// Rejects bodies nested deeper than `limit` (checked without recursion): the chat
// template and JSON-schema compiler recurse over what they are given.
std::optional<ApiError> check_nesting(const ojson& body, int limit = 64);

// "chatcmpl-<24 random characters>" and the like.
std::string random_id(const std::string& prefix, int n = 24);
int64_t unix_now();

}  // namespace hearth::server
