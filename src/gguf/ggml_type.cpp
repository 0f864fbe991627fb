#include "gguf/ggml_type.h"

#include <array>
#include <cctype>
#include <limits>

namespace hearth::gguf {
namespace {

// Block layouts of the GGUF format (sizes in bytes of one block).
constexpr std::array kTraits = {
    TypeTraits{GgmlType::F32, "F32", 1, 4, false},
    TypeTraits{GgmlType::F16, "F16", 1, 2, false},
    TypeTraits{GgmlType::Q4_0, "Q4_0", 32, 18, true},
    TypeTraits{GgmlType::Q4_1, "Q4_1", 32, 20, true},
    TypeTraits{GgmlType::Q5_0, "Q5_0", 32, 22, true},
    TypeTraits{GgmlType::Q5_1, "Q5_1", 32, 24, true},
    TypeTraits{GgmlType::Q8_0, "Q8_0", 32, 34, true},
    TypeTraits{GgmlType::Q8_1, "Q8_1", 32, 36, true},
    TypeTraits{GgmlType::Q2_K, "Q2_K", 256, 84, true},
    TypeTraits{GgmlType::Q3_K, "Q3_K", 256, 110, true},
    TypeTraits{GgmlType::Q4_K, "Q4_K", 256, 144, true},
    TypeTraits{GgmlType::Q5_K, "Q5_K", 256, 176, true},
    TypeTraits{GgmlType::Q6_K, "Q6_K", 256, 210, true},
    TypeTraits{GgmlType::Q8_K, "Q8_K", 256, 292, true},
    TypeTraits{GgmlType::IQ2_XXS, "IQ2_XXS", 256, 66, true},
    TypeTraits{GgmlType::IQ2_XS, "IQ2_XS", 256, 74, true},
    TypeTraits{GgmlType::IQ3_XXS, "IQ3_XXS", 256, 98, true},
    TypeTraits{GgmlType::IQ1_S, "IQ1_S", 256, 50, true},
    TypeTraits{GgmlType::IQ4_NL, "IQ4_NL", 32, 18, true},
    TypeTraits{GgmlType::IQ3_S, "IQ3_S", 256, 110, true},
    TypeTraits{GgmlType::IQ2_S, "IQ2_S", 256, 82, true},
    TypeTraits{GgmlType::IQ4_XS, "IQ4_XS", 256, 136, true},
    TypeTraits{GgmlType::I8, "I8", 1, 1, false},
    TypeTraits{GgmlType::I16, "I16", 1, 2, false},
    TypeTraits{GgmlType::I32, "I32", 1, 4, false},
    TypeTraits{GgmlType::I64, "I64", 1, 8, false},
    TypeTraits{GgmlType::F64, "F64", 1, 8, false},
    TypeTraits{GgmlType::IQ1_M, "IQ1_M", 256, 56, true},
    TypeTraits{GgmlType::BF16, "BF16", 1, 2, false},
    TypeTraits{GgmlType::TQ1_0, "TQ1_0", 256, 54, true},
    TypeTraits{GgmlType::TQ2_0, "TQ2_0", 256, 66, true},
    TypeTraits{GgmlType::MXFP4, "MXFP4", 32, 17, true},
};

}  // namespace

const TypeTraits* type_traits(uint32_t id) {
    for (const auto& t : kTraits) {
        if (static_cast<uint32_t>(t.type) == id) return &t;
    }
    return nullptr;
}

const TypeTraits& type_traits(GgmlType type) {
    const TypeTraits* t = type_traits(static_cast<uint32_t>(type));
    if (t == nullptr) return kTraits[0];  // unreachable for enum values declared above
    return *t;
}

std::string_view type_name(GgmlType type) { return type_traits(type).name; }

std::optional<GgmlType> type_from_name(std::string_view name) {
    for (const auto& t : kTraits) {
        if (t.name.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < name.size(); ++i) {
            if (std::toupper(static_cast<unsigned char>(name[i])) != t.name[i]) {
                same = false;
                break;
            }
        }
        if (same) return t.type;
    }
    return std::nullopt;
}

std::optional<uint64_t> checked_row_bytes(GgmlType type, uint64_t n_elements) {
    const TypeTraits& t = type_traits(type);
    const auto bs = static_cast<uint64_t>(t.block_size);
    if (n_elements % bs != 0) return std::nullopt;
    const uint64_t blocks = n_elements / bs;
    if (blocks > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(t.type_size)) return std::nullopt;
    return blocks * static_cast<uint64_t>(t.type_size);
}

}  // namespace hearth::gguf
