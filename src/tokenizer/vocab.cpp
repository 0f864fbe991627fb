#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "gguf/gguf_writer.h"
#include "tokenizer/utf8.h"

namespace hearth::tokenizer {

namespace {

constexpr const char* kModel = "tokenizer.ggml.model";
constexpr const char* kPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kScores = "tokenizer.ggml.scores";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";
constexpr const char* kBos = "tokenizer.ggml.bos_token_id";
constexpr const char* kEos = "tokenizer.ggml.eos_token_id";
constexpr const char* kEot = "tokenizer.ggml.eot_token_id";
constexpr const char* kEom = "tokenizer.ggml.eom_token_id";
constexpr const char* kUnk = "tokenizer.ggml.unknown_token_id";
constexpr const char* kPad = "tokenizer.ggml.padding_token_id";
constexpr const char* kSep = "tokenizer.ggml.seperator_token_id";  // sic: the key as written by converters
constexpr const char* kMask = "tokenizer.ggml.mask_token_id";
constexpr const char* kCls = "tokenizer.ggml.cls_token_id";
constexpr const char* kAddBos = "tokenizer.ggml.add_bos_token";
constexpr const char* kAddEos = "tokenizer.ggml.add_eos_token";
constexpr const char* kAddSep = "tokenizer.ggml.add_sep_token";
constexpr const char* kAddSpacePrefix = "tokenizer.ggml.add_space_prefix";

std::string merge_key(std::string_view left, std::string_view right) {
    std::string key;
    key.reserve(left.size() + right.size() + 1);
    key.append(left);
    key += '\x01';
    key.append(right);
    return key;
}

// Pre-tokenizers whose reference implementation emits a whole pre-token when it is
// already in the vocabulary, without applying merges.
bool pre_ignores_merges(std::string_view pre) {
    static constexpr std::string_view kNames[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1",
                                                  "pixtral", "midm-2.0", "lfm2", "tekken"};
    return std::find(std::begin(kNames), std::end(kNames), pre) != std::end(kNames);
}

// Texts of tokens that end a turn or a document in common chat models: the first
// found becomes EOT when the metadata names none; all of them end generation.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "<end_of_utterance>",
};
constexpr std::string_view kExtraEogTexts[] = {"<|eom_id|>", "<|return|>", "<|call|>"};

}  // namespace

std::string_view vocab_type_name(VocabType t) {
    switch (t) {
        case VocabType::Spm: return "llama";
        case VocabType::Bpe: return "gpt2";
        case VocabType::Wpm: return "bert";
    }
    return "?";
}

