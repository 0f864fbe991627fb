#include "convert/convert.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "convert/hf_config.h"
#include "convert/safetensors.h"
#include "convert/tensor_map.h"
#include "llm/synthetic_model.h"
#include "tensor/quant.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/vocab.h"

namespace hearth::convert {
namespace {

namespace fs = std::filesystem;
using gguf::GgmlType;
using gguf::Value;
using json = nlohmann::json;

struct Source {
    const TensorView* view;
    TensorPlan plan;
};

std::string read_optional(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return {};
    auto text = read_text_file(path.string());
    return text ? *text : std::string();
}

Result<GgmlType> source_type(const TensorView& t) {
    switch (t.dtype) {
        case Dtype::F32: return GgmlType::F32;
        case Dtype::F16: return GgmlType::F16;
        case Dtype::BF16: return GgmlType::BF16;
        default:
            return make_error("tensor " + t.name + " is " + std::string(dtype_name(t.dtype)) +
                              "; only F32, F16 and BF16 weights can be converted");
    }
}

Result<GgmlType> matrix_type(const std::string& type, const SafetensorsModel& model) {
    if (type == "f32") return GgmlType::F32;
    if (type == "f16") return GgmlType::F16;
    if (type == "bf16") return GgmlType::BF16;
    if (type == "q8_0") return GgmlType::Q8_0;
    if (type != "auto") return make_error("unknown output type '" + type + "' (f32, f16, bf16, q8_0, auto)");
    const TensorView* embd = model.find("model.embed_tokens.weight");
    return embd && embd->dtype == Dtype::BF16 ? GgmlType::BF16 : GgmlType::F16;
}

// The vocabulary from tokenizer.json, padded to the embedding's rows as llama.cpp pads it.
Result<tokenizer::Vocab> read_vocab(const fs::path& dir, const HfModelConfig& config, const std::string& pre) {
    const std::string tokenizer_json = read_optional(dir / "tokenizer.json");
    if (tokenizer_json.empty()) {
        std::error_code ec;
        if (fs::exists(dir / "tokenizer.model", ec))
            return make_error("this model has only a SentencePiece tokenizer.model; hearth converts tokenizer.json (byte-level BPE) tokenizers");
        return make_error("no tokenizer.json in " + dir.string());
    }
    auto vocab = tokenizer::vocab_from_hf_tokenizer_json(tokenizer_json, read_optional(dir / "tokenizer_config.json"), pre);
    if (!vocab) return make_error("tokenizer.json: " + vocab.error().message);
    if (static_cast<int64_t>(vocab->size()) > config.n_vocab)
        return make_error("tokenizer.json has " + std::to_string(vocab->size()) + " tokens, more than the " +
                          std::to_string(config.n_vocab) + " rows of the embedding (vocab_size)");
    for (auto i = static_cast<int64_t>(vocab->size()); i < config.n_vocab; ++i) {
        vocab->tokens.push_back("[PAD" + std::to_string(i) + "]");
        vocab->types.push_back(tokenizer::TokenType::Unused);
        if (!vocab->scores.empty()) vocab->scores.push_back(0);
    }
    if (vocab->eos == tokenizer::kNoToken) {  // generation_config.json names it for some models
        const json gen = json::parse(read_optional(dir / "generation_config.json"), nullptr, false);
        if (gen.is_object() && gen.contains("eos_token_id")) {
            const json& e = gen["eos_token_id"];
            const json& first = e.is_array() && !e.empty() ? e[0] : e;
            if (first.is_number_integer()) vocab->eos = first.get<tokenizer::TokenId>();
        }
    }
    return vocab;
}

// tokenizer.chat_template (and named ones) from chat_template.jinja or tokenizer_config.json.
void add_chat_templates(const fs::path& dir, gguf::Metadata& md) {
    if (std::string jinja = read_optional(dir / "chat_template.jinja"); !jinja.empty()) {
        md.set("tokenizer.chat_template", Value::str(std::move(jinja)));
        return;
    }
    const json config = json::parse(read_optional(dir / "tokenizer_config.json"), nullptr, false);
    if (!config.is_object() || !config.contains("chat_template")) return;
    const json& t = config["chat_template"];
    if (t.is_string()) {
        md.set("tokenizer.chat_template", Value::str(t.get<std::string>()));
        return;
    }
    if (!t.is_array()) return;
    for (const auto& item : t) {
        if (!item.is_object() || !item.contains("name") || !item.contains("template") || !item["name"].is_string() ||
            !item["template"].is_string())
            continue;
        const std::string name = item["name"].get<std::string>();
        md.set(name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template." + name,
               Value::str(item["template"].get<std::string>()));
    }
}

void add_hyper_params(gguf::Metadata& md, const HfModelConfig& c, const std::string& name, GgmlType type) {
    const std::string p = c.gguf_arch + ".";
    auto u32 = [](int64_t v) { return Value::u32(static_cast<uint32_t>(v)); };
    md.set("general.architecture", Value::str(c.gguf_arch));
    md.set("general.name", Value::str(name));
    md.set("general.file_type", Value::u32(llm::file_type_for(type)));
    md.set("general.quantization_version", Value::u32(2));
    md.set(p + "context_length", u32(c.n_ctx));
    md.set(p + "embedding_length", u32(c.n_embd));
    md.set(p + "block_count", u32(c.n_layer));
    md.set(p + "feed_forward_length", u32(c.n_ff));
    md.set(p + "attention.head_count", u32(c.n_head));
    md.set(p + "attention.head_count_kv", u32(c.n_head_kv));
    md.set(p + "attention.layer_norm_rms_epsilon", Value::f32(static_cast<float>(c.rms_eps)));
    md.set(p + "rope.freq_base", Value::f32(static_cast<float>(c.rope_theta)));
    if (c.gguf_arch == "llama") md.set(p + "rope.dimension_count", u32(c.head_dim));
    if (c.gguf_arch == "qwen3" || c.head_dim != c.n_embd / c.n_head) {
        md.set(p + "attention.key_length", u32(c.head_dim));
        md.set(p + "attention.value_length", u32(c.head_dim));
    }
    if (c.linear_rope_factor > 0) {
        md.set(p + "rope.scaling.type", Value::str("linear"));
        md.set(p + "rope.scaling.factor", Value::f32(static_cast<float>(c.linear_rope_factor)));
    }
    md.set(p + "vocab_size", u32(c.n_vocab));
}

// Where a tensor goes in the file: the embeddings, the blocks in order, then the output.
std::tuple<int, int64_t, std::string> file_order(const std::string& name) {
    if (name == "token_embd.weight") return {0, 0, name};
    if (name.rfind("blk.", 0) == 0) return {1, std::stoll(name.substr(4)), name};
    return {2, 0, name};
}

Result<std::vector<Source>> plan_all(const SafetensorsModel& model, const HfModelConfig& c) {
    std::vector<Source> sources;
    std::set<std::string> names;
    for (const TensorView* t : model.tensors()) {
        auto plan = plan_tensor(c, t->name, t->shape);
        if (!plan) return plan.error();
        if (!*plan) continue;
        names.insert((*plan)->name);
        sources.push_back({t, std::move(**plan)});
    }
    std::vector<std::string> required = {"token_embd.weight", "output_norm.weight"};
    if (!c.tied_embeddings) required.push_back("output.weight");
    std::vector<std::string> per_block = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                                          "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight",
                                          "ffn_down.weight"};
    if (c.gguf_arch == "qwen2") per_block.insert(per_block.end(), {"attn_q.bias", "attn_k.bias", "attn_v.bias"});
    if (c.gguf_arch == "qwen3") per_block.insert(per_block.end(), {"attn_q_norm.weight", "attn_k_norm.weight"});
    for (int64_t l = 0; l < c.n_layer; ++l)
        for (const auto& n : per_block) required.push_back("blk." + std::to_string(l) + "." + n);
    for (const auto& n : required)
        if (!names.count(n))
            return make_error("the checkpoint has no weights for " + n +
                              (n == "output.weight" ? " (lm_head.weight; config.json says the embeddings are not tied)" : ""));
    std::sort(sources.begin(), sources.end(),
              [](const Source& a, const Source& b) { return file_order(a.plan.name) < file_order(b.plan.name); });
    return sources;
}

// Runs fn(begin_row, end_row) over `rows` on the pool; the first error wins.
Result<void> for_rows(ThreadPool& pool, int64_t rows, const std::function<Result<void>(int64_t, int64_t)>& fn) {
    std::mutex mutex;
    std::optional<Error> failed;
    pool.run([&](int thread, int n_threads) {
        int64_t begin = 0, end = 0;
        ThreadPool::chunk(rows, thread, n_threads, begin, end);
        if (begin >= end) return;
        if (auto ok = fn(begin, end); !ok) {
            std::lock_guard lock(mutex);
            if (!failed) failed = ok.error();
        }
    });
    if (failed) return *failed;
    return {};
}

// The source row of output row `row` of a RoPE-permuted projection (see permute_rope_rows).
int64_t permuted_source_row(int64_t row, int64_t rows, int64_t heads) {
    const int64_t head_dim = rows / heads, half = head_dim / 2;
    const int64_t h = row / head_dim, j = (row % head_dim) / 2, k = row % 2;
    return h * head_dim + k * half + j;
}

// Makes one tensor's GGUF bytes when the writer asks. Each thread takes a band of rows
// and converts it a few rows at a time (source to float to the output type), so memory
// holds the output and small buffers, not a float copy of the tensor; source pages leave
// memory as their rows are done.
gguf::GgufWriter::Producer make_producer(const SafetensorsModel& model, const Source& s, GgmlType type, ThreadPool& pool) {
    return [&model, &pool, view = s.view, plan = s.plan, type]() -> Result<std::vector<uint8_t>> {
        auto from = source_type(*view);
        if (!from) return from.error();
        const auto& in_traits = gguf::type_traits(*from);
        const auto& out_traits = gguf::type_traits(type);
        if (plan.shape.size() == 1) {  // norms and biases: small, and a bias may be permuted as a whole
            std::vector<float> values(static_cast<size_t>(view->elements()));
            if (auto ok = tensor::dequantize_row(*from, view->bytes.data(), values.data(), view->elements()); !ok) return ok.error();
            if (plan.permute_heads > 0) values = permute_rope_rows(values, plan.permute_heads, 1);
            std::vector<uint8_t> out(out_traits.type_size * values.size() / static_cast<size_t>(out_traits.block_size));
            if (auto ok = tensor::quantize_row(type, values.data(), out.data(), view->elements()); !ok) return ok.error();
            return out;
        }
        const int64_t row_len = plan.shape[0];
        const int64_t rows = view->elements() / row_len;
        const size_t in_row = in_traits.type_size * static_cast<size_t>(row_len) / static_cast<size_t>(in_traits.block_size);
        const size_t out_row = out_traits.type_size * static_cast<size_t>(row_len) / static_cast<size_t>(out_traits.block_size);
        std::vector<uint8_t> out(out_row * static_cast<size_t>(rows));
        const int64_t step = std::max<int64_t>(1, 65536 / row_len);  // rows per pass: a few hundred KiB of floats
        auto done = for_rows(pool, rows, [&](int64_t begin, int64_t end) -> Result<void> {
            std::vector<float> buffer(static_cast<size_t>(step * row_len));
            size_t released_to = static_cast<size_t>(begin) * in_row;
            for (int64_t r = begin; r < end; r += step) {
                const int64_t n = std::min(step, end - r);
                for (int64_t i = 0; i < n; ++i) {
                    const int64_t src = plan.permute_heads > 0 ? permuted_source_row(r + i, rows, plan.permute_heads) : r + i;
                    if (auto ok = tensor::dequantize_row(*from, view->bytes.data() + static_cast<size_t>(src) * in_row,
                                                         buffer.data() + i * row_len, row_len);
                        !ok)
                        return ok;
                }
                if (auto ok = tensor::quantize_row(type, buffer.data(), out.data() + static_cast<size_t>(r) * out_row, n * row_len); !ok)
                    return ok;
                // Rows this thread alone reads, done with (a permutation reads across passes:
                // released below).
                if (plan.permute_heads == 0) {
                    const size_t done_to = static_cast<size_t>(r + n) * in_row;
                    model.release(*view, view->bytes.subspan(released_to, done_to - released_to));
                    // The page the pass ended in goes with the next pass.
                    const auto base = reinterpret_cast<uintptr_t>(view->bytes.data());
                    const uintptr_t page = (base + done_to) & ~uintptr_t{4095};
                    if (page > base + released_to) released_to = static_cast<size_t>(page - base);
                }
            }
            return {};
        });
        if (!done) return done.error();
        model.release(*view, view->bytes);
        return out;
    };
}

// 1-D tensors stay F32; rows that do not fill whole blocks of a quantized type fall back
// to F16, as llama.cpp's converter does.
GgmlType tensor_type(const TensorPlan& plan, GgmlType matrix) {
    if (plan.shape.size() == 1) return GgmlType::F32;
    if (plan.shape[0] % gguf::type_traits(matrix).block_size != 0) return GgmlType::F16;
    return matrix;
}

}  // namespace

