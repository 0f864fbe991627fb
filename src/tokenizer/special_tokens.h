// Splitting text around special and added tokens before tokenization. User-defined
// (added) tokens are always recognised; control and unknown tokens (e.g. <|im_end|>,
// <s>) only when the caller asks for special-token parsing, so user text can never
// inject them by default. Matching is leftmost-longest in one linear scan.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

struct Fragment {
    TokenId token = kNoToken;  // a special token, or kNoToken for raw text
    std::string_view text;     // the raw text (empty for tokens)
    bool is_token() const { return token != kNoToken; }
};

class SpecialTokenSplitter {
public:
    SpecialTokenSplitter() = default;
    explicit SpecialTokenSplitter(const Vocab& vocab);

    // Fragments covering `text` in order; raw text fragments are never empty.
    std::vector<Fragment> split(const Vocab& vocab, std::string_view text, bool parse_special) const;

private:
    // Candidate tokens by first byte, longest first: all of them, and only the
    // user-defined ones (used when special tokens are not parsed).
    std::array<std::vector<TokenId>, 256> all_by_first_byte_;
    std::array<std::vector<TokenId>, 256> user_by_first_byte_;
};

}  // namespace hearth::tokenizer
