// CUDA device discovery and a first kernel. The runtime is linked statically, so a
// CUDA build starts on machines without the toolkit; without a driver the first
// runtime call fails (e.g. error 35, insufficient driver) and we report no GPU.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/gpu_devices.h"
#include "tensor/quant_blocks.h"

namespace hearth::kernels {
namespace {

std::string& last_reason() {
    static std::string reason;
    return reason;
}

std::string describe(cudaError_t e) {
    return std::string(cudaGetErrorName(e)) + " (" + std::to_string(static_cast<int>(e)) + "): " +
           cudaGetErrorString(e);
}

__global__ void dequantize_q8_0_kernel(const tensor::BlockQ8_0* blocks, float* out, int64_t n) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const tensor::BlockQ8_0& b = blocks[i / tensor::kQK];
    const float d = __half2float(__ushort_as_half(b.d));
    out[i] = d * static_cast<float>(b.qs[i % tensor::kQK]);
}

}  // namespace

bool cuda_compiled() { return true; }

std::vector<GpuDevice> gpu_devices() {
    std::vector<GpuDevice> devices;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        last_reason() = "no usable CUDA driver: " + describe(e);
        return devices;
    }
    if (count == 0) {
        last_reason() = "no CUDA device found";
        return devices;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        devices.push_back({i, prop.name, prop.major, prop.minor, static_cast<uint64_t>(prop.totalGlobalMem)});
    }
    last_reason() = devices.empty() ? "CUDA devices could not be queried" : "";
    return devices;
}

std::string gpu_unavailable_reason() {
    gpu_devices();
    return last_reason();
}

Result<std::vector<float>> cuda_dequantize_q8_0(std::span<const uint8_t> blocks, int64_t n) {
    if (gpu_devices().empty()) return make_error(last_reason());
    if (n < 0 || n % tensor::kQK != 0 ||
        blocks.size() != static_cast<size_t>(n / tensor::kQK) * sizeof(tensor::BlockQ8_0))
        return make_error("Q8_0 buffer does not match the element count");
    std::vector<float> out(static_cast<size_t>(n));
    void* d_in = nullptr;
    void* d_out = nullptr;
    auto fail = [&](cudaError_t e) -> Result<std::vector<float>> {
        cudaFree(d_in);
        cudaFree(d_out);
        return make_error("CUDA dequantize failed: " + describe(e));
    };
    cudaError_t e;
    if ((e = cudaMalloc(&d_in, blocks.size())) != cudaSuccess) return fail(e);
    if ((e = cudaMalloc(&d_out, out.size() * sizeof(float))) != cudaSuccess) return fail(e);
    if ((e = cudaMemcpy(d_in, blocks.data(), blocks.size(), cudaMemcpyHostToDevice)) != cudaSuccess) return fail(e);
    if (n > 0) {
        const int threads = 256;
        const auto grid = static_cast<unsigned>((n + threads - 1) / threads);
        dequantize_q8_0_kernel<<<grid, threads>>>(static_cast<const tensor::BlockQ8_0*>(d_in),
                                                  static_cast<float*>(d_out), n);
        if ((e = cudaGetLastError()) != cudaSuccess) return fail(e);
    }
    if ((e = cudaMemcpy(out.data(), d_out, out.size() * sizeof(float), cudaMemcpyDeviceToHost)) != cudaSuccess)
        return fail(e);
    cudaFree(d_in);
    cudaFree(d_out);
    return out;
}

}  // namespace hearth::kernels
