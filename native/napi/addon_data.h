// Per-environment state (one per main thread or worker thread that loads the addon). No static
// globals here: process-wide CUDA/TensorRT state lives in native/cuda and native/trt on purpose.
#pragma once

#include <napi.h>

namespace trt_node::napi {

class CompletionEnvironment;
class OwnThreads;

struct AddonData {
  // lib/errors.ts hands us its factory at load time so that native code creates the same error
  // classes TypeScript does (TensorRTNodeError and friends).
  Napi::FunctionReference errorFactory;
  // Delivery of async completions (napi/completion.h); created on first use, owned and deleted by
  // its environment cleanup hook, which resets this pointer.
  CompletionEnvironment* completions = nullptr;
  // Threads of napi/thread_promise.h (engine builds and loads); owned and deleted by their cleanup hook.
  OwnThreads* ownThreads = nullptr;

  // Constructors of native wrap classes, per environment (worker threads get their own).
  Napi::FunctionReference engineWrapConstructor;
  Napi::FunctionReference contextWrapConstructor;

  static AddonData& Get(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};

}  // namespace trt_node::napi
