// The GPU side of the kernels: grid-stride loops over the per-element functions of elementwise.h
// (the emulated build runs the same functions on the host: native/emulated/kernels/).
#include <algorithm>

#include "cuda/cuda_error.h"
#include "kernels/elementwise.h"
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
__global__ void ImagePreprocessKernel(ImagePreprocessParams params) {
  const int64_t pixels = params.batch * params.height * params.width;
  for (int64_t pixel = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; pixel < pixels;
       pixel += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    PreprocessPixel<Out>(params, pixel);
  }
}

__global__ void Float32ToFloat16Kernel(const float* src, uint16_t* dst, size_t count) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    dst[i] = Float32ToFloat16Bits(src[i]);
  }
}

__global__ void Float16ToFloat32Kernel(const uint16_t* src, float* dst, size_t count) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    dst[i] = Float16BitsToFloat32(src[i]);
  }
}

}  // namespace

void LaunchImagePreprocess(const ImagePreprocessParams& params, cudaStream_t stream) {
  const size_t pixels = static_cast<size_t>(params.batch * params.height * params.width);
  if (pixels == 0) return;
  if (params.outputType == ElementType::kFloat16) {
    ImagePreprocessKernel<uint16_t><<<BlocksFor(pixels), kThreadsPerBlock, 0, stream>>>(params);
  } else {
    ImagePreprocessKernel<float><<<BlocksFor(pixels), kThreadsPerBlock, 0, stream>>>(params);
  }
  cuda::CudaCheck(cudaGetLastError(), "Launching the image preprocessing kernel");
}

void LaunchFloat32ToFloat16(const float* src, uint16_t* dst, size_t count, cudaStream_t stream) {
  if (count == 0) return;
  Float32ToFloat16Kernel<<<BlocksFor(count), kThreadsPerBlock, 0, stream>>>(src, dst, count);
  cuda::CudaCheck(cudaGetLastError(), "Launching the float32 to float16 kernel");
}

void LaunchFloat16ToFloat32(const uint16_t* src, float* dst, size_t count, cudaStream_t stream) {
  if (count == 0) return;
  Float16ToFloat32Kernel<<<BlocksFor(count), kThreadsPerBlock, 0, stream>>>(src, dst, count);
  cuda::CudaCheck(cudaGetLastError(), "Launching the float16 to float32 kernel");
}

}  // namespace trt_node::kernels