Result<Vocab> Vocab::from_gguf(const gguf::Metadata& md) {
    Vocab v;
    auto model = md.get_string(kModel);
    if (!model) return make_error(std::string("missing metadata key ") + kModel);
    v.model = *model;
    if (v.model == "llama") {
        v.type = VocabType::Spm;
    } else if (v.model == "gpt2") {
        v.type = VocabType::Bpe;
    } else if (v.model == "bert") {
        v.type = VocabType::Wpm;
    } else {
        return make_error("unsupported tokenizer model type '" + v.model +
                          "' (tokenizer.ggml.model; supported: llama, gpt2, bert)");
    }
    v.pre = md.get_string(kPre).value_or("default");

    auto tokens = md.get_strings(kTokens);
    if (!tokens || tokens->empty()) return make_error(std::string("missing or empty ") + kTokens);
    v.tokens = std::move(*tokens);
    const size_t n = v.tokens.size();
    for (size_t i = 0; i < n; ++i) {
        if (v.tokens[i].empty()) v.tokens[i] = "[EMPTY_" + std::to_string(i) + "]";
    }

    if (md.find(kScores)) {
        auto scores = md.get_floats(kScores);
        if (!scores || scores->size() != n) return make_error(std::string(kScores) + " does not match the token count");
        v.scores.assign(scores->begin(), scores->end());
    }
    v.types.assign(n, TokenType::Normal);
    if (md.find(kTypes)) {
        auto types = md.get_ints(kTypes);
        if (!types || types->size() != n) return make_error(std::string(kTypes) + " does not match the token count");
        for (size_t i = 0; i < n; ++i) {
            const int64_t t = (*types)[i];
            v.types[i] = (t >= 0 && t <= 6) ? static_cast<TokenType>(t) : TokenType::Undefined;
        }
    }
    if (v.type == VocabType::Bpe) {
        auto merges = md.get_strings(kMerges);
        if (!merges) return make_error(std::string("BPE vocabulary without ") + kMerges);
        v.merges = std::move(*merges);
    }

    // Per-model defaults (as in the reference implementation), then explicit metadata.
    switch (v.type) {
        case VocabType::Spm:
            v.bos = 1; v.eos = 2; v.unk = 0;
            v.add_bos = true; v.add_space_prefix = true;
            break;
        case VocabType::Bpe:
            // The reference default of 11 is Falcon's <|endoftext|>; other BPE vocabularies
            // without explicit ids have none.
            if (v.pre == "falcon") v.bos = v.eos = 11;
            v.add_bos = pre_ignores_merges(v.pre) || v.pre == "chameleon";
            v.ignore_merges = pre_ignores_merges(v.pre);
            if (v.pre == "tekken") v.add_bos = true;
            break;
        case VocabType::Wpm:
            v.bos = 101; v.unk = 100; v.sep = 102; v.pad = 0; v.mask = 103;
            v.add_bos = true; v.add_sep = true;
            break;
    }
    auto read_id = [&](const char* key, TokenId& out) {
        // Ids outside the vocabulary keep the default, as in the reference loader.
        if (auto x = md.get_int(key); x && *x >= 0 && static_cast<uint64_t>(*x) < n) out = static_cast<TokenId>(*x);
    };
    if (!md.find(kBos)) read_id(kCls, v.bos);
    read_id(kBos, v.bos);
    read_id(kEos, v.eos);
    read_id(kEot, v.eot);
    read_id(kEom, v.eom);
    read_id(kUnk, v.unk);
    read_id(kPad, v.pad);
    read_id(kSep, v.sep);
    read_id(kMask, v.mask);
    if (auto b = md.get_bool(kAddBos)) v.add_bos = *b;
    if (auto b = md.get_bool(kAddEos)) v.add_eos = *b;
    if (auto b = md.get_bool(kAddSep)) v.add_sep = *b;
    if (auto b = md.get_bool(kAddSpacePrefix)) v.add_space_prefix = *b;

    if (auto r = v.finalize(); !r) return r.error();

    // Whitespace stripping the reference applies by model: Phi-3's special tokens
    // swallow the whitespace after them (as its tokenizer.json says), jina's <mask>
    // the whitespace before it.
    std::string name = md.get_string("general.name").value_or("");
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v.pre.find("jina-v2-") == 0) {
        v.strip.assign(v.size(), 0);
        if (TokenId id = v.find("<mask>"); id != kNoToken) v.strip[id] |= kStripLeft;
    } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
        v.strip.assign(v.size(), 0);
        for (size_t i = 0; i < v.size(); ++i) {
            const TokenType t = v.types[i];
            if (t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown)
                v.strip[i] |= kStripRight;
        }
        if (TokenId id = v.find("</s>"); id != kNoToken) v.strip[id] |= kStripRight;
        for (const char* keep : {"<unk>", "<s>", "<|endoftext|>"}) {
            if (TokenId id = v.find(keep); id != kNoToken) v.strip[id] &= static_cast<uint8_t>(~kStripRight);
        }
    }
    return v;
}

