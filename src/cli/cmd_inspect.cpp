// `hearth inspect FILE.gguf [--json] [--all-metadata]`: what a user wants to know about
// a model file before loading it.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "llm/model_spec.h"

namespace hearth::cli {
namespace {

using gguf::GgufFile;
using nlohmann::ordered_json;

std::string human_bytes(uint64_t n) {
    char buf[32];
    if (n >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1ull << 30));
    else if (n >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(n) / (1ull << 20));
    else if (n >= (1ull << 10)) std::snprintf(buf, sizeof buf, "%.2f KiB", static_cast<double>(n) / (1ull << 10));
    else std::snprintf(buf, sizeof buf, "%" PRIu64 " B", n);
    return buf;
}

std::string human_count(uint64_t n) {
    char buf[32];
    if (n >= 1000000000ull) std::snprintf(buf, sizeof buf, "%.2fB", static_cast<double>(n) / 1e9);
    else if (n >= 1000000ull) std::snprintf(buf, sizeof buf, "%.2fM", static_cast<double>(n) / 1e6);
    else if (n >= 1000ull) std::snprintf(buf, sizeof buf, "%.1fK", static_cast<double>(n) / 1e3);
    else std::snprintf(buf, sizeof buf, "%" PRIu64, n);
    return buf;
}

struct TokenizerSummary {
    std::string model;  // "" when the file has no tokenizer
    std::string pre;
    int64_t n_tokens = 0;
    int64_t n_merges = 0;
    std::map<std::string, int64_t> special;  // "bos" -> id
    bool has_chat_template = false;
    size_t chat_template_chars = 0;
};

TokenizerSummary summarize_tokenizer(const gguf::Metadata& md) {
    TokenizerSummary t;
    t.model = md.get_string("tokenizer.ggml.model").value_or("");
    t.pre = md.get_string("tokenizer.ggml.pre").value_or("");
    if (const auto* a = md.get_array("tokenizer.ggml.tokens")) t.n_tokens = static_cast<int64_t>(a->items.size());
    if (const auto* a = md.get_array("tokenizer.ggml.merges")) t.n_merges = static_cast<int64_t>(a->items.size());
    for (const char* name : {"bos", "eos", "eot", "eom", "unknown", "padding", "separator", "mask"}) {
        if (auto id = md.get_int(std::string("tokenizer.ggml.") + name + "_token_id")) t.special[name] = *id;
    }
    if (auto tmpl = md.get_string("tokenizer.chat_template")) {
        t.has_chat_template = true;
        t.chat_template_chars = tmpl->size();
    }
    return t;
}

std::string tokenizer_kind(const std::string& model) {
    if (model == "llama") return "SentencePiece";
    if (model == "gpt2") return "byte-level BPE";
    if (model == "bert") return "WordPiece";
    if (model == "t5") return "Unigram";
    if (model == "rwkv") return "RWKV";
    return "unknown";
}

struct Totals {
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
    std::map<std::string, std::pair<int, uint64_t>> by_type;  // type -> (tensors, bytes)
};

Totals tensor_totals(const GgufFile& f) {
    Totals t;
    for (const auto& info : f.tensors()) {
        t.n_elements += static_cast<uint64_t>(info.n_elements);
        t.n_bytes += info.n_bytes;
        auto& slot = t.by_type[std::string(gguf::type_name(info.type))];
        slot.first += 1;
        slot.second += info.n_bytes;
    }
    return t;
}

ordered_json value_json(const gguf::Value& v, size_t max_items) {
    switch (v.type()) {
        case gguf::ValueType::String: return *v.as_string();
        case gguf::ValueType::Bool: return *v.as_bool();
        case gguf::ValueType::F32:
        case gguf::ValueType::F64: return *v.as_float();
        case gguf::ValueType::Array: {
            const auto& a = *v.as_array();
            ordered_json items = ordered_json::array();
            for (size_t i = 0; i < a.items.size() && i < max_items; ++i) items.push_back(value_json(a.items[i], max_items));
            if (a.items.size() <= max_items) return items;
            return ordered_json{{"type", std::string(gguf::value_type_name(a.type))},
                                {"count", a.items.size()},
                                {"first", items}};
        }
        default: return *v.as_int();
    }
}

void print_json(const std::string& path, const GgufFile& f, const Result<llm::HyperParams>& hp,
                const TokenizerSummary& tok, const Totals& totals, size_t max_items) {
    ordered_json j;
    j["file"] = path;
    j["gguf_version"] = f.version();
    j["file_size"] = f.file_size();
    j["alignment"] = f.alignment();
    j["architecture"] = f.architecture();
    j["name"] = f.metadata().get_string("general.name").value_or("");
    if (hp) {
        j["supported"] = hp->supported;
        j["hyper_parameters"] = {{"context_length", hp->n_ctx_train}, {"embedding_length", hp->n_embd},
                                 {"block_count", hp->n_layer},        {"head_count", hp->n_head},
                                 {"head_count_kv", hp->n_head_kv},    {"head_dim", hp->head_dim},
                                 {"feed_forward_length", hp->n_ff},   {"vocab_size", hp->n_vocab},
                                 {"rope_dimension_count", hp->rope_dim}, {"rope_freq_base", hp->rope_theta},
                                 {"rms_norm_epsilon", hp->rms_eps},   {"tied_embeddings", hp->tied_embeddings}};
    } else {
        j["supported"] = false;
        j["hyper_parameters_error"] = hp.error().message;
    }
    ordered_json t = {{"model", tok.model}, {"pre", tok.pre}, {"tokens", tok.n_tokens}, {"merges", tok.n_merges}};
    t["special_token_ids"] = tok.special;
    t["chat_template"] = tok.has_chat_template;
    j["tokenizer"] = t;
    ordered_json md = ordered_json::object();
    for (const auto& [key, value] : f.metadata().entries()) md[key] = value_json(value, max_items);
    j["metadata"] = md;
    ordered_json tensors = ordered_json::array();
    for (const auto& info : f.tensors()) {
        tensors.push_back({{"name", info.name},
                           {"type", std::string(gguf::type_name(info.type))},
                           {"shape", info.shape},
                           {"elements", info.n_elements},
                           {"bytes", info.n_bytes},
                           {"offset", info.offset}});
    }
    j["tensors"] = tensors;
    ordered_json by_type = ordered_json::object();
    for (const auto& [type, slot] : totals.by_type) by_type[type] = {{"tensors", slot.first}, {"bytes", slot.second}};
    j["totals"] = {{"tensors", f.tensors().size()},
                   {"parameters", totals.n_elements},
                   {"bytes", totals.n_bytes},
                   {"by_type", by_type}};
    std::printf("%s\n", j.dump(2).c_str());
}

void print_text(const std::string& path, const GgufFile& f, const Result<llm::HyperParams>& hp,
                const TokenizerSummary& tok, const Totals& totals, bool all_metadata) {
    std::printf("%s: GGUF v%u, %s, %zu metadata keys, %zu tensors, alignment %u\n", path.c_str(), f.version(),
                human_bytes(f.file_size()).c_str(), f.metadata().size(), f.tensors().size(), f.alignment());
    const std::string arch = f.architecture();
    std::printf("\nmodel\n");
    std::printf("  architecture     %s%s\n", arch.empty() ? "(none)" : arch.c_str(),
                hp && hp->supported ? "" : " (not supported by this hearth)");
    if (auto name = f.metadata().get_string("general.name")) std::printf("  name             %s\n", name->c_str());
    if (hp) {
        const auto& h = *hp;
        std::printf("  summary          dim %" PRId64 ", %" PRId64 " layers, %" PRId64 " heads, %" PRId64
                    " kv heads, vocab %" PRId64 "\n",
                    h.n_embd, h.n_layer, h.n_head, h.n_head_kv, h.n_vocab);
        std::printf("\nhyper-parameters\n");
        std::printf("  context length   %" PRId64 "\n", h.n_ctx_train);
        std::printf("  dim              %" PRId64 "\n", h.n_embd);
        std::printf("  layers           %" PRId64 "\n", h.n_layer);
        std::printf("  heads            %" PRId64 "\n", h.n_head);
        std::printf("  kv heads         %" PRId64 "\n", h.n_head_kv);
        std::printf("  head dim         %" PRId64 "\n", h.head_dim);
        std::printf("  feed-forward     %" PRId64 "\n", h.n_ff);
        std::printf("  vocab            %" PRId64 "\n", h.n_vocab);
        std::printf("  rope             dim %" PRId64 ", theta %g%s%s\n", h.rope_dim, h.rope_theta,
                    h.rope_scaling.empty() ? "" : ", scaling ", h.rope_scaling.c_str());
        std::printf("  rms norm eps     %g\n", h.rms_eps);
        std::printf("  output           %s\n", h.tied_embeddings ? "tied to token embedding" : "separate");
    } else {
        std::printf("  hyper-parameters unavailable: %s\n", hp.error().message.c_str());
    }
    std::printf("\ntokenizer\n");
    if (tok.model.empty()) {
        std::printf("  (none)\n");
    } else {
        std::printf("  model            %s (%s)\n", tok.model.c_str(), tokenizer_kind(tok.model).c_str());
        if (!tok.pre.empty()) std::printf("  pre-tokenizer    %s\n", tok.pre.c_str());
        std::printf("  tokens           %" PRId64 "\n", tok.n_tokens);
        if (tok.n_merges) std::printf("  merges           %" PRId64 "\n", tok.n_merges);
        for (const auto& [name, id] : tok.special) std::printf("  %-16s %" PRId64 "\n", (name + " id").c_str(), id);
    }
    std::printf("  chat template    %s\n",
                tok.has_chat_template ? ("present (" + std::to_string(tok.chat_template_chars) + " chars)").c_str()
                                      : "absent");

    std::printf("\nmetadata\n");
    for (const auto& [key, value] : f.metadata().entries()) {
        const bool bulky = key.rfind("tokenizer.ggml.", 0) == 0 && value.type() == gguf::ValueType::Array;
        if (!all_metadata && (bulky || key == "tokenizer.chat_template")) continue;
        std::printf("  %-40s %s = %s\n", key.c_str(), std::string(gguf::value_type_name(value.type())).c_str(),
                    value.summary(all_metadata ? 64 : 8).c_str());
    }

    std::printf("\ntensors\n");
    size_t width = 4;
    for (const auto& t : f.tensors()) width = std::max(width, t.name.size());
    std::printf("  %-*s  %-7s  %-22s  %12s\n", static_cast<int>(width), "name", "type", "shape", "bytes");
    for (const auto& t : f.tensors()) {
        std::printf("  %-*s  %-7s  %-22s  %12" PRIu64 "\n", static_cast<int>(width), t.name.c_str(),
                    std::string(gguf::type_name(t.type)).c_str(), t.shape_string().c_str(), t.n_bytes);
    }
    std::printf("\ntotals\n");
    std::printf("  tensors          %zu\n", f.tensors().size());
    std::printf("  parameters       %s (%" PRIu64 ")\n", human_count(totals.n_elements).c_str(), totals.n_elements);
    std::printf("  tensor bytes     %s (%" PRIu64 ")\n", human_bytes(totals.n_bytes).c_str(), totals.n_bytes);
    for (const auto& [type, slot] : totals.by_type) {
        std::printf("  %-16s %d tensors, %s\n", type.c_str(), slot.first, human_bytes(slot.second).c_str());
    }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("inspect", "Show a GGUF model's architecture, tokenizer and tensors");
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto all = std::make_shared<bool>(false);
    cmd->add_option("file", *path, "GGUF file")->required();
    cmd->add_flag("--json", *json, "Print JSON instead of text");
    cmd->add_flag("--all-metadata", *all, "Show token lists and the chat template too (text output)");
    cmd->callback([path, json, all] {
        auto file = GgufFile::open(*path);
        if (!file) return fail(file.error().message);
        const auto hp = llm::read_hyper_params(*file);
        const auto tok = summarize_tokenizer(file->metadata());
        const auto totals = tensor_totals(*file);
        if (*json) print_json(*path, *file, hp, tok, totals, 16);
        else print_text(*path, *file, hp, tok, totals, *all);
    });
}

}  // namespace hearth::cli
