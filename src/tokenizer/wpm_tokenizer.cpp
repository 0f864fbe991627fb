#include "tokenizer/wpm_tokenizer.h"

#include <algorithm>
#include <cstdint>

#include "base/utf8.h"

namespace hearth::tokenizer {

namespace {

struct UnicodeRange {
    uint32_t lo, hi;
};
struct UnicodeMapping {
    uint32_t cp;
    int n;
    uint32_t out[3];
};

#include "tokenizer/bert_unicode_table.inc"

template <size_t N>
bool in_ranges(const UnicodeRange (&ranges)[N], uint32_t cp) {
    auto it = std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                               [](uint32_t c, const UnicodeRange& r) { return c < r.lo; });
    return it != std::begin(ranges) && cp <= std::prev(it)->hi;
}

const UnicodeMapping* find_mapping(uint32_t cp) {
    auto it = std::lower_bound(std::begin(kBertMappings), std::end(kBertMappings), cp,
                               [](const UnicodeMapping& m, uint32_t c) { return m.cp < c; });
    return it != std::end(kBertMappings) && it->cp == cp ? &*it : nullptr;
}

bool is_whitespace(uint32_t cp) { return cp == '\t' || cp == '\n' || cp == '\r' || in_ranges(kSpaceRanges, cp); }

bool is_punctuation(uint32_t cp) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
        return true;
    return in_ranges(kPunctRanges, cp);
}

bool is_cjk_ideograph(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

constexpr size_t kMaxCharsPerWord = 100;

}  // namespace

std::vector<std::string> WpmTokenizer::split_words(std::string_view text) {
    std::vector<std::string> words;
    std::string current;
    auto finish = [&] {
        if (!current.empty()) words.push_back(std::move(current));
        current.clear();
    };
    auto add_char = [&](uint32_t c, bool isolate) {
        if (isolate) {
            finish();
            utf8_append(current, c);
            finish();
        } else {
            utf8_append(current, c);
        }
    };
    size_t pos = 0;
    while (pos < text.size()) {
        const uint32_t cp = utf8_decode(text, pos);
        if (is_whitespace(cp)) {
            finish();
            continue;
        }
        if (cp == 0 || cp == 0xFFFD || in_ranges(kOtherRanges, cp) || in_ranges(kMnRanges, cp)) continue;
        const bool cjk = is_cjk_ideograph(cp);
        if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul syllable: canonical decomposition into jamo
            const uint32_t s = cp - 0xAC00;
            add_char(0x1100 + s / (21 * 28), false);
            add_char(0x1161 + (s % (21 * 28)) / 28, false);
            if (s % 28) add_char(0x11A7 + s % 28, false);
            continue;
        }
        if (const UnicodeMapping* m = find_mapping(cp)) {
            for (int i = 0; i < m->n; ++i) add_char(m->out[i], cjk || is_punctuation(m->out[i]));
        } else {
            add_char(cp, cjk || is_punctuation(cp));
        }
    }
    finish();
    return words;
}

void WpmTokenizer::encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
    for (const std::string& w : split_words(text)) {
        size_t n_chars = 0;
        for (size_t p = 0; p < w.size(); p += utf8_char_length(w, p)) ++n_chars;
        const std::string word = "\xe2\x96\x81" + w;
        const size_t before = out.size();
        bool ok = n_chars <= kMaxCharsPerWord;
        for (size_t i = 0; ok && i < word.size();) {
            size_t best = 0;
            TokenId best_id = kNoToken;
            for (size_t j = std::min(word.size(), i + vocab.max_token_len); j > i; --j) {
                if (j < word.size() && utf8_is_continuation(static_cast<uint8_t>(word[j]))) continue;
                if (TokenId id = vocab.find(std::string_view(word).substr(i, j - i)); id != kNoToken) {
                    best = j;
                    best_id = id;
                    break;
                }
            }
            if (best_id == kNoToken) {
                ok = false;
                break;
            }
            out.push_back(best_id);
            i = best;
        }
        if (!ok) {
            out.resize(before);
            if (vocab.unk != kNoToken) out.push_back(vocab.unk);
        }
    }
}

}  // namespace hearth::tokenizer
