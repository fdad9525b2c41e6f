// EventWrap: a CUDA event for timing (elapsedTime) and for ordering work across streams. Recording
// and waiting go through the streams (StreamWrap.recordEvent/waitEvent) so that they take their
// place in each stream's submission order; see EventWrap::Record for how the two are kept in order.
#include <string>

#include "core/error.h"
#include "cuda/device.h"
#include "napi/cuda_args.h"
#include "napi/cuda_wraps.h"
#include "napi/errors.h"

namespace trt_node::napi {
namespace {

bool Ready(const std::shared_future<void>& future) {
  return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace

Napi::Function EventWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "EventWrap",
      {InstanceMethod<&EventWrap::Query>("query"), InstanceMethod<&EventWrap::ElapsedTime>("elapsedTime"),
       InstanceMethod<&EventWrap::Dispose>("dispose"), InstanceAccessor<&EventWrap::GetDevice>("device"),
       InstanceAccessor<&EventWrap::GetDisposed>("disposed")});
}

EventWrap* EventWrap::FromValue(const Napi::Value& value, const char* what) {
  if (!HasTag(value, kEventWrapTag)) throw InvalidArgument(std::string("Expected an event for ") + what);
  EventWrap* wrap = Napi::ObjectWrap<EventWrap>::Unwrap(value.As<Napi::Object>());
  if (wrap->disposed_) throw NativeError("ERR_DISPOSED", std::string(what) + " was disposed and can no longer be used");
  return wrap;
}

EventWrap::EventWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EventWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    TagObject(env, info.This().As<Napi::Object>(), kEventWrapTag);
    device_ = RequireInt32(info[0], "device");
    timing_ = !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    cuda::RequireDevice(device_, "device");
    return env.Undefined();
  });
}

std::shared_ptr<EventWrap::Record> EventWrap::NewRecord(std::shared_ptr<std::promise<void>> enqueued) {
  auto record = std::make_shared<Record>();
  // cudaEventCreate/Destroy never wait for the GPU (CUDA releases a pending event once it
  // completes), so a record's event may be created and freed on the JS thread.
  record->event = std::make_shared<cuda::Event>(device_, timing_);
  record->enqueued = enqueued->get_future().share();
  return record;
}

Napi::Value EventWrap::Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    EventWrap* self = FromValue(info.This(), "The event");
    if (!self->latest_) return Napi::Boolean::New(env, true);  // never recorded: nothing to wait for
    if (!Ready(self->latest_->enqueued)) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, self->latest_->event->Query());
  });
}

Napi::Value EventWrap::ElapsedTime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    EventWrap* start = FromValue(info.This(), "The event");
    EventWrap* end = FromValue(info[0], "end");
    if (!start->latest_ || !end->latest_) {
      throw NativeError("ERR_INVALID_ARGUMENT", "Expected two recorded events for elapsedTime()", ErrorKind::kRange);
    }
    if (!Ready(start->latest_->enqueued) || !Ready(end->latest_->enqueued)) {
      throw NativeError("ERR_CUDA", "elapsedTime() needs both events completed: await end.synchronize() first");
    }
    return Napi::Number::New(env, cuda::Event::ElapsedMilliseconds(*start->latest_->event, *end->latest_->event));
  });
}

Napi::Value EventWrap::Dispose(const Napi::CallbackInfo& info) {
  disposed_ = true;
  latest_.reset();  // jobs that still record or wait on it hold their own reference
  return info.Env().Undefined();
}

Napi::Value EventWrap::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }

Napi::Value EventWrap::GetDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

}  // namespace trt_node::napi
