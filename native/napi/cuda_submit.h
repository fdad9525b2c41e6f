// How JavaScript-facing code submits GPU work and gets a promise back. The TensorRT runtime uses
// this for enqueueV3 exactly as the copies and kernels of the CUDA layer do:
//
//   std::shared_ptr<cuda::StreamExecutor> executor = StreamWrap::ExecutorOf(info[0], "options.stream");
//   return SubmitToStream(env, executor, "ExecutionContext.run",
//       [context, buffers](cudaStream_t stream) {          // submit thread, in stream order
//         if (!context->enqueueV3(stream)) throw NativeError("ERR_TENSORRT", "enqueueV3 failed");
//       },
//       [outputs](Napi::Env env) { return ToJs(env, outputs); },   // JS thread, after the GPU finished
//       {info.This(), info[1]});                            // JS objects the job reads or writes
//
// - The enqueue lambda runs on the stream's submit thread (never the JS thread, never a libuv pool
//   thread) with the stream's device current. It must capture (shared_ptr) everything native it
//   touches; JS objects whose memory it uses go in `keepAlive`.
// - The promise settles on the JS thread once the GPU finished all enqueued work: resolved with
//   `resolveWith(env)` (undefined when empty), or rejected with the first NativeError from the
//   enqueue or from the GPU (cudaError attached). Nothing blocks the caller.
// - Jobs on one stream run and settle in submission order, never interleaved.
// Create executors with CreateStreamExecutor so that environment teardown drains them.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "cuda/stream_executor.h"
#include "napi/completion.h"

namespace trt_node::napi {

// A stream with its submit and completion threads, drained at environment teardown. Throws NativeError.
std::shared_ptr<cuda::StreamExecutor> CreateStreamExecutor(Napi::Env env, int device, int priority);

Napi::Promise SubmitToStream(Napi::Env env, const std::shared_ptr<cuda::StreamExecutor>& executor,
                             const char* resourceName, cuda::StreamExecutor::Enqueue enqueue,
                             ResolveWith resolveWith = nullptr, const std::vector<Napi::Value>& keepAlive = {});

// Shares `object` so that its destructor, which may block on the GPU (cudaFreeHost, cudaFree,
// joining stream threads), runs on the environment's releaser thread rather than where the last
// reference happens to drop (often the JS thread).
template <typename T>
std::shared_ptr<T> ShareReleasedOffThread(Napi::Env env, std::unique_ptr<T> object) {
  std::weak_ptr<SerialThread> releaser = CompletionEnvironment::Get(env).releaser();
  return std::shared_ptr<T>(object.release(),
                            [releaser](T* released) { ReleaseOffThread(releaser, [released] { delete released; }); });
}

}  // namespace trt_node::napi
