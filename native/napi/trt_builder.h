#pragma once

#include <napi.h>

namespace trt_node::napi {

// buildEngine(onnxPath, options, onProgress?) -> { promise, cancel() }
void RegisterBuilder(Napi::Env env, Napi::Object exports);

}  // namespace trt_node::napi
