#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "gguf/gguf_file.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/wpm_tokenizer.h"

namespace hearth::tokenizer {

Result<Tokenizer> Tokenizer::from_vocab(Vocab vocab) {
    auto impl = std::make_shared<Impl>();
    impl->vocab = std::move(vocab);
    if (impl->vocab.token_to_id.size() == 0) {
        if (auto r = impl->vocab.finalize(); !r) return r.error();
    }
    if (impl->vocab.type == VocabType::Bpe) {
        auto bpe = BpeTokenizer::create(impl->vocab);
        if (!bpe) return bpe.error();
        impl->bpe.emplace(std::move(*bpe));
    }
    impl->specials = SpecialTokenSplitter(impl->vocab);
    Tokenizer t;
    t.impl_ = std::move(impl);
    return t;
}

Result<Tokenizer> Tokenizer::from_gguf(const gguf::Metadata& metadata) {
    auto vocab = Vocab::from_gguf(metadata);
    if (!vocab) return vocab.error();
    return from_vocab(std::move(*vocab));
}

Result<Tokenizer> Tokenizer::from_gguf_file(const std::string& path) {
    auto file = gguf::GgufFile::open(path);
    if (!file) return make_error(path + ": " + file.error().message);
    auto t = from_gguf(file->metadata());
    if (!t) return make_error(path + ": " + t.error().message);
    return t;
}

Result<Tokenizer> Tokenizer::from_hf_tokenizer_json(const std::string& path) {
    auto vocab = load_hf_tokenizer_json(path);
    if (!vocab) return vocab.error();
    return from_vocab(std::move(*vocab));
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    const Vocab& v = impl_->vocab;
    std::vector<TokenId> out;
    out.reserve(text.size() / 3 + 4);
    if (add_special && v.add_bos && v.bos != kNoToken) out.push_back(v.bos);
    const std::vector<Fragment> fragments = impl_->specials.split(v, text, parse_special);
    bool prev_special = true;  // SentencePiece: a space prefix goes at the start and after special tokens
    for (const Fragment& f : fragments) {
        if (f.is_token()) {
            out.push_back(f.token);
            prev_special = true;
            continue;
        }
        switch (v.type) {
            case VocabType::Spm:
                SpmTokenizer::encode(v, f.text, v.add_space_prefix && prev_special, out);
                break;
            case VocabType::Bpe:
                impl_->bpe->encode(v, f.text, out);
                break;
            case VocabType::Wpm:
                WpmTokenizer::encode(v, f.text, out);
                break;
        }
        prev_special = false;
    }
    if (add_special && v.type == VocabType::Wpm && v.add_sep && v.sep != kNoToken) out.push_back(v.sep);
    if (add_special && v.add_eos && v.eos != kNoToken) out.push_back(v.eos);
    return out;
}

size_t Tokenizer::n_vocab() const { return impl_->vocab.size(); }
TokenId Tokenizer::bos() const { return impl_->vocab.bos; }
TokenId Tokenizer::eos() const { return impl_->vocab.eos; }
TokenId Tokenizer::eot() const { return impl_->vocab.eot; }
TokenId Tokenizer::unk() const { return impl_->vocab.unk; }
TokenId Tokenizer::pad() const { return impl_->vocab.pad; }
bool Tokenizer::add_bos() const { return impl_->vocab.add_bos; }
bool Tokenizer::add_eos() const { return impl_->vocab.add_eos; }
VocabType Tokenizer::type() const { return impl_->vocab.type; }
const Vocab& Tokenizer::vocab() const { return impl_->vocab; }

bool Tokenizer::is_eog(TokenId id) const {
    const auto& e = impl_->vocab.eog_ids;
    return std::binary_search(e.begin(), e.end(), id);
}

bool Tokenizer::is_control(TokenId id) const { return impl_->vocab.type_of(id) == TokenType::Control; }

void Tokenizer::write_gguf_metadata(gguf::GgufWriter& writer) const { impl_->vocab.write_gguf_metadata(writer); }

}  // namespace hearth::tokenizer
