#pragma once

#include <napi.h>

#include <memory>

#include "core/serial_thread.h"
#include "trt/engine.h"

namespace trt_node::napi {

// The native side of Engine (lib/engine.ts). Created only by loadEngine(); holds the engine through
// a shared_ptr so that execution contexts can keep it alive after dispose().
class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  static Napi::Object New(Napi::Env env, std::shared_ptr<trt::Engine> engine);
  explicit EngineWrap(const Napi::CallbackInfo& info);
  ~EngineWrap() override;

  // The engine, or ERR_DISPOSED.
  std::shared_ptr<trt::Engine> engine(Napi::Env env) const;

 private:
  Napi::Value Metadata(const Napi::CallbackInfo& info);
  Napi::Value LayerInformation(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  // Drops this wrap's reference off the JS thread: when it is the last one, destroying the engine
  // (and its runtime) frees device memory and may wait for the device.
  void Release();

  std::shared_ptr<trt::Engine> engine_;
  std::weak_ptr<SerialThread> releaser_;
};

}  // namespace trt_node::napi
