// GPU preprocessing: uint8 HWC/NHWC images (RGB, BGR, RGBA, BGRA) to float32 or float16 NCHW with
// per-channel normalization, the common front of every vision model. The math is exactly
//   out[n][c][y][x] = fmaf(in[n][y][x][channelMap[c]], alpha[c], beta[c])
// with alpha = scale / std and beta = -mean / std precomputed as float32 by the caller, and float16
// outputs rounded to nearest even from that float32 value. lib/preprocess.ts computes the same
// thing on the CPU (bit-exact: x * alpha is exact in a double, so one rounding matches fmaf), and
// the GPU tests compare the two.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trt_node::kernels {

enum class ElementType { kFloat32, kFloat16 };

struct ImagePreprocessParams {
  const uint8_t* src = nullptr;  // [batch, height, width, srcChannels], device or mapped pinned memory
  void* dst = nullptr;           // [batch, 3, height, width] of `outputType`
  int64_t batch = 0;
  int64_t height = 0;
  int64_t width = 0;
  int srcChannels = 3;            // 3 or 4 (the fourth, alpha, is ignored)
  int channelMap[3] = {0, 1, 2};  // output plane c reads source channel channelMap[c]
  float alpha[3] = {1, 1, 1};
  float beta[3] = {0, 0, 0};
  ElementType outputType = ElementType::kFloat32;
};

// Launches on `stream`; throws NativeError when the launch fails. Work is asynchronous.
void LaunchImagePreprocess(const ImagePreprocessParams& params, cudaStream_t stream);

// float32 <-> float16 (IEEE binary16 bits), round to nearest even, over `count` elements.
void LaunchFloat32ToFloat16(const float* src, uint16_t* dst, size_t count, cudaStream_t stream);
void LaunchFloat16ToFloat32(const uint16_t* src, float* dst, size_t count, cudaStream_t stream);

}  // namespace trt_node::kernels
