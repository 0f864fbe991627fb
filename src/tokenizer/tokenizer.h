// hearth/tokenizer — text <-> token ids for every model hearth runs. It owns the
// vocabulary loaded from GGUF `tokenizer.ggml.*` metadata (or imported from a Hugging
// Face tokenizer.json and written back as GGUF metadata), the three tokenization
// algorithms (byte-level BPE with regex pre-tokenizers, SentencePiece with byte
// fallback, WordPiece), the splitting of special/added tokens out of text, and
// detokenization including a streaming detokenizer that only emits complete UTF-8.
// It depends on hearth_base and hearth_gguf (plus PCRE2 and nlohmann_json privately)
// and knows nothing about models, sampling or chat templates. Conformance target: the
// ids of llama.cpp's test-tokenizer-0 vocab tests, which are Hugging Face's ids.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gguf/metadata.h"
#include "tokenizer/vocab.h"

namespace hearth::gguf {
class GgufWriter;
}

namespace hearth::tokenizer {

// Immutable after construction; copies share the vocabulary; safe to use from several
// threads at once.
class Tokenizer {
public:
    // From GGUF metadata (`tokenizer.ggml.model` = llama | gpt2 | bert).
    static Result<Tokenizer> from_gguf(const gguf::Metadata& metadata);
    static Result<Tokenizer> from_gguf_file(const std::string& path);
    // From an already built vocabulary (e.g. imported from tokenizer.json).
    static Result<Tokenizer> from_vocab(Vocab vocab);
    // From a Hugging Face tokenizer.json (tokenizer_config.json beside it is read too).
    static Result<Tokenizer> from_hf_tokenizer_json(const std::string& path);

    // Text to ids. `add_special` adds BOS/EOS (CLS/SEP for WordPiece) as the vocabulary
    // asks; `parse_special` lets control tokens written in the text (e.g. "<|im_end|>")
    // become those tokens; without it they are tokenized as plain text. User-defined
    // (added) tokens are always recognised. Any byte sequence is accepted.
    std::vector<TokenId> encode(std::string_view text, bool add_special = true, bool parse_special = false) const;

    // The text of one token. Control/unknown tokens render as "" unless `special`.
    std::string token_to_piece(TokenId id, bool special = false) const;
    // Concatenated pieces; for SentencePiece the space added by the space prefix is
    // removed again. Invalid ids are skipped.
    std::string decode(std::span<const TokenId> ids, bool special = false) const;

    size_t n_vocab() const;
    TokenId bos() const;
    TokenId eos() const;
    TokenId eot() const;
    TokenId unk() const;
    TokenId pad() const;
    bool add_bos() const;
    bool add_eos() const;
    bool is_eog(TokenId id) const;
    bool is_control(TokenId id) const;
    VocabType type() const;
    const Vocab& vocab() const;

    // Writes the vocabulary as GGUF tokenizer metadata.
    void write_gguf_metadata(gguf::GgufWriter& writer) const;

    struct Impl;

private:
    Tokenizer() = default;  // only the factories make tokenizers (hold one in std::optional)
    std::shared_ptr<const Impl> impl_;
};

// Turns a stream of token ids into text, emitting only complete UTF-8 characters: a
// multibyte character split across tokens is held back until it is complete. Keeps a
// pointer to the tokenizer, which must outlive it. `special` renders control tokens.
class StreamingDetokenizer {
public:
    // `at_start`: the first token begins the text, so SentencePiece's added leading space
    // is dropped; false when continuing after a prompt, where that space is real.
    explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool special = false, bool at_start = true)
        : tokenizer_(&tokenizer), special_(special), at_start_(at_start) {}

    // Text that became complete with this token (possibly empty).
    std::string push(TokenId id);
    // Whatever is still held (an incomplete character at the end of the stream).
    std::string flush();
    void reset();

private:
    const Tokenizer* tokenizer_;
    bool special_;
    bool at_start_ = true;
    std::string pending_;
};

}  // namespace hearth::tokenizer
