#include <cuda_fp16.h>

#include <algorithm>

#include "cuda/cuda_error.h"
#include "kernels/image_preprocess.h"

namespace trt_node::kernels {
namespace {

constexpr int kThreadsPerBlock = 256;

// Enough blocks to fill any current GPU; the grid-stride loops cover larger inputs.
unsigned BlocksFor(size_t items) {
  const size_t blocks = (items + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return static_cast<unsigned>(std::clamp<size_t>(blocks, 1, 65535u * 32u));
}

template <typename Out>
__device__ inline Out Store(float value);
template <>
__device__ inline float Store<float>(float value) {
  return value;
}
template <>
__device__ inline __half Store<__half>(float value) {
  return __float2half_rn(value);
}

template <typename Out>
__global__ void ImagePreprocessKernel(ImagePreprocessParams params) {
  const int64_t planeSize = params.height * params.width;
  const int64_t pixels = params.batch * planeSize;
  Out* dst = static_cast<Out*>(params.dst);
  for (int64_t pixel = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; pixel < pixels;
       pixel += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t image = pixel / planeSize;
    const int64_t offset = pixel - image * planeSize;
    const uint8_t* in = params.src + pixel * params.srcChannels;
    Out* out = dst + image * 3 * planeSize + offset;
#pragma unroll
    for (int c = 0; c < 3; ++c) {
      out[c * planeSize] =
          Store<Out>(fmaf(static_cast<float>(in[params.channelMap[c]]), params.alpha[c], params.beta[c]));
    }
  }
}

__global__ void Float32ToFloat16Kernel(const float* src, __half* dst, size_t count) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    dst[i] = __float2half_rn(src[i]);
  }
}

__global__ void Float16ToFloat32Kernel(const __half* src, float* dst, size_t count) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    dst[i] = __half2float(src[i]);
  }
}

}  // namespace

void LaunchImagePreprocess(const ImagePreprocessParams& params, cudaStream_t stream) {
  const size_t pixels = static_cast<size_t>(params.batch * params.height * params.width);
  if (pixels == 0) return;
  if (params.outputType == ElementType::kFloat16) {
    ImagePreprocessKernel<__half><<<BlocksFor(pixels), kThreadsPerBlock, 0, stream>>>(params);
  } else {
    ImagePreprocessKernel<float><<<BlocksFor(pixels), kThreadsPerBlock, 0, stream>>>(params);
  }
  cuda::CudaCheck(cudaGetLastError(), "Launching the image preprocessing kernel");
}

void LaunchFloat32ToFloat16(const float* src, uint16_t* dst, size_t count, cudaStream_t stream) {
  if (count == 0) return;
  Float32ToFloat16Kernel<<<BlocksFor(count), kThreadsPerBlock, 0, stream>>>(src, reinterpret_cast<__half*>(dst), count);
  cuda::CudaCheck(cudaGetLastError(), "Launching the float32 to float16 kernel");
}

void LaunchFloat16ToFloat32(const uint16_t* src, float* dst, size_t count, cudaStream_t stream) {
  if (count == 0) return;
  Float16ToFloat32Kernel<<<BlocksFor(count), kThreadsPerBlock, 0, stream>>>(reinterpret_cast<const __half*>(src), dst,
                                                                            count);
  cuda::CudaCheck(cudaGetLastError(), "Launching the float16 to float32 kernel");
}

}  // namespace trt_node::kernels
