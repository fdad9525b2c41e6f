// ContextWrap: the native side of ExecutionContext (lib/execution-context.ts). Each context owns a
// CUDA stream with its own submit and completion threads (napi/cuda_submit.h); every run, the
// creation itself and dispose() are jobs on that stream, so they run in call order, never
// interleaved, and settle their promises off the event loop.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "core/serial_thread.h"
#include "cuda/staging_pool.h"
#include "cuda/stream_executor.h"
#include "trt/execution_context.h"

namespace trt_node::napi {

// Shared by the wrap and every job of the context; destroyed on the releaser thread once the last
// job let go of it (the IExecutionContext, its graphs and buffers go with it).
struct ContextState {
  uint64_t logTarget = 0;  // tags TensorRT's messages logged while this context works
  int device = 0;
  int profile = 0;
  std::shared_ptr<trt::Engine> engine;             // kept alive for as long as the context lives
  std::vector<trt::IoTensor> tensors;              // set by the creation job, immutable after it
  std::shared_ptr<cuda::StagingPool> staging;      // pinned host memory of runs from and to JS arrays
  std::unique_ptr<trt::ExecutionContext> context;  // created by the stream's first job, destroyed by its last
  std::atomic<bool> disposing{false};              // queued runs that have not started are rejected
};

class ContextWrap final : public Napi::ObjectWrap<ContextWrap> {
 public:
  // createExecutionContext(engineWrap, { profile, cudaGraph }) -> Promise<ContextWrap>
  static void Register(Napi::Env env, Napi::Object exports);
  static Napi::Object New(Napi::Env env, std::shared_ptr<ContextState> state,
                          std::shared_ptr<cuda::StreamExecutor> executor);
  explicit ContextWrap(const Napi::CallbackInfo& info);
  ~ContextWrap() override;

 private:
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value ProfileLayers(const Napi::CallbackInfo& info);
  Napi::Value CudaGraphStatus(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetProfile(const Napi::CallbackInfo& info);
  Napi::Value GetLogTarget(const Napi::CallbackInfo& info);
  Napi::Value GetInFlight(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);

  std::shared_ptr<ContextState> Live() const;
  // Stops intake; `releaseSubmitted`: dispose() already queued the job that destroys the context.
  void Retire(bool releaseSubmitted);

  std::shared_ptr<ContextState> state_;             // null once disposed
  std::shared_ptr<cuda::StreamExecutor> executor_;  // null once disposed
  int device_ = 0;
  int profile_ = 0;
  uint64_t logTarget_ = 0;
};

}  // namespace trt_node::napi
