#pragma once

#include <napi.h>

namespace trt_node::napi {

// buildInfo(), tensorrtProbe(): what this binary contains and whether TensorRT can be loaded.
void RegisterCapabilities(Napi::Env env, Napi::Object exports);

#if TRT_NODE_WITH_CUDA
// cudaProbe(): runtime/driver versions, device count (or the exact CUDA error), device summaries.
void RegisterCudaProbe(Napi::Env env, Napi::Object exports);
#endif

}  // namespace trt_node::napi
