// Runs work on a thread of its own (not a libuv pool thread) and settles a promise on the JS thread
// through a thread-safe function. For long operations that must neither block the event loop nor
// occupy one of libuv's four pool threads for seconds: engine deserialization and builds.
//
//   return RunOnOwnThread<std::shared_ptr<Engine>>(env, "Engine.load", [=] { return Load(...); },
//       [](Napi::Env env, std::shared_ptr<Engine>& engine) { return EngineWrap::New(env, engine); });
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "napi/errors.h"

namespace trt_node::napi {

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

  Napi::Function noop = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  auto settle = Napi::ThreadSafeFunction::New(env, noop, resourceName, 0, 1);
  std::thread([state, settle]() mutable {
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
    // The environment is shutting down: the reference must not be deleted from this thread.
    if (status != napi_ok) state->keepAlive.SuppressDestruct();
    settle.Release();
  }).detach();
  return promise;
}

}  // namespace trt_node::napi
