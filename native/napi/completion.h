// Delivery of native completions to JavaScript: the JS half of the async model.
//
// A job submitted to a SubmitQueue (core/submit_queue.h; for CUDA streams cuda::StreamExecutor)
// finishes on that queue's completion thread. This file carries the result from there to the JS
// thread and settles the promise the caller got back:
//
//   // JS thread
//   PromiseCompletion started = CompletionEnvironment::Get(env).Start(env, "CudaStream.copy", resolveWith, keepAlive);
//   queue.Submit(enqueue, [completion = started.completion](std::exception_ptr error) { completion.Settle(error); });
//   return started.promise;
//
// napi/cuda_submit.h wraps exactly this for CUDA streams (SubmitToStream), which is what other
// components (the TensorRT runtime) call.
//
// - One Napi::TypedThreadSafeFunction per environment (main thread or worker) carries every
//   completion. It is referenced only while promises are pending, so an idle addon never keeps the
//   event loop alive (`node -e` exits), and it is released by the environment's cleanup hook.
// - Each promise settles inside a callback scope with its own async context named after the
//   operation ("CudaStream.copy"), so async_hooks and microtasks behave as for any Node callback.
// - JS objects whose memory the job uses (TypedArrays, wraps) are referenced until it settles.
// - The cleanup hook drains every registered queue (their jobs finish and settle nothing once the
//   environment is gone), stops the releaser thread, then releases the thread-safe function.
//
// The releaser is a native thread for frees that may block on the GPU (cudaFreeHost, cudaFree and
// retiring a stream with work in flight): none of them may run on the JS thread.
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/serial_thread.h"
#include "core/submit_queue.h"

namespace trt_node::napi {

class CompletionEnvironment;
struct PendingPromise;

// Builds the value the promise resolves with, on the JS thread, once the job succeeded (may throw a
// NativeError or Napi::Error: the promise then rejects with it). Empty: resolve with undefined.
using ResolveWith = std::function<Napi::Value(Napi::Env)>;

// The settling end of one pending promise. Copyable handle; exactly one of Settle() (any thread)
// or Cancel() (JS thread, for a job that was never accepted) must be called, exactly once.
class Completion {
 public:
  void Settle(std::exception_ptr error) const;
  void Cancel() const;

 private:
  friend class CompletionEnvironment;
  Completion(CompletionEnvironment* environment, PendingPromise* pending)
      : environment_(environment), pending_(pending) {}
  CompletionEnvironment* environment_;
  PendingPromise* pending_;
};

struct PromiseCompletion {
  Napi::Promise promise;
  Completion completion;
};

class CompletionEnvironment {
 public:
  // The environment's instance, created on first use together with its cleanup hook.
  static CompletionEnvironment& Get(Napi::Env env);
  // The instance if there is one; nullptr before first use and once torn down (finalizers use this).
  static CompletionEnvironment* Find(Napi::Env env);

  // JS thread: a new pending promise. `resourceName` must be a string literal (it is kept).
  PromiseCompletion Start(Napi::Env env, const char* resourceName, ResolveWith resolveWith = nullptr,
                          const std::vector<Napi::Value>& keepAlive = {});

  // Drains `queue` at teardown, for as long as it lives (pass an aliasing shared_ptr of its owner).
  void Track(std::weak_ptr<SubmitQueue> queue);

  // Runs `release` on the releaser thread, or right here when the environment is tearing down.
  void Release(std::function<void()> release);
  // A deleter-friendly handle on the releaser that stays safe after teardown.
  std::weak_ptr<SerialThread> releaser() const { return releaser_; }

  size_t pendingPromises() const noexcept { return pending_; }

  CompletionEnvironment(const CompletionEnvironment&) = delete;
  CompletionEnvironment& operator=(const CompletionEnvironment&) = delete;

 private:
  friend class Completion;
  struct CallJsContext {};
  static void CallJs(Napi::Env env, Napi::Function, CallJsContext*, PendingPromise* pending);
  using Dispatcher = Napi::TypedThreadSafeFunction<CallJsContext, PendingPromise, CallJs>;

  explicit CompletionEnvironment(Napi::Env env);
  static void Teardown(void* self);
  void Settle(PendingPromise* pending, std::exception_ptr error);
  void Finished(Napi::Env env);  // JS thread: one promise fewer, unref when idle

  Napi::Env env_;
  Dispatcher dispatcher_;
  size_t pending_ = 0;  // JS thread only
  std::shared_ptr<SerialThread> releaser_;
  std::mutex queuesMutex_;
  std::vector<std::weak_ptr<SubmitQueue>> queues_;
};

// Runs `release` off the JS thread when possible (see CompletionEnvironment::Release): the deleter
// of shared_ptrs whose destructor may block on the GPU.
void ReleaseOffThread(const std::weak_ptr<SerialThread>& releaser, std::function<void()> release);

// completionQueueForTest(): the real SubmitQueue and completion delivery with a host-side fence
// (a sleep) instead of a CUDA event, so ordering, errors, liveness and teardown are tested without
// a GPU. Registered in every build.
void RegisterCompletionTestHooks(Napi::Env env, Napi::Object exports);

}  // namespace trt_node::napi
