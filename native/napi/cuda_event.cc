// EventWrap: a CUDA event for timing (elapsedTime) and for ordering work across streams. Recording
// and waiting go through the stream (StreamWrap.recordEvent/waitEvent) so that they take their
// place in the stream's submission order.
#include <string>

#include "core/error.h"
#include "cuda/device.h"
#include "napi/cuda_args.h"
#include "napi/cuda_wraps.h"
#include "napi/errors.h"

namespace trt_node::napi {

Napi::Function EventWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "EventWrap",
      {InstanceMethod<&EventWrap::Query>("query"), InstanceMethod<&EventWrap::ElapsedTime>("elapsedTime"),
       InstanceMethod<&EventWrap::Dispose>("dispose"), InstanceAccessor<&EventWrap::GetDevice>("device"),
       InstanceAccessor<&EventWrap::GetDisposed>("disposed")});
}

std::shared_ptr<cuda::Event> EventWrap::EventOf(const Napi::Value& value, const char* what) {
  if (!HasTag(value, kEventWrapTag)) throw InvalidArgument(std::string("Expected an event for ") + what);
  EventWrap* wrap = Napi::ObjectWrap<EventWrap>::Unwrap(value.As<Napi::Object>());
  if (!wrap->event_) throw NativeError("ERR_DISPOSED", std::string(what) + " was disposed and can no longer be used");
  return wrap->event_;
}

EventWrap::EventWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EventWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    TagObject(env, info.This().As<Napi::Object>(), kEventWrapTag);
    device_ = RequireInt32(info[0], "device");
    const bool timing = !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    cuda::RequireDevice(device_, "device");
    // cudaEventDestroy never waits (CUDA releases a pending event once it completes), so events
    // may be freed right here, on the JS thread.
    event_ = std::make_shared<cuda::Event>(device_, timing);
    return env.Undefined();
  });
}

Napi::Value EventWrap::Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env,
               [&]() -> Napi::Value { return Napi::Boolean::New(env, EventOf(info.This(), "The event")->Query()); });
}

Napi::Value EventWrap::ElapsedTime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::Event> start = EventOf(info.This(), "The event");
    std::shared_ptr<cuda::Event> end = EventOf(info[0], "end");
    return Napi::Number::New(env, cuda::Event::ElapsedMilliseconds(*start, *end));
  });
}

Napi::Value EventWrap::Dispose(const Napi::CallbackInfo& info) {
  event_.reset();  // jobs that still record or wait on it hold their own reference
  return info.Env().Undefined();
}

Napi::Value EventWrap::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }

Napi::Value EventWrap::GetDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !event_); }

}  // namespace trt_node::napi
