#include "napi/completion.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "core/error.h"
#include "napi/addon_data.h"
#include "napi/errors.h"
#include "napi/thread_promise.h"

namespace trt_node::napi {

// Everything one promise needs on the JS thread. Only raw N-API handles: when the environment is
// torn down before the promise settles, it is freed without any N-API call (see CallJs).
struct PendingPromise {
  napi_deferred deferred = nullptr;
  napi_async_context asyncContext = nullptr;
  std::vector<napi_ref> keepAlive;
  ResolveWith resolveWith;
  std::exception_ptr error;
};

void Completion::Settle(std::exception_ptr error) const { environment_->Settle(pending_, std::move(error)); }

void Completion::Cancel() const {
  Napi::Env env = environment_->env_;
  for (napi_ref ref : pending_->keepAlive) napi_delete_reference(env, ref);
  napi_async_destroy(env, pending_->asyncContext);
  delete pending_;  // the promise was never handed out: nothing to settle
  environment_->Finished(env);
}

CompletionEnvironment* CompletionEnvironment::Find(Napi::Env env) { return AddonData::Get(env).completions; }

CompletionEnvironment& CompletionEnvironment::Get(Napi::Env env) {
  AddonData& data = AddonData::Get(env);
  if (data.completions == nullptr) {
    data.completions = new CompletionEnvironment(env);
    napi_add_env_cleanup_hook(env, &CompletionEnvironment::Teardown, data.completions);
  }
  return *data.completions;
}

CompletionEnvironment::CompletionEnvironment(Napi::Env env)
    : env_(env),
      dispatcher_(Dispatcher::New(env, "tensorrt-node:completion", 0, 1, static_cast<CallJsContext*>(nullptr))),
      releaser_(std::make_shared<SerialThread>("trt-release")) {
  dispatcher_.Unref(env);  // referenced only while promises are pending
}

PromiseCompletion CompletionEnvironment::Start(Napi::Env env, const char* resourceName, ResolveWith resolveWith,
                                               const std::vector<Napi::Value>& keepAlive) {
  auto check = [&](napi_status status) {
    if (status != napi_ok) throw Napi::Error::New(env);
  };
  auto pending = std::make_unique<PendingPromise>();
  napi_value promise = nullptr;
  check(napi_create_promise(env, &pending->deferred, &promise));
  check(napi_async_init(env, Napi::Object::New(env), Napi::String::New(env, resourceName), &pending->asyncContext));
  for (const Napi::Value& value : keepAlive) {
    napi_ref ref = nullptr;
    check(napi_create_reference(env, value, 1, &ref));
    pending->keepAlive.push_back(ref);
  }
  pending->resolveWith = std::move(resolveWith);
  if (pending_++ == 0) dispatcher_.Ref(env);
  return PromiseCompletion{Napi::Promise(env, promise), Completion(this, pending.release())};
}

void CompletionEnvironment::Settle(PendingPromise* pending, std::exception_ptr error) {
  pending->error = std::move(error);
  if (dispatcher_.NonBlockingCall(pending) != napi_ok) {
    delete pending;  // the environment is closing: nobody is left to tell
  }
}

void CompletionEnvironment::CallJs(Napi::Env env, Napi::Function, CallJsContext*, PendingPromise* pending) {
  if (env == nullptr) {  // torn down with this completion still queued: free it without N-API
    delete pending;
    return;
  }
  try {
    Napi::HandleScope handles(env);
    // Settling inside a callback scope runs the promise's reactions (microtasks) right away and
    // attributes them to this operation's async context.
    Napi::CallbackScope callbackScope(env, pending->asyncContext);
    napi_value outcome = nullptr;
    bool resolved = false;
    if (pending->error) {
      outcome = ToJsError(env, ToNativeError(pending->error));
    } else {
      try {
        outcome = pending->resolveWith ? pending->resolveWith(env) : env.Undefined();
        resolved = true;
      } catch (const Napi::Error& error) {
        outcome = error.Value();
      } catch (...) {
        outcome = ToJsError(env, ToNativeError(std::current_exception()));
      }
    }
    if (resolved) {
      napi_resolve_deferred(env, pending->deferred, outcome);
    } else {
      napi_reject_deferred(env, pending->deferred, outcome);
    }
  } catch (...) {
    // JavaScript cannot run any more (a worker being terminated): nobody is left to tell.
    bool exceptionPending = false;
    if (napi_is_exception_pending(env, &exceptionPending) == napi_ok && exceptionPending) {
      napi_value ignored = nullptr;
      napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  for (napi_ref ref : pending->keepAlive) napi_delete_reference(env, ref);
  napi_async_destroy(env, pending->asyncContext);
  delete pending;
  CompletionEnvironment* environment = AddonData::Get(env).completions;
  if (environment != nullptr) environment->Finished(env);
}

void CompletionEnvironment::Finished(Napi::Env env) {
  if (--pending_ == 0) napi_unref_threadsafe_function(env, dispatcher_);  // never throws: may run at teardown
}

void CompletionEnvironment::Track(std::weak_ptr<SubmitQueue> queue) {
  std::lock_guard<std::mutex> lock(queuesMutex_);
  std::erase_if(queues_, [](const std::weak_ptr<SubmitQueue>& tracked) { return tracked.expired(); });
  queues_.push_back(std::move(queue));
}

void CompletionEnvironment::Release(std::function<void()> release) { ReleaseOffThread(releaser_, std::move(release)); }

void CompletionEnvironment::Teardown(void* self) {
  auto* environment = static_cast<CompletionEnvironment*>(self);
  // 1. Let every queue finish what it accepted: the GPU may still use memory they keep alive.
  std::vector<std::shared_ptr<SubmitQueue>> live;
  {
    std::lock_guard<std::mutex> lock(environment->queuesMutex_);
    for (const auto& tracked : environment->queues_) {
      if (auto queue = tracked.lock()) live.push_back(std::move(queue));
    }
    environment->queues_.clear();
  }
  for (const auto& queue : live) queue->Shutdown();
  live.clear();
  // 2. Run the frees queued so far; later ones run where they happen (see ReleaseOffThread).
  environment->releaser_->Join();
  environment->releaser_.reset();
  // 3. No thread calls the dispatcher any more.
  environment->dispatcher_.Release();
  AddonData::Get(environment->env_).completions = nullptr;
  delete environment;
}

void ReleaseOffThread(const std::weak_ptr<SerialThread>& releaser, std::function<void()> release) {
  // Moved into the releaser's queue, so the last reference to what `release` owns drops there.
  if (auto thread = releaser.lock(); thread && !thread->IsCurrentThread() && thread->Post(std::move(release))) return;
  release();
  release = nullptr;
}

// -------------------------------------------------------------------------------------------------
// Test hook: the real queue and delivery, with a host fence.
// -------------------------------------------------------------------------------------------------
namespace {

std::string CurrentThreadName() {
  char name[32] = {0};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

class CompletionQueueTestWrap final : public Napi::ObjectWrap<CompletionQueueTestWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CompletionQueueForTest",
                       {InstanceMethod<&CompletionQueueTestWrap::Submit>("submit"),
                        InstanceMethod<&CompletionQueueTestWrap::Close>("close"),
                        InstanceAccessor<&CompletionQueueTestWrap::InFlight>("inFlight"),
                        InstanceAccessor<&CompletionQueueTestWrap::PendingPromises>("pendingPromises")});
  }

  explicit CompletionQueueTestWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CompletionQueueTestWrap>(info) {
    // The fence completes at the latest due time enqueued so far: work finishes in stream order.
    auto due = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    due_ = due;
    queue_ = std::make_shared<SubmitQueue>(
        "trt-test", [due]() -> std::unique_ptr<SubmitQueue::Fence> { return std::make_unique<HostFence>(*due); });
    CompletionEnvironment& environment = CompletionEnvironment::Get(info.Env());
    environment.Track(queue_);
    releaser_ = environment.releaser();
  }

  // Dropping the queue joins its threads, which may wait for queued jobs: never on the JS thread.
  ~CompletionQueueTestWrap() override {
    ReleaseOffThread(releaser_, [queue = std::move(queue_)] {});
  }

 private:
  class HostFence final : public SubmitQueue::Fence {
   public:
    explicit HostFence(std::chrono::steady_clock::time_point due) : due_(due) {}
    void Wait() override { std::this_thread::sleep_until(due_); }

   private:
    std::chrono::steady_clock::time_point due_;
  };

  struct JobRecord {
    int64_t completionOrder = -1;
    std::string submitThread;
    std::string completionThread;
  };

  // submit(delayMs, failAt?: 'enqueue' | 'done', message?) -> Promise<{ order, submitThread, completionThread }>
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Guard(env, [&]() -> Napi::Value {
      if (!queue_) throw NativeError("ERR_DISPOSED", "The queue was closed");
      const double delayMs = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
      // Converted to microseconds below: NaN, negative or huge values would overflow int64 (undefined behaviour).
      if (!(delayMs >= 0 && delayMs <= 60000))
        throw NativeError("ERR_INVALID_ARGUMENT", "Expected a delay between 0 and 60000 ms for delayMs",
                          ErrorKind::kRange);
      const std::string failAt = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
      const std::string message = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "failed";
      auto record = std::make_shared<JobRecord>();
      auto counter = counter_;
      auto due = due_;
      PromiseCompletion started =
          CompletionEnvironment::Get(env).Start(env, "CompletionQueueForTest.submit", [record](Napi::Env env) {
            Napi::Object result = Napi::Object::New(env);
            result.Set("order", static_cast<double>(record->completionOrder));
            result.Set("submitThread", record->submitThread);
            result.Set("completionThread", record->completionThread);
            return result;
          });
      try {
        queue_->Submit(
            [record, due, delayMs, failAt, message] {
              record->submitThread = CurrentThreadName();
              const auto end =
                  std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(delayMs * 1000));
              if (end > *due) *due = end;
              if (failAt == "enqueue")
                throw NativeError("ERR_CUDA", message).withCudaError(700, "cudaErrorIllegalAddress");
            },
            [completion = started.completion, record, counter, failAt, message](std::exception_ptr error) {
              record->completionThread = CurrentThreadName();
              record->completionOrder = counter->fetch_add(1);
              if (!error && failAt == "done") error = std::make_exception_ptr(NativeError("ERR_CUDA", message));
              completion.Settle(error);
            });
      } catch (...) {
        started.completion.Cancel();
        throw;
      }
      return started.promise;
    });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (queue_) queue_->Close();
    return info.Env().Undefined();
  }

