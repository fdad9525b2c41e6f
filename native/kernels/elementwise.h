// The per-element math of the kernels, as __host__ __device__ functions: the .cu kernels run them on
// the GPU, the emulated build runs them on a stream's worker thread, and the GoogleTest suite checks
// them on the host (native/tests/kernels_*_test.cc). One definition, so what the host tests prove is
// what the GPU computes, up to the compiler: fmaf is a single correctly rounded fused multiply-add on
// both sides, and float <-> half go through cuda_fp16.h's round-to-nearest-even conversions.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>  // __host__ / __device__ for host compilers too

#include <cmath>
#include <cstdint>

#include "kernels/image_preprocess.h"

namespace trt_node::kernels {

// IEEE binary16 bits of `value`, rounded to nearest even (overflow to infinity, NaN stays NaN).
__host__ __device__ inline uint16_t Float32ToFloat16Bits(float value) {
  return __half_as_ushort(__float2half_rn(value));
}

__host__ __device__ inline float Float16BitsToFloat32(uint16_t bits) { return __half2float(__ushort_as_half(bits)); }

// value * alpha + beta with one rounding: alpha = scale / std and beta = -mean / std (see
// image_preprocess.h), so this is (value * scale - mean) / std up to the rounding of alpha and beta.
__host__ __device__ inline float NormalizeChannel(uint8_t value, float alpha, float beta) {
  return fmaf(static_cast<float>(value), alpha, beta);
}

__host__ __device__ inline void StoreElement(float* out, int64_t index, float value) { out[index] = value; }
__host__ __device__ inline void StoreElement(uint16_t* out, int64_t index, float value) {
  out[index] = Float32ToFloat16Bits(value);
}

// One source pixel (index over batch x height x width) of an interleaved uint8 image into the three
// planes of its image in the NCHW output: out[n][c][y][x] = Normalize(in[n][y][x][channelMap[c]]).
// `Out` is float (float32 output) or uint16_t (float16 bits).
template <typename Out>
__host__ __device__ inline void PreprocessPixel(const ImagePreprocessParams& params, int64_t pixel) {
  const int64_t planeSize = params.height * params.width;
  const int64_t image = pixel / planeSize;
  const int64_t offset = pixel - image * planeSize;
  const uint8_t* in = params.src + pixel * params.srcChannels;
  Out* out = static_cast<Out*>(params.dst) + image * 3 * planeSize + offset;
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
  for (int c = 0; c < 3; ++c) {
    StoreElement(out, c * planeSize, NormalizeChannel(in[params.channelMap[c]], params.alpha[c], params.beta[c]));
  }
}

}  // namespace trt_node::kernels
