#include "cuda/image_ops.h"

namespace trt_node::cuda {

void PreprocessImageAsync(const ImagePreprocessParams& params, cudaStream_t stream) {
  kernels::LaunchImagePreprocess(params, stream);
}

void ConvertFloat32ToFloat16Async(const float* src, uint16_t* dst, size_t count, cudaStream_t stream) {
  kernels::LaunchFloat32ToFloat16(src, dst, count, stream);
}

void ConvertFloat16ToFloat32Async(const uint16_t* src, float* dst, size_t count, cudaStream_t stream) {
  kernels::LaunchFloat16ToFloat32(src, dst, count, stream);
}

}  // namespace trt_node::cuda