Result<ConvertSummary> convert_hf_model(const ConvertOptions& o) {
    const fs::path dir(o.input_dir);
    auto config_text = read_text_file((dir / "config.json").string());
    if (!config_text) return make_error("no config.json in " + o.input_dir + ": " + config_text.error().message);
    auto config = parse_hf_config(*config_text);
    if (!config) return config.error();
    auto model = SafetensorsModel::open(o.input_dir);
    if (!model) return model.error();
    auto type = matrix_type(o.type, *model);
    if (!type) return type.error();
    auto vocab = read_vocab(dir, *config, o.pre);
    if (!vocab) return vocab.error();
    auto sources = plan_all(*model, *config);
    if (!sources) return sources.error();

    gguf::GgufWriter writer;
    std::string name = o.name;
    if (name.empty()) name = fs::path(o.input_dir).lexically_normal().filename().string();
    if (name.empty() || name == ".") name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
    add_hyper_params(writer.metadata(), *config, name, *type);
    vocab->write_gguf_metadata(writer);
    add_chat_templates(dir, writer.metadata());

    ThreadPool pool(o.threads > 0 ? o.threads : ThreadPool::default_threads());
    ConvertSummary summary;
    for (const Source& s : *sources) {
        const GgmlType t = tensor_type(s.plan, *type);
        if (auto ok = writer.add_tensor(s.plan.name, s.plan.shape, t, make_producer(*model, s, t, pool)); !ok)
            return ok.error();
        summary.parameters += static_cast<uint64_t>(s.view->elements());
    }
    if (config->llama3_rope) {
        const auto& r = *config->llama3_rope;
        const auto factors = llm::llama3_rope_freq_factors(config->head_dim, config->rope_theta, r.factor, r.low_freq_factor,
                                                           r.high_freq_factor, r.original_context);
        std::vector<uint8_t> bytes(factors.size() * sizeof(float));
        std::memcpy(bytes.data(), factors.data(), bytes.size());
        const std::vector<int64_t> shape = {static_cast<int64_t>(factors.size())};
        if (auto ok = writer.add_tensor("rope_freqs.weight", shape, GgmlType::F32, std::move(bytes)); !ok) return ok.error();
    }
    if (auto ok = writer.write(o.output_path, o.progress); !ok) return ok.error();
    summary.hf_class = config->hf_class;
    summary.gguf_arch = config->gguf_arch;
    summary.type = gguf::type_name(*type);
    summary.pre = vocab->pre;
    summary.tensors = sources->size() + (config->llama3_rope ? 1 : 0);
    summary.vocab = config->n_vocab;
    return summary;
}

}  // namespace hearth::convert
