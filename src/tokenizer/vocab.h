// The in-memory vocabulary: token texts, scores, types, BPE merges, special token ids
// and flags, loaded from GGUF `tokenizer.ggml.*` metadata (or built from a Hugging Face
// tokenizer.json) and written back as the same metadata.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"
#include "gguf/metadata.h"

namespace hearth::gguf {
class GgufWriter;
}

namespace hearth::tokenizer {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// The tokenization algorithm, from `tokenizer.ggml.model`.
enum class VocabType {
    Spm,  // "llama": SentencePiece with scores and byte fallback
    Bpe,  // "gpt2": byte-level BPE with merges
    Wpm,  // "bert": WordPiece
};

// Token types as numbered in `tokenizer.ggml.token_type`.
enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

// Hash for string-keyed maps that can be queried with a string_view without a copy.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Vocab {
    VocabType type = VocabType::Bpe;
    std::string model;  // tokenizer.ggml.model as written: "llama", "gpt2", "bert"
    std::string pre;    // tokenizer.ggml.pre ("default" when absent)

    std::vector<std::string> tokens;
    std::vector<float> scores;      // empty when the vocabulary has none
    std::vector<TokenType> types;   // same length as tokens
    std::vector<std::string> merges;  // "left right", highest priority first (BPE only)

    TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken;
    TokenId unk = kNoToken, pad = kNoToken, sep = kNoToken, mask = kNoToken;
    bool add_bos = false;
    bool add_eos = false;
    bool add_sep = false;           // WordPiece: append [SEP] when adding special tokens
    bool add_space_prefix = false;  // SentencePiece: prepend U+2581 to the text
    bool ignore_merges = false;     // BPE: emit a whole pre-token when it is a token (llama3)

    // Per-token whitespace stripping around special/added tokens found in text
    // (kStripLeft: drop whitespace before it, kStripRight: after it). Empty, or one
    // entry per token. Not stored in GGUF: set from tokenizer.json, or by model name.
    static constexpr uint8_t kStripLeft = 1, kStripRight = 2;
    std::vector<uint8_t> strip;

    // Derived lookups, built by finalize().
    StringMap<TokenId> token_to_id;
    StringMap<int32_t> merge_rank;  // key: left + '\x01' + right
    std::vector<TokenId> eog_ids;  // end-of-generation tokens
    size_t max_token_len = 0;

    static Result<Vocab> from_gguf(const gguf::Metadata& metadata);

    // Checks consistency, applies per-model defaults already chosen by the loaders and
    // builds the lookup tables. Called by both loaders.
    Result<void> finalize();

    // Writes every tokenizer.ggml.* key needed to load this vocabulary again.
    void write_gguf_metadata(gguf::GgufWriter& writer) const;

    size_t size() const { return tokens.size(); }
    TokenId find(std::string_view text) const;
    TokenType type_of(TokenId id) const {
        return id >= 0 && static_cast<size_t>(id) < types.size() ? types[id] : TokenType::Undefined;
    }
    uint8_t strip_of(TokenId id) const {
        return id >= 0 && static_cast<size_t>(id) < strip.size() ? strip[id] : 0;
    }
    float score_of(TokenId id) const {
        return id >= 0 && static_cast<size_t>(id) < scores.size() ? scores[id] : 0.0f;
    }
    // Rank of merging `left` and `right` (lower merges first), or -1.
    int32_t find_merge(std::string_view left, std::string_view right) const;
    // Token for one raw byte: "<0xNN>" for SentencePiece, the byte-level character for BPE.
    TokenId byte_token(uint8_t byte) const;
};

std::string_view vocab_type_name(VocabType t);

}  // namespace hearth::tokenizer
