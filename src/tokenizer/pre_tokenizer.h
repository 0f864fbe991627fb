// Regex pre-tokenization for byte-level BPE: the text is split into words by a
// sequence of regexes chosen by `tokenizer.ggml.pre`. Each regex splits every piece
// produced so far into its matches and the gaps between them (both kept), as the
// reference "Split(behavior=Isolated)" pre-tokenizers do. Unicode classes (\p{L},
// \p{N}, \s, ...) are real Unicode properties via PCRE2 in UTF+UCP mode with JIT.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hearth::tokenizer {

class PreTokenizer {
public:
    // Regexes for a `tokenizer.ggml.pre` name; error for unknown names.
    static Result<std::vector<std::string>> regexes_for(std::string_view pre_name);
    static Result<PreTokenizer> for_pre(std::string_view pre_name);
    // Every `tokenizer.ggml.pre` name we support.
    static std::vector<std::string> known_names();
    static Result<PreTokenizer> from_regexes(const std::vector<std::string>& patterns);

    PreTokenizer();
    PreTokenizer(PreTokenizer&&) noexcept;
    PreTokenizer& operator=(PreTokenizer&&) noexcept;
    ~PreTokenizer();

    // Splits `text` into consecutive pieces covering all of it (views into `text`).
    // Invalid UTF-8 never matches a regex, so it ends up in the gaps.
    std::vector<std::string_view> split(std::string_view text) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Maps a Hugging Face Split regex (from tokenizer.json) to our pre-tokenizer name, or
// "" when the pattern is not one we know.
std::string pre_name_for_hf_regex(std::string_view pattern);
// Same for a sequence of Split regexes; literal CR/LF and their escapes compare equal.
std::string pre_name_for_hf_regexes(const std::vector<std::string>& patterns);

}  // namespace hearth::tokenizer
