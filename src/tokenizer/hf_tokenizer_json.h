// Import of Hugging Face tokenizer.json files (byte-level BPE models: GPT-2, Llama 3,
// Qwen, ...) into a Vocab, which can then be written as GGUF tokenizer metadata.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

// `tokenizer_config_json` (may be empty) supplies bos/eos/pad tokens and the
// add_bos/add_eos flags when present. The pre-tokenizer is recognised from its regexes
// unless `pre_name` (a `tokenizer.ggml.pre` name) is given.
Result<Vocab> vocab_from_hf_tokenizer_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json = {},
                                           std::string_view pre_name = {});

// The older two-file form of a byte-level BPE tokenizer: vocab.json (also called
// encoder.json; token -> id) and merges.txt (vocab.bpe; one "a b" merge per line, an
// optional "#version" first line). These files do not name the pre-tokenizer, so the
// caller gives it (`tokenizer.ggml.pre` name, e.g. "gpt-2" or "llama-bpe").
Result<Vocab> vocab_from_hf_vocab_and_merges(std::string_view vocab_json, std::string_view merges_txt,
                                             std::string_view pre_name);

// Reads `path` and, when it exists, tokenizer_config.json in the same folder.
Result<Vocab> load_hf_tokenizer_json(const std::string& path);

}  // namespace hearth::tokenizer