  Napi::Value InFlight(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), queue_ ? static_cast<double>(queue_->inFlight()) : 0);
  }

  Napi::Value PendingPromises(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(CompletionEnvironment::Get(info.Env()).pendingPromises()));
  }

  std::shared_ptr<std::chrono::steady_clock::time_point> due_;  // submit thread only, after construction
  std::shared_ptr<std::atomic<int64_t>> counter_ = std::make_shared<std::atomic<int64_t>>(0);
  std::shared_ptr<SubmitQueue> queue_;
  std::weak_ptr<SerialThread> releaser_;
};

// ownThreadForTest(ms) -> Promise<ms>: RunOnOwnThread with work that takes `ms` (a stand-in for an
// engine build or load), to terminate workers mid-operation without TensorRT.
Napi::Value OwnThreadForTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const double ms = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    if (!(ms >= 0 && ms <= 60000)) {
      throw NativeError("ERR_INVALID_ARGUMENT", "Expected a duration between 0 and 60000 ms", ErrorKind::kRange);
    }
    return RunOnOwnThread<double>(
        env, "OwnThreadForTest",
        [ms]() {
          const auto until =
              std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
          while (std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          return ms;
        },
        [](Napi::Env env, double& result) -> Napi::Value { return Napi::Number::New(env, result); });
  });
}

Napi::Value OwnThreadsRunningForTest(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(OwnThreadsRunning().load()));
}

}  // namespace

void RegisterCompletionTestHooks(Napi::Env env, Napi::Object exports) {
  exports.Set("CompletionQueueForTest", CompletionQueueTestWrap::Define(env));
  exports.Set("ownThreadForTest", Napi::Function::New(env, OwnThreadForTest, "ownThreadForTest"));
  exports.Set("ownThreadsRunningForTest",
              Napi::Function::New(env, OwnThreadsRunningForTest, "ownThreadsRunningForTest"));
}

}  // namespace trt_node::napi
