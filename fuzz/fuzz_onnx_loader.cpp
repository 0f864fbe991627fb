// libFuzzer target: arbitrary bytes through the ONNX loader and planner (which constant-folds
// initializer-only nodes, so kernels run on fuzzed data too). A model that loads is then run
// once on zero inputs of its declared shapes (dynamic dims as 1). Errors must carry a message.
// Tensors are held to 2^22 elements (32 MB of int64) instead of the built-in 2^30, and a load
// or run to 2^26 multiply-adds and element writes: the same checks run, and a model that
// legitimately works at the limits stays within the fuzzer's -rss_limit_mb and -timeout.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "onnx/onnx_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    hearth::onnx::SessionOptions options;
    options.n_threads = 1;
    options.max_tensor_elements = int64_t{1} << 22;
    options.max_work = int64_t{1} << 26;
    auto session = hearth::onnx::Session::load_bytes(std::span<const uint8_t>(data, size), options);
    if (!session) {
        if (session.error().message.empty()) std::abort();
        return 0;
    }
    std::vector<std::pair<std::string, hearth::onnx::Tensor>> inputs;
    for (const auto& in : (*session)->inputs()) {
        std::vector<int64_t> shape;
        int64_t n = 1;
        for (int64_t d : in.shape) {
            shape.push_back(d < 0 ? 1 : d);
            n *= shape.back();
            if (n > (int64_t{1} << 20)) return 0;  // keep runs small
        }
        inputs.emplace_back(in.name, hearth::onnx::Tensor::zeros(in.dtype, shape));
    }
    auto out = (*session)->run(inputs);
    if (!out) {
        if (out.error().message.empty()) std::abort();
        return 0;
    }
    if (out->size() != (*session)->outputs().size()) std::abort();
    for (const auto& t : *out)
        if (t.bytes.size() != static_cast<size_t>(t.numel()) * hearth::onnx::data_type_size(t.dtype)) std::abort();
    return 0;
}
