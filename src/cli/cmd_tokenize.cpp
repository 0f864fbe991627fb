// `hearth tokenize MODEL.gguf "text"`: prints the token ids of a text and each
// token's piece, to check a model's tokenizer from the command line.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "base/utf8.h"
#include "cli/commands.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {

namespace {

// A piece shown readably: printable UTF-8 as is, control characters and bytes that
// are not complete UTF-8 as escapes.
std::string readable(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<uint8_t>(s[i]);
        size_t end = i;
        utf8_decode(s, end);  // a byte that is not part of valid UTF-8 decodes alone
        const size_t len = end - i;
        if (b >= 0x80 && len == 1) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", b);
            out += buf;
            ++i;
            continue;
        }
        if (len == 1) {
            switch (b) {
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                case '\\': out += "\\\\"; break;
                default:
                    if (b < 0x20 || b == 0x7F) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\x%02X", b);
                        out += buf;
                    } else {
                        out += static_cast<char>(b);
                    }
            }
        } else {
            out.append(s, i, len);
        }
        i += len;
    }
    return out;
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("tokenize", "Print the token ids and pieces of a text");
    auto path = std::make_shared<std::string>();
    auto text = std::make_shared<std::string>();
    auto no_bos = std::make_shared<bool>(false);
    auto special = std::make_shared<bool>(false);
    auto json = std::make_shared<bool>(false);
    cmd->add_option("model", *path, "GGUF file (or a Hugging Face tokenizer.json)")->required();
    cmd->add_option("text", *text, "Text to tokenize")->required();
    cmd->add_flag("--no-bos", *no_bos, "Do not add BOS/EOS (or CLS/SEP) tokens");
    cmd->add_flag("--special", *special, "Parse special tokens such as <|im_end|> written in the text");
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([path, text, no_bos, special, json] {
        const bool is_json_file = path->size() >= 5 && path->compare(path->size() - 5, 5, ".json") == 0;
        auto tok = is_json_file ? tokenizer::Tokenizer::from_hf_tokenizer_json(*path)
                                : tokenizer::Tokenizer::from_gguf_file(*path);
        if (!tok) return fail(tok.error().message);
        const auto ids = tok->encode(*text, !*no_bos, *special);
        if (*json) {
            nlohmann::json out;
            out["ids"] = ids;
            auto tokens = nlohmann::json::array();
            for (auto id : ids) {
                tokens.push_back({{"id", id},
                                  {"piece", tok->token_to_piece(id, true)},
                                  {"token", tok->vocab().tokens[static_cast<size_t>(id)]}});
            }
            out["tokens"] = std::move(tokens);
            out["count"] = ids.size();
            std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
            return;
        }
        for (auto id : ids) {
            std::printf("%6d  '%s'\n", id, readable(tok->token_to_piece(id, true)).c_str());
        }
        std::printf("%zu tokens\n", ids.size());
    });
}

}  // namespace hearth::cli
