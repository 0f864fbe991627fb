// A VITS-shaped ONNX model with random weights, built like piper's export (opset 15): text
// encoder with relative-position attention and channel LayerNorms, a noisy log-duration
// predictor, length regulation (CumSum/Range/Less), affine coupling flows with gated WaveNet
// layers, and a HiFi-GAN decoder (ConvTranspose upsampling, dilated residual convs).
// The test voice in shared/ is a tiny stub; this model has the real graph's shape and cost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hearth::test {

struct VitsSizes {
    int64_t n_symbols = 256;
    int64_t hidden = 192;        // encoder and flow channels
    int64_t filter = 768;        // encoder FFN channels
    int64_t heads = 2;
    int64_t layers = 6;          // encoder layers
    int64_t window = 4;          // relative attention window
    int64_t flows = 4;
    int64_t wn_layers = 4;
    int64_t dec_channels = 512;  // decoder initial channels, halved per upsample
    std::vector<int64_t> upsample_rates{8, 8, 2, 2};
    std::vector<int64_t> upsample_kernels{16, 16, 4, 4};
    std::vector<int64_t> res_kernels{3, 5, 7};
    std::vector<std::vector<int64_t>> res_dilations{{1, 2}, {2, 6}, {3, 12}};
};

// Serialized ModelProto with inputs input[1,T] int64, input_lengths[1] int64, scales[3] float
// (noise_scale, length_scale, noise_w) and output [1, 1, samples].
std::string build_vits_model(const VitsSizes& sizes, uint32_t seed);

// Samples per phoneme-frame (product of the upsample rates).
int64_t vits_hop(const VitsSizes& sizes);

}  // namespace hearth::test
