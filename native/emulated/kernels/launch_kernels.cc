// The kernels of native/kernels/ for the emulated device: the same per-element functions
// (kernels/elementwise.h) run over the whole grid on the stream's worker thread, with every memory
// range declared so the worker can check it when the kernel runs. EMULATION, NOT A GPU.
#include <cstddef>
#include <cstdint>

#include "cuda/cuda_error.h"
#include "emulated/cuda/hooks.h"
#include "kernels/elementwise.h"
#include "kernels/image_preprocess.h"

namespace trt_node::kernels {
namespace {

template <typename Out>
void ImagePreprocessGrid(const void* raw) {
  const auto& params = *static_cast<const ImagePreprocessParams*>(raw);
  const int64_t pixels = params.batch * params.height * params.width;
  for (int64_t pixel = 0; pixel < pixels; ++pixel) PreprocessPixel<Out>(params, pixel);
}

struct ConvertParams {
  const void* src;
  void* dst;
  size_t count;
};

void Float32ToFloat16Grid(const void* raw) {
  const auto& params = *static_cast<const ConvertParams*>(raw);
  const auto* src = static_cast<const float*>(params.src);
  auto* dst = static_cast<uint16_t*>(params.dst);
  for (size_t i = 0; i < params.count; ++i) dst[i] = Float32ToFloat16Bits(src[i]);
}

void Float16ToFloat32Grid(const void* raw) {
  const auto& params = *static_cast<const ConvertParams*>(raw);
  const auto* src = static_cast<const uint16_t*>(params.src);
  auto* dst = static_cast<float*>(params.dst);
  for (size_t i = 0; i < params.count; ++i) dst[i] = Float16BitsToFloat32(src[i]);
}

}  // namespace

void LaunchImagePreprocess(const ImagePreprocessParams& params, cudaStream_t stream) {
  const size_t pixels = static_cast<size_t>(params.batch * params.height * params.width);
  if (pixels == 0) return;
  const bool half = params.outputType == ElementType::kFloat16;
  const TrtnodeEmulatedAccess accesses[] = {
      {params.src, pixels * static_cast<size_t>(params.srcChannels), 0},
      {params.dst, pixels * 3 * (half ? sizeof(uint16_t) : sizeof(float)), 1},
  };
  cuda::CudaCheck(trtnodeEmulatedLaunchKernel(stream, "ImagePreprocessKernel",
                                              half ? &ImagePreprocessGrid<uint16_t> : &ImagePreprocessGrid<float>,
                                              &params, sizeof(params), accesses, 2),
                  "Launching the image preprocessing kernel");
}

void LaunchFloat32ToFloat16(const float* src, uint16_t* dst, size_t count, cudaStream_t stream) {
  if (count == 0) return;
  const ConvertParams params{src, dst, count};
  const TrtnodeEmulatedAccess accesses[] = {{src, count * sizeof(float), 0}, {dst, count * sizeof(uint16_t), 1}};
  cuda::CudaCheck(trtnodeEmulatedLaunchKernel(stream, "Float32ToFloat16Kernel", &Float32ToFloat16Grid, &params,
                                              sizeof(params), accesses, 2),
                  "Launching the float32 to float16 kernel");
}

void LaunchFloat16ToFloat32(const uint16_t* src, float* dst, size_t count, cudaStream_t stream) {
  if (count == 0) return;
  const ConvertParams params{src, dst, count};
  const TrtnodeEmulatedAccess accesses[] = {{src, count * sizeof(uint16_t), 0}, {dst, count * sizeof(float), 1}};
  cuda::CudaCheck(trtnodeEmulatedLaunchKernel(stream, "Float16ToFloat32Kernel", &Float16ToFloat32Grid, &params,
                                              sizeof(params), accesses, 2),
                  "Launching the float16 to float32 kernel");
}

}  // namespace trt_node::kernels
