// hearth/gguf — the GGUF file format: the ggml tensor type table, metadata values,
// a validating reader over a memory mapping (v2 and v3) and a writer. It knows the
// container, not what the tensors mean: architectures live in llm/, quantized
// arithmetic in tensor/ and kernels/.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hearth::gguf {

// Tensor element types, numbered as in ggml (the ids are stored in files).
enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
};

// One row of the type-traits table: how many elements share a block and how many
// bytes a block takes. Every size computation in hearth goes through this table.
struct TypeTraits {
    GgmlType type;
    std::string_view name;
    int64_t block_size;  // elements per block
    int64_t type_size;   // bytes per block
    bool quantized;
};

// nullptr for ids that no ggml version defines (including retired ids 4, 5, 31-33, 36-38).
const TypeTraits* type_traits(uint32_t id);
const TypeTraits& type_traits(GgmlType type);
std::string_view type_name(GgmlType type);
std::optional<GgmlType> type_from_name(std::string_view name);  // case-insensitive, "q4_k" -> Q4_K

// Bytes taken by n elements of a type; nullopt when n is not a multiple of the
// block size or the product overflows.
std::optional<uint64_t> checked_row_bytes(GgmlType type, uint64_t n_elements);

}  // namespace hearth::gguf
