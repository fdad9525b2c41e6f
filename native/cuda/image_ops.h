// The CUDA layer's kernel-backed operations: what the N-API layer (napi/cuda_stream.cc) calls to
// preprocess images and convert floats on a stream. It reaches the kernels (native/kernels) only
// through here, so the layers stay in order (napi -> cuda -> kernels).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/image_preprocess.h"

namespace trt_node::cuda {

using ImagePreprocessParams = kernels::ImagePreprocessParams;
using ImageElementType = kernels::ElementType;

// Stream-ordered; throws NativeError when the launch fails (asynchronous failures reach the stream).
void PreprocessImageAsync(const ImagePreprocessParams& params, cudaStream_t stream);
// float32 <-> float16 (IEEE binary16 bits), round to nearest even, over `count` elements.
void ConvertFloat32ToFloat16Async(const float* src, uint16_t* dst, size_t count, cudaStream_t stream);
void ConvertFloat16ToFloat32Async(const uint16_t* src, float* dst, size_t count, cudaStream_t stream);

}  // namespace trt_node::cuda
