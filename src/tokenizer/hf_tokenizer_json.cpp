#include "tokenizer/hf_tokenizer_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "base/mapped_file.h"
#include "tokenizer/pre_tokenizer.h"

namespace hearth::tokenizer {

namespace {

using nlohmann::json;

// Added tokens that are not flagged special but are control tokens in practice.
bool looks_special(std::string_view t) {
    auto wrapped = [&](std::string_view open, std::string_view close) {
        return t.size() >= open.size() + close.size() && t.substr(0, open.size()) == open &&
               t.substr(t.size() - close.size()) == close;
    };
    return t == "<pad>" || t == "<mask>" || wrapped("<|", "|>") || wrapped("<\xef\xbd\x9c", "\xef\xbd\x9c>");
}

// Finds the pre-tokenizer name for the tokenizer.json "pre_tokenizer" object: its
// Split regexes (in order) must be one of our pre-tokenizer regex lists, or it is a
// plain regex ByteLevel (GPT-2).
Result<std::string> find_pre(const json& pre) {
    if (!pre.is_object()) return make_error("tokenizer.json has no pre_tokenizer");
    std::vector<std::string> splits;
    bool byte_level_regex = false;
    auto visit = [&](const json& p) -> Result<void> {
        const std::string t = p.value("type", "");
        if (t == "Split") {
            const json pattern = p.value("pattern", json::object());
            if (!pattern.contains("Regex") || !pattern["Regex"].is_string())
                return make_error("tokenizer.json: Split pre-tokenizer without a regex");
            const std::string behavior = p.value("behavior", "Isolated");
            if (behavior != "Isolated" || p.value("invert", false))
                return make_error("tokenizer.json: unsupported Split behavior '" + behavior + "'");
            splits.push_back(pattern["Regex"].get<std::string>());
        } else if (t == "ByteLevel") {
            if (p.value("use_regex", true)) byte_level_regex = true;
        } else {
            return make_error("tokenizer.json: unsupported pre-tokenizer '" + t + "'");
        }
        return {};
    };
    if (pre.value("type", "") == "Sequence") {
        for (const auto& p : pre.value("pretokenizers", json::array())) {
            if (auto r = visit(p); !r) return r.error();
        }
    } else if (auto r = visit(pre); !r) {
        return r.error();
    }
    if (splits.empty()) {
        if (byte_level_regex) return std::string("gpt-2");
        return make_error("tokenizer.json: no regex pre-tokenizer found");
    }
    if (byte_level_regex) return make_error("tokenizer.json: Split followed by a regex ByteLevel is not supported");
    std::string name = pre_name_for_hf_regexes(splits);
    if (name.empty()) {
        std::string all;
        for (const auto& s : splits) all += (all.empty() ? "" : " | ") + s;
        return make_error("tokenizer.json: unsupported pre-tokenizer regex: " + all);
    }
    return name;
}

// A token given as "text" or {"content": "text"} in tokenizer_config.json.
std::string config_token(const json& cfg, const char* key) {
    if (!cfg.contains(key)) return {};
    const json& v = cfg[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return {};
}

Result<Vocab> parse_tokenizer_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json,
                                   std::string_view pre_name) {
    const json j = json::parse(tokenizer_json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return make_error("tokenizer.json is not valid JSON");
    if (!j.contains("model") || !j["model"].is_object()) return make_error("tokenizer.json has no model");
    const json& model = j["model"];
    const std::string model_type = model.value("type", "");
    if (model_type != "BPE")
        return make_error("unsupported tokenizer.json model type '" + model_type + "' (only byte-level BPE)");
    if (model.value("byte_fallback", false)) return make_error("tokenizer.json: BPE with byte_fallback is not supported");
    if (!model.contains("vocab") || !model["vocab"].is_object()) return make_error("tokenizer.json: model.vocab missing");

    // Only Unicode normalisation to NFC is accepted (and not applied: text is expected to
    // be NFC already, as the reference GGUF conversion also assumes).
    if (j.contains("normalizer") && !j["normalizer"].is_null()) {
        const json& nz = j["normalizer"];
        const std::string norm = nz.is_object() ? nz.value("type", "") : "";
        const bool empty_sequence = norm == "Sequence" && nz.value("normalizers", json::array()).empty();
        if (norm != "NFC" && !empty_sequence)
            return make_error("tokenizer.json: unsupported normalizer '" + norm + "'");
    }
    // Byte-level BPE is recognised by its ByteLevel pre-tokenizer or decoder.
    auto mentions_byte_level = [&](const char* key) {
        return j.contains(key) && j[key].is_object() && j[key].dump().find("\"ByteLevel\"") != std::string::npos;
    };
    const bool byte_level = mentions_byte_level("pre_tokenizer") || mentions_byte_level("decoder");
    if (!byte_level) return make_error("tokenizer.json: only byte-level BPE (ByteLevel) is supported");

    Vocab v;
    v.type = VocabType::Bpe;
    v.model = "gpt2";
    if (pre_name.empty()) {
        auto pre = find_pre(j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json());
        if (!pre) return make_error(pre.error().message + " (name a known one to use instead)");
        v.pre = *pre;
    } else if (auto rx = PreTokenizer::regexes_for(pre_name); !rx) {
        return rx.error();
    } else {
        v.pre = std::string(pre_name);
    }
    v.ignore_merges = model.value("ignore_merges", false);

    // Token table: model vocab plus added tokens; holes become unused placeholders.
    int64_t max_id = -1;
    for (const auto& [text, id] : model["vocab"].items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0) return make_error("tokenizer.json: bad id for " + text);
        max_id = std::max(max_id, id.get<int64_t>());
    }
    const json added = j.value("added_tokens", json::array());
    for (const auto& a : added) {
        if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
            !a["content"].is_string() || a["id"].get<int64_t>() < 0)
            return make_error("tokenizer.json: malformed added token");
        max_id = std::max(max_id, a["id"].get<int64_t>());
    }
    if (max_id < 0 || max_id > 10'000'000) return make_error("tokenizer.json: bad vocabulary size");
    const size_t n = static_cast<size_t>(max_id + 1);
    v.tokens.assign(n, {});
    v.types.assign(n, TokenType::Unused);
    std::vector<bool> filled(n, false);
    for (const auto& [text, id] : model["vocab"].items()) {
        const auto i = static_cast<size_t>(id.get<int64_t>());
        v.tokens[i] = text;
        v.types[i] = TokenType::Normal;
        filled[i] = true;
    }
    for (const auto& a : added) {
        const auto i = static_cast<size_t>(a["id"].get<int64_t>());
        const std::string content = a["content"].get<std::string>();
        v.tokens[i] = content;
        v.types[i] = (a.value("special", false) || looks_special(content)) ? TokenType::Control : TokenType::UserDefined;
        filled[i] = true;
        const uint8_t strip = (a.value("lstrip", false) ? Vocab::kStripLeft : 0) | (a.value("rstrip", false) ? Vocab::kStripRight : 0);
        if (strip) {
            if (v.strip.empty()) v.strip.assign(n, 0);
            v.strip[i] = strip;
        }
    }
    for (size_t i = 0; i < n; ++i) {
        if (!filled[i]) v.tokens[i] = "[PAD" + std::to_string(i) + "]";
    }