Result<void> Vocab::finalize() {
    const size_t n = tokens.size();
    if (n == 0) return make_error("empty vocabulary");
    if (n > 0x7FFFFFFF) return make_error("vocabulary too large");
    if (types.size() != n) types.resize(n, TokenType::Normal);
    if (!strip.empty() && strip.size() != n) strip.resize(n, 0);
    if (!scores.empty() && scores.size() != n) return make_error("scores do not match the token count");

    for (TokenId* id : {&bos, &eos, &eot, &eom, &unk, &pad, &sep, &mask}) {
        if (*id < 0 || static_cast<size_t>(*id) >= n) *id = kNoToken;
    }

    token_to_id.clear();
    token_to_id.reserve(n * 2);
    max_token_len = 0;
    for (size_t i = 0; i < n; ++i) {
        token_to_id[tokens[i]] = static_cast<TokenId>(i);
        max_token_len = std::max(max_token_len, tokens[i].size());
    }

    merge_rank.clear();
    merge_rank.reserve(merges.size() * 2);
    for (size_t i = 0; i < merges.size(); ++i) {
        const std::string& m = merges[i];
        const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
        if (space == std::string::npos) continue;
        merge_rank.emplace(merge_key(std::string_view(m).substr(0, space), std::string_view(m).substr(space + 1)),
                           static_cast<int32_t>(i));
    }

    // End-of-generation set: eos/eot/eom plus well-known end-of-turn control tokens.
    if (eot == kNoToken) {
        for (auto text : kEotTexts) {
            const TokenId id = find(text);
            if (id != kNoToken) {
                eot = id;
                // An end-of-turn token that is not typed as control is a conversion bug;
                // treat it as control so user text can never produce it.
                types[id] = TokenType::Control;
                break;
            }
        }
    }
    if (eom == kNoToken) {
        if (TokenId id = find("<|eom_id|>"); id != kNoToken) eom = id;
    }
    eog_ids.clear();
    for (TokenId id : {eos, eot, eom}) {
        if (id != kNoToken) eog_ids.push_back(id);
    }
    auto add_eog = [&](std::string_view text) {
        const TokenId id = find(text);
        if (id != kNoToken && type_of(id) == TokenType::Control) eog_ids.push_back(id);
    };
    for (auto text : kEotTexts) add_eog(text);
    for (auto text : kExtraEogTexts) add_eog(text);
    std::sort(eog_ids.begin(), eog_ids.end());
    eog_ids.erase(std::unique(eog_ids.begin(), eog_ids.end()), eog_ids.end());
    return {};
}

TokenId Vocab::find(std::string_view text) const {
    auto it = token_to_id.find(text);
    return it == token_to_id.end() ? kNoToken : it->second;
}

int32_t Vocab::find_merge(std::string_view left, std::string_view right) const {
    thread_local std::string key;
    key.clear();
    key.append(left);
    key += '\x01';
    key.append(right);
    auto it = merge_rank.find(std::string_view(key));
    return it == merge_rank.end() ? -1 : it->second;
}

TokenId Vocab::byte_token(uint8_t byte) const {
    if (type == VocabType::Spm) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", byte);
        if (TokenId id = find(buf); id != kNoToken) return id;
        return find(std::string(1, static_cast<char>(byte)));
    }
    return find(byte_to_unicode_utf8(byte));
}

void Vocab::write_gguf_metadata(gguf::GgufWriter& w) const {
    using gguf::Value;
    w.set(kModel, Value::str(model.empty() ? std::string(vocab_type_name(type)) : model));
    w.set(kPre, Value::str(pre.empty() ? "default" : pre));
    w.set(kTokens, Value::strings(tokens));
    if (!scores.empty()) w.set(kScores, Value::floats(scores));
    std::vector<int32_t> t(types.size());
    for (size_t i = 0; i < types.size(); ++i) t[i] = static_cast<int32_t>(types[i]);
    w.set(kTypes, Value::ints(t));
    if (type == VocabType::Bpe) w.set(kMerges, Value::strings(merges));
    auto write_id = [&](const char* key, TokenId id) {
        if (id != kNoToken) w.set(key, Value::u32(static_cast<uint32_t>(id)));
    };
    write_id(kBos, bos);
    write_id(kEos, eos);
    write_id(kEot, eot);
    write_id(kEom, eom);
    write_id(kUnk, unk);
    write_id(kPad, pad);
    write_id(kSep, sep);
    write_id(kMask, mask);
    w.set(kAddBos, Value::boolean(add_bos));
    w.set(kAddEos, Value::boolean(add_eos));
    if (type == VocabType::Wpm) w.set(kAddSep, Value::boolean(add_sep));
    if (type == VocabType::Spm) w.set(kAddSpacePrefix, Value::boolean(add_space_prefix));
}

}  // namespace hearth::tokenizer
