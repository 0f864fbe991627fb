#include "tts/espeak_phonemizer.h"

#include <espeak-ng/speak_lib.h>

#include <cstring>
#include <mutex>

#include "base/utf8.h"
#include "tts/espeak_runtime.h"
#include "tts/unicode_text.h"

namespace hearth::tts {

namespace {

// espeak-ng's clause types (its ucd punctuation properties), reduced to what Piper does
// with them: Piper appends punctuation only for the plain period/question/exclamation/
// comma/colon/semicolon terminators; punctuation that espeak marks "optional space after"
// (CJK full-width forms, danda), ellipsis and inverted marks end the clause silently.
enum class Kind { NotClauseEnd, Period, Question, Exclamation, Comma, Colon, Semicolon, SilentSentence, SilentClause };

Kind punctuation_kind(char32_t c) {
    switch (c) {
        case U'.': case 0x06D4: case 0x0589: case 0x1362: case 0x166E: case 0x1803:
            return Kind::Period;
        case U'?': case 0x037E: case 0x061F: case 0x1367: case 0x2047:
            return Kind::Question;
        case U'!': case 0x203C:
            return Kind::Exclamation;
        case U',': case 0x060C: case 0x055D: case 0x1363: case 0x1802: case 0x07F8: case 0xA60D:
            return Kind::Comma;
        case U':': case 0x1365: case 0x1366:
            return Kind::Colon;
        case U';': case 0x061B: case 0x1364: case 0x2013: case 0x2014:  // extended dashes count as ';'
            return Kind::Semicolon;
        case 0x0964: case 0x0965: case 0x3002: case 0xFF0E: case 0xFF61: case 0xFF01: case 0xFF1F:
        case 0x2029:
            return Kind::SilentSentence;
        case 0x3001: case 0xFF0C: case 0xFF64: case 0xFF1A: case 0xFF1B: case 0x2026: case 0x00A1: case 0x00BF:
            return Kind::SilentClause;
        default:
            return Kind::NotClauseEnd;
    }
}

bool is_space(char32_t c) {
    return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == 0x0B || c == 0x0C || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

const PhonemeMap* default_phoneme_map(const std::string& voice) {
    static const PhonemeMap pt_br{{U'c', U"k"}};
    return voice == "pt-br" ? &pt_br : nullptr;
}

ClauseEnd clause_end_from_text(std::u32string_view text) {
    size_t end = text.size();
    int newlines = 0;
    while (end > 0 && is_space(text[end - 1])) {
        if (text[end - 1] == U'\n') ++newlines;
        --end;
    }
    if (end == 0) return {};
    // A blank line ends a paragraph: a sentence boundary, and any punctuation before it is
    // not appended (espeak reports CLAUSE_PARAGRAPH).
    if (newlines >= 2) return {0, true};
    // The trailing run of punctuation; espeak reads "..." as an ellipsis and takes the
    // first of a run of ?/! marks as the terminator.
    size_t start = end;
    while (start > 0 && punctuation_kind(text[start - 1]) != Kind::NotClauseEnd) --start;
    if (start == end) return {};  // clause cut for length or at end of text: no terminator
    Kind kind = punctuation_kind(text[end - 1]);
    const Kind first = punctuation_kind(text[start]);
    if (first == Kind::Question || first == Kind::Exclamation) kind = first;
    if (text[end - 1] == U'.' && end - start >= 3 && text[end - 2] == U'.' && text[end - 3] == U'.') {
        kind = Kind::SilentClause;
    }
    ClauseEnd r;
    switch (kind) {
        case Kind::Period: r = {U'.', true}; break;
        case Kind::Question: r = {U'?', true}; break;
        case Kind::Exclamation: r = {U'!', true}; break;
        case Kind::Comma: r = {U',', false}; break;
        case Kind::Colon: r = {U':', false}; break;
        case Kind::Semicolon: r = {U';', false}; break;
        case Kind::SilentSentence: r = {0, true}; break;
        default: r = {0, false}; break;
    }
    return r;
}

Result<std::vector<Phonemes>> phonemize_espeak(const std::string& voice, const std::string& text,
                                               const PhonemeMap* map) {
    std::lock_guard lock(espeak_mutex());
    if (auto v = set_espeak_voice_locked(voice); !v) return v.error();

    std::vector<Phonemes> sentences;
    bool in_sentence = false;
    // espeak-ng reads one character past each clause end and keeps it for the next call, so
    // a clause's text is the previous look-ahead plus what this call consumed, minus its own.
    std::u32string pending;
    const std::string copy = text;  // espeak wants a NUL-terminated buffer it may point into
    const char* cursor = copy.c_str();
    const char* const buffer_end = copy.c_str() + copy.size();
    // Each call consumes at least one character; the bound only guards against a stuck library.
    size_t calls_left = copy.size() + 4;
    while (cursor != nullptr && calls_left-- > 0) {
        const char* before = cursor;
        const char* ipa = espeak_TextToPhonemes(reinterpret_cast<const void**>(&cursor), espeakCHARS_AUTO,
                                                espeakPHONEMES_IPA);
        if (ipa == nullptr) break;  // text could not be decoded
        std::u32string consumed = utf8_to_u32(
            std::string_view(before, static_cast<size_t>((cursor ? cursor : buffer_end) - before)));
        std::u32string clause_text = pending;
        pending.clear();
        if (cursor != nullptr && !consumed.empty()) {
            pending.push_back(consumed.back());
            consumed.pop_back();
        }
        clause_text += consumed;
        const ClauseEnd clause_end = clause_end_from_text(clause_text);

        if (!in_sentence) {
            sentences.emplace_back();
            in_sentence = true;
        }
        Phonemes& sentence = sentences.back();
        std::u32string phonemes = nfd(utf8_to_u32(ipa));
        if (map != nullptr && !map->empty()) {
            std::u32string mapped;
            for (char32_t p : phonemes) {
                const auto it = map->find(p);
                if (it == map->end()) {
                    mapped.push_back(p);
                } else {
                    mapped += it->second;
                }
            }
            phonemes = std::move(mapped);
        }
        bool in_language_flag = false;
        for (char32_t p : phonemes) {
            if (in_language_flag) {
                if (p == U')') in_language_flag = false;
            } else if (p == U'(') {
                in_language_flag = true;
            } else {
                sentence.push_back(p);
            }
        }
        if (clause_end.punctuation != 0) {
            sentence.push_back(clause_end.punctuation);
            if (!clause_end.ends_sentence) sentence.push_back(U' ');
        }
        if (clause_end.ends_sentence) in_sentence = false;
    }
    return sentences;
}

}  // namespace hearth::tts