    // Merges: "a b" strings or ["a", "b"] pairs.
    if (!model.contains("merges") || !model["merges"].is_array()) return make_error("tokenizer.json: model.merges missing");
    v.merges.reserve(model["merges"].size());
    for (const auto& m : model["merges"]) {
        if (m.is_string()) {
            v.merges.push_back(m.get<std::string>());
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        } else {
            return make_error("tokenizer.json: malformed merge");
        }
    }

    // Special tokens: BOS from a TemplateProcessing post-processor, then tokenizer_config.json.
    v.bos = v.eos = kNoToken;
    std::function<void(const json&)> scan_post = [&](const json& p) {
        if (!p.is_object()) return;
        const std::string type = p.value("type", "");
        if (type == "Sequence") {
            for (const auto& q : p.value("processors", json::array())) scan_post(q);
        } else if (type == "TemplateProcessing") {
            const json single = p.value("single", json::array());
            if (!single.empty() && single[0].is_object() && single[0].contains("SpecialToken")) {
                const std::string id = single[0]["SpecialToken"].value("id", "");
                for (size_t i = 0; i < n; ++i) {
                    if (v.tokens[i] == id) {
                        v.bos = static_cast<TokenId>(i);
                        v.add_bos = true;
                        break;
                    }
                }
            }
        }
    };
    if (j.contains("post_processor")) scan_post(j["post_processor"]);

