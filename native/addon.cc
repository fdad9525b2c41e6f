// Entry point of the tensorrt-node addon. Each part of the native surface registers its own
// functions and classes; lib/native.ts holds the one TypeScript type describing all of them.
#include <napi.h>

#include "napi/addon_data.h"
#include "napi/capabilities.h"
#include "napi/completion.h"
#include "napi/errors.h"
#if TRT_NODE_WITH_CUDA
#include "napi/cuda_wraps.h"
#endif
#if TRT_NODE_EMULATED_DEVICE
#include "napi/cuda_emulated.h"
#endif
#if TRT_NODE_WITH_TENSORRT
#include "napi/trt_builder.h"
#include "napi/trt_context.h"
#include "napi/trt_engine.h"
#include "napi/trt_logger.h"
#endif

namespace trt_node::napi {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  // Deleted by N-API when this environment (main thread or worker) is torn down.
  env.SetInstanceData(new AddonData());
  RegisterErrors(env, exports);
  RegisterCapabilities(env, exports);
  RegisterCompletionTestHooks(env, exports);
#if TRT_NODE_WITH_CUDA
  RegisterCudaProbe(env, exports);
  RegisterCuda(env, exports);
#endif
#if TRT_NODE_EMULATED_DEVICE
  RegisterEmulatedDevice(env, exports);
#endif
#if TRT_NODE_WITH_TENSORRT
  EngineWrap::Register(env, exports);
  ContextWrap::Register(env, exports);
  RegisterTensorRTLogger(env, exports);
  RegisterBuilder(env, exports);
#endif
  return exports;
}

}  // namespace trt_node::napi

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return trt_node::napi::InitAddon(env, exports); }

NODE_API_MODULE(tensorrt_node, Init)
