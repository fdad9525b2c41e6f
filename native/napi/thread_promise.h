// Runs work on a thread of its own (not a libuv pool thread) and settles a promise on the JS thread
// through a thread-safe function. For long operations that must neither block the event loop nor
// occupy one of libuv's four pool threads for seconds: engine deserialization and builds.
//
// The threads belong to their environment (main thread or worker): its cleanup hook asks them to
// stop (the flag stopFlag() returns turns true: long work such as a TensorRT build should poll it
// and give up) and joins them, so `worker.terminate()` never frees N-API state a thread still touches.
//
//   return RunOnOwnThread<std::shared_ptr<Engine>>(env, "Engine.load", [=] { return Load(...); },
//       [](Napi::Env env, std::shared_ptr<Engine>& engine) { return EngineWrap::New(env, engine); });
#pragma once

#include <napi.h>

#include <atomic>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "napi/errors.h"

namespace trt_node::napi {

// Own threads running right now, in every environment of the process (a test hook).
std::atomic<int64_t>& OwnThreadsRunning();

// The own threads of one environment, joined by its cleanup hook.
class OwnThreads {
 public:
  static OwnThreads& Get(Napi::Env env);   // created on first use, with the cleanup hook
  void Start(std::function<void()> body);  // throws std::system_error when no thread can be started
  // True once the environment is being torn down: long work checks it and stops early (its result is
  // discarded anyway), also from threads that are not own threads (TensorRT calls a build's progress
  // monitor from threads of its own).
  std::shared_ptr<const std::atomic<bool>> stopFlag() const { return stop_; }

  OwnThreads(const OwnThreads&) = delete;
  OwnThreads& operator=(const OwnThreads&) = delete;

 private:
  struct Entry {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  explicit OwnThreads(Napi::Env env) : env_(env) {}
  static void Teardown(void* self);

  Napi::Env env_;
  std::shared_ptr<std::atomic<bool>> stop_ = std::make_shared<std::atomic<bool>>(false);
  std::mutex mutex_;
  std::list<Entry> threads_;
};

// `keepAlive` (optional) is a JS object whose memory `work` reads (e.g. a Buffer): it stays
// referenced until the promise settles.
template <typename Result>
Napi::Promise RunOnOwnThread(Napi::Env env, const char* resourceName, std::function<Result()> work,
                             std::function<Napi::Value(Napi::Env, Result&)> convert,
                             Napi::Value keepAlive = Napi::Value()) {
  struct State {
    explicit State(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise::Deferred deferred;
    std::function<Result()> work;
    std::function<Napi::Value(Napi::Env, Result&)> convert;
    std::optional<Result> result;
    std::exception_ptr failure;
    Napi::Reference<Napi::Value> keepAlive;
  };
  auto state = std::make_shared<State>(env);
  state->work = std::move(work);
  state->convert = std::move(convert);
  if (!keepAlive.IsEmpty() && keepAlive.IsObject()) state->keepAlive = Napi::Persistent(keepAlive);
  Napi::Promise promise = state->deferred.Promise();

  OwnThreads& threads = OwnThreads::Get(env);  // before the thread-safe function: see OwnThreads::Get
  Napi::Function noop = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  auto settle = Napi::ThreadSafeFunction::New(env, noop, resourceName, 0, 1);
  auto body = [state, settle]() mutable {
    try {
      state->result.emplace(state->work());
    } catch (...) {
      state->failure = std::current_exception();
    }
    const napi_status status = settle.BlockingCall([state](Napi::Env env, Napi::Function) {
      Napi::HandleScope scope(env);
      state->keepAlive.Reset();
      if (state->failure) {
        state->deferred.Reject(ToJsError(env, ToNativeError(state->failure)));
        return;
      }
      try {
        state->deferred.Resolve(state->convert(env, *state->result));
      } catch (const Napi::Error& error) {
        state->deferred.Reject(error.Value());
      } catch (...) {
        state->deferred.Reject(ToJsError(env, ToNativeError(std::current_exception())));
      }
    });
    if (status != napi_ok) {
      // The environment is shutting down: the reference must not be deleted from this thread, and a
      // closing thread-safe function already let go of this thread (napi_closing), so no Release.
      state->keepAlive.SuppressDestruct();
      if (status != napi_closing) settle.Release();
      return;
    }
    settle.Release();
  };
  try {
    threads.Start(std::move(body));
  } catch (...) {
    settle.Release();  // no thread will: let the event loop go
    throw;
  }
  return promise;
}

}  // namespace trt_node::napi