    if (!tokenizer_config_json.empty()) {
        const json cfg = json::parse(tokenizer_config_json, nullptr, false);
        if (cfg.is_discarded() || !cfg.is_object()) return make_error("tokenizer_config.json is not valid JSON");
        auto id_of = [&](const std::string& text) -> TokenId {
            if (text.empty()) return kNoToken;
            for (size_t i = n; i-- > 0;) {
                if (v.tokens[i] == text && v.types[i] != TokenType::Normal) return static_cast<TokenId>(i);
            }
            for (size_t i = 0; i < n; ++i) {
                if (v.tokens[i] == text) return static_cast<TokenId>(i);
            }
            return kNoToken;
        };
        if (TokenId id = id_of(config_token(cfg, "bos_token")); id != kNoToken) v.bos = id;
        if (TokenId id = id_of(config_token(cfg, "eos_token")); id != kNoToken) v.eos = id;
        if (TokenId id = id_of(config_token(cfg, "pad_token")); id != kNoToken) v.pad = id;
        if (TokenId id = id_of(config_token(cfg, "unk_token")); id != kNoToken) v.unk = id;
        if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) v.add_bos = cfg["add_bos_token"].get<bool>();
        if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) v.add_eos = cfg["add_eos_token"].get<bool>();
    }
    if (v.add_bos && v.bos == kNoToken) v.add_bos = false;

    if (auto r = v.finalize(); !r) return r.error();
    return v;
}

}  // namespace

// JSON of the wrong shape (a string where a bool belongs, ...) surfaces as nlohmann
// exceptions; they become errors here so bad files never crash the caller.
Result<Vocab> vocab_from_hf_tokenizer_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json,
                                           std::string_view pre_name) {
    try {
        return parse_tokenizer_json(tokenizer_json, tokenizer_config_json, pre_name);
    } catch (const std::exception& e) {
        return make_error(std::string("tokenizer.json: ") + e.what());
    }
}

Result<Vocab> vocab_from_hf_vocab_and_merges(std::string_view vocab_json, std::string_view merges_txt,
                                             std::string_view pre_name) try {
    const json j = json::parse(vocab_json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error("vocab.json is not a JSON object");
    if (auto rx = PreTokenizer::regexes_for(pre_name); !rx) return rx.error();
    Vocab v;
    v.type = VocabType::Bpe;
    v.model = "gpt2";
    v.pre = std::string(pre_name);
    int64_t max_id = -1;
    for (const auto& [text, id] : j.items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > 10'000'000)
            return make_error("vocab.json: bad id for " + text);
        max_id = std::max(max_id, id.get<int64_t>());
    }
    if (max_id < 0) return make_error("vocab.json is empty");
    v.tokens.assign(static_cast<size_t>(max_id + 1), {});
    v.types.assign(v.tokens.size(), TokenType::Unused);
    for (const auto& [text, id] : j.items()) {
        v.tokens[static_cast<size_t>(id.get<int64_t>())] = text;
        v.types[static_cast<size_t>(id.get<int64_t>())] = TokenType::Normal;
    }
    for (size_t i = 0; i < v.tokens.size(); ++i) {
        if (v.types[i] == TokenType::Unused) v.tokens[i] = "[PAD" + std::to_string(i) + "]";
    }
    size_t pos = 0;
    while (pos < merges_txt.size()) {
        size_t end = merges_txt.find('\n', pos);
        if (end == std::string_view::npos) end = merges_txt.size();
        std::string_view line = merges_txt.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.substr(0, 8) == "#version") continue;
        v.merges.emplace_back(line);
    }
    v.bos = v.eos = kNoToken;
    v.add_bos = false;
    v.ignore_merges = v.pre == "llama-bpe" || v.pre == "llama3";
    if (auto r = v.finalize(); !r) return r.error();
    return v;
} catch (const std::exception& e) {
    return make_error(std::string("vocab.json: ") + e.what());
}

Result<Vocab> load_hf_tokenizer_json(const std::string& path) {
    auto text = read_text_file(path);
    if (!text) return make_error(path + ": " + text.error().message);
    std::string config;
    const auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
    std::error_code ec;
    if (std::filesystem::exists(config_path, ec)) {
        auto c = read_text_file(config_path.string());
        if (!c) return make_error(config_path.string() + ": " + c.error().message);
        config = std::move(*c);
    }
    auto v = vocab_from_hf_tokenizer_json(*text, config);
    if (!v) return make_error(path + ": " + v.error().message);
    return v;
}

}  // namespace hearth::tokenizer
