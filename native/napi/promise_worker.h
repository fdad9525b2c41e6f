// One reusable promise worker instead of AsyncWorker boilerplate in every class. `work` runs on a
// libuv pool thread and must not wait on the GPU (GPU completion uses the CUDA layer's own
// completion thread); `convert` turns its result into a JS value on the JS thread.
//
//   return RunOnPool<Probe>(env, "TensorRT.probe", [=] { return Probe(...); },
//                           [](Napi::Env env, Probe& probe) { return ToJs(env, probe); });
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <optional>
#include <utility>

#include "napi/errors.h"

namespace trt_node::napi {

template <typename Result>
class PromiseWorker final : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  PromiseWorker(Napi::Env env, const char* resourceName, Work work, Convert convert)
      : Napi::AsyncWorker(env, resourceName),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        convert_(std::move(convert)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      result_.emplace(work_());
    } catch (...) {
      failure_ = std::current_exception();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (failure_) {
      deferred_.Reject(ToJsError(env, ToNativeError(failure_)));
      return;
    }
    try {
      deferred_.Resolve(convert_(env, *result_));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    } catch (...) {
      deferred_.Reject(ToJsError(env, ToNativeError(std::current_exception())));
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Convert convert_;
  std::optional<Result> result_;
  std::exception_ptr failure_;
};

template <typename Result>
Napi::Promise RunOnPool(Napi::Env env, const char* resourceName, std::function<Result()> work,
                        std::function<Napi::Value(Napi::Env, Result&)> convert) {
  auto* worker = new PromiseWorker<Result>(env, resourceName, std::move(work), std::move(convert));
  Napi::Promise promise = worker->promise();
  worker->Queue();  // AsyncWorker deletes itself after OnOK/OnError
  return promise;
}

}  // namespace trt_node::napi
