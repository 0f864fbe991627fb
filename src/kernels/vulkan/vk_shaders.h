#pragma once

// The SPIR-V of every shader variant, compiled by glslc at build time and embedded by
// embed_spirv.cmake (the generated vk_shaders_embedded.cpp defines this).

#include <cstdint>
#include <span>
#include <string_view>

namespace hearth::kernels::vk {

// Empty when no variant has that name ("matmul_vec_q4_k", "attention_f16", ...).
std::span<const uint32_t> shader_spirv(std::string_view name);

}  // namespace hearth::kernels::vk
