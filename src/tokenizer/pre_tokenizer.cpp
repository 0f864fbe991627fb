#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include <algorithm>

#include "base/utf8.h"

namespace hearth::tokenizer {

namespace {

// Regex lists per pre-tokenizer type (facts from the reference tokenizers).
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kHfLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kHfQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Letters of cased scripts (the reference list as UTF-8 text; code points that Unicode
// normalization would change are written as \x{...} escapes).
constexpr const char* kDeepseekLlmLetters =
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";
// [一-龥ࠀ-一가-퟿]+
constexpr const char* kCjk = "[一-龥ࠀ-一가-퟿]+";

struct PreEntry {
    std::vector<std::string_view> names;
    std::vector<std::string> regexes;
};

const std::vector<PreEntry>& pre_table() {
    static const std::vector<PreEntry> table = {
        {{"default"},
         {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
        {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "dbrx",
          "smaug-bpe", "chatglm-bpe", "glm4"},
         {kLlama3}},
        {{"deepseek-llm"},
         {"[\r\n]", kDeepseekLlmLetters,
          // \s?[!-/:-~！-／：-～‘-‟　-。]+
          "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
          "\\s+$", kCjk, R"(\p{N}+)"}},
        {{"deepseek-coder"}, {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"}},
        {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}},
        {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}, {R"(\p{N})", kGpt2}},
        {{"gpt-2", "mpt", "olmo", "jais", "trillion", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en",
          "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "a.x-4.0", "mellum", "exaone4", "granite-docling",
          // GPT-NeoX's own tokenizer uses the GPT-2 byte-level regex.
          "gpt-neox"},
         {kGpt2}},
        {{"qwen2", "stablelm2", "deepseek-r1-qwen", "megrez", "hunyuan", "grok-2", "kormo"}, {kQwen2}},
        {{"deepseek-v3", "hunyuan-dense"},
         {R"(\p{N}{1,3})", "[一-龥぀-ゟ゠-ヿ]+",
          R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
        {{"chameleon"},
         {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", R"(([\t\n]|    |  ))", R"(\p{N})",
          R"([\p{P}!-/:-@\[-`{-~])", kGpt2}},
        {{"bailingmoe", "bailingmoe2", "llada-moe"},
         {R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)"}},
        {{"poro-chat", "bloom", "gpt3-finnish"}, {" ?[^(\\s|.,!?…。，、।۔،)]+"}},
        {{"viking"}, {" ?[^(\\s|.,!?…。，、।۔،)]+", R"(\p{N})"}},
        {{"tekken"},
         {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
        {{"gpt-4o", "llama4", "minimax-m2"},
         {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
        {{"seed-coder"},
         {R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
    };
    return table;
}

struct Regex {
    pcre2_code* code = nullptr;
    bool jit = false;
};

}  // namespace

struct PreTokenizer::Impl {
    std::vector<Regex> regexes;
    ~Impl() {
        for (auto& r : regexes) pcre2_code_free(r.code);
    }
};

PreTokenizer::PreTokenizer() : impl_(std::make_unique<Impl>()) {}
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

Result<std::vector<std::string>> PreTokenizer::regexes_for(std::string_view pre_name) {
    for (const auto& e : pre_table()) {
        if (std::find(e.names.begin(), e.names.end(), pre_name) != e.names.end()) return e.regexes;
    }
    return make_error("unknown pre-tokenizer type '" + std::string(pre_name) + "' (tokenizer.ggml.pre)");
}

std::vector<std::string> PreTokenizer::known_names() {
    std::vector<std::string> names;
    for (const auto& e : pre_table()) names.insert(names.end(), e.names.begin(), e.names.end());
    return names;
}

Result<PreTokenizer> PreTokenizer::for_pre(std::string_view pre_name) {
    auto rx = regexes_for(pre_name);
    if (!rx) return rx.error();
    return from_regexes(*rx);
}

Result<PreTokenizer> PreTokenizer::from_regexes(const std::vector<std::string>& patterns) {
    PreTokenizer p;
    for (const auto& pattern : patterns) {
        int err = 0;
        PCRE2_SIZE err_off = 0;
        pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                         PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_off, nullptr);
        if (!code) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            return make_error("bad pre-tokenizer regex at offset " + std::to_string(err_off) + ": " +
                              reinterpret_cast<const char*>(msg));
        }
        Regex r;
        r.code = code;
        r.jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
        p.impl_->regexes.push_back(r);
    }
    return p;
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
    std::vector<std::string_view> pieces;
    if (text.empty()) return pieces;
    pieces.push_back(text);
    for (const auto& rx : impl_->regexes) {
        pcre2_match_data* md = pcre2_match_data_create_from_pattern(rx.code, nullptr);
        std::vector<std::string_view> next;
        next.reserve(pieces.size() * 2);
        for (std::string_view piece : pieces) {
            const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
            size_t start = 0;  // next search position
            size_t emitted = 0;  // end of the last emitted piece
            while (start <= piece.size()) {
                int rc = rx.jit ? pcre2_jit_match(rx.code, subject, piece.size(), start, 0, md, nullptr)
                                : pcre2_match(rx.code, subject, piece.size(), start, 0, md, nullptr);
                // JIT stack exhausted on a pathological input: redo with the interpreter,
                // which keeps its backtracking state on the heap.
                if (rx.jit && rc < 0 && rc != PCRE2_ERROR_NOMATCH)
                    rc = pcre2_match(rx.code, subject, piece.size(), start, PCRE2_NO_JIT, md, nullptr);
                if (rc < 0) break;
                const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
                const size_t ms = ov[0], me = ov[1];
                if (me == ms) {  // empty match: skip one character
                    if (ms >= piece.size()) break;
                    // Any offset is fine under PCRE2_MATCH_INVALID_UTF: a stray byte is one step.
                    start = ms + utf8_char_length(piece, ms);
                    continue;
                }
                if (ms > emitted) next.push_back(piece.substr(emitted, ms - emitted));
                next.push_back(piece.substr(ms, me - ms));
                emitted = me;
                start = me;
            }
            if (emitted < piece.size()) next.push_back(piece.substr(emitted));
        }
        pcre2_match_data_free(md);
        pieces = std::move(next);
    }
    return pieces;
}

namespace {

std::string canonical_regex(std::string_view pattern) {
    std::string out;
    for (char c : pattern) {
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

}  // namespace

std::string pre_name_for_hf_regexes(const std::vector<std::string>& patterns) {
    if (patterns.size() == 1) {
        if (auto name = pre_name_for_hf_regex(patterns[0]); !name.empty()) return name;
    }
    for (const auto& e : pre_table()) {
        if (e.regexes.size() != patterns.size()) continue;
        bool same = true;
        for (size_t i = 0; same && i < patterns.size(); ++i)
            same = canonical_regex(e.regexes[i]) == canonical_regex(patterns[i]);
        if (same) return std::string(e.names.front());
    }
    return "";
}

std::string pre_name_for_hf_regex(std::string_view pattern) {
    if (pattern == kHfLlama3 || pattern == kLlama3) return "llama-bpe";
    if (pattern == kHfQwen2 || pattern == kQwen2) return "qwen2";
    if (pattern == kGpt2) return "gpt-2";
    return "";
}

}  // namespace hearth::tokenizer
