// PinnedBufferWrap and DeviceBufferWrap: pinned host memory exposed to JS as an external
// ArrayBuffer (zero copy), and device memory that never enters JS.
#include <cstring>
#include <string>

#include "core/error.h"
#include "cuda/device.h"
#include "napi/cuda_args.h"
#include "napi/cuda_submit.h"
#include "napi/cuda_wraps.h"
#include "napi/errors.h"

namespace trt_node::napi {
namespace {

Napi::Value AddressOf(Napi::Env env, const void* pointer) {
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(pointer)));
}

NativeError Disposed(const char* what) {
  return NativeError("ERR_DISPOSED", std::string(what) + " was disposed and can no longer be used");
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// PinnedBufferWrap
// ------------------------------------------------------------------------------------------------

Napi::Function PinnedBufferWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "PinnedBufferWrap",
      {InstanceMethod<&PinnedBufferWrap::ArrayBuffer>("arrayBuffer"),
       InstanceMethod<&PinnedBufferWrap::Address>("address"), InstanceMethod<&PinnedBufferWrap::Dispose>("dispose"),
       InstanceAccessor<&PinnedBufferWrap::GetByteLength>("byteLength"),
       InstanceAccessor<&PinnedBufferWrap::GetZeroCopy>("zeroCopy"),
       InstanceAccessor<&PinnedBufferWrap::GetDisposed>("disposed")});
}

PinnedBufferWrap* PinnedBufferWrap::FromValue(const Napi::Value& value) {
  if (!HasTag(value, kPinnedBufferWrapTag)) return nullptr;
  return Napi::ObjectWrap<PinnedBufferWrap>::Unwrap(value.As<Napi::Object>());
}

std::shared_ptr<cuda::PinnedBuffer> PinnedBufferWrap::Live(const char* what) const {
  if (!buffer_) throw Disposed(what);
  return buffer_;
}

PinnedBufferWrap::PinnedBufferWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PinnedBufferWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    TagObject(env, info.This().As<Napi::Object>(), kPinnedBufferWrapTag);
    byteLength_ = RequireByteCount(info[0], "byteLength");
    const bool forceCopying = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    cuda::DeviceCount();  // even an empty buffer needs a working CUDA: report the driver problem now
    buffer_ = ShareReleasedOffThread(env, std::make_unique<cuda::PinnedBuffer>(byteLength_));
    hold_->buffer = buffer_;
    if (byteLength_ > 0) {
      napi_value external = nullptr;
      auto* hint = new std::shared_ptr<ExternalHold>(hold_);
      const napi_status status = forceCopying ? napi_no_external_buffers_allowed
                                              : napi_create_external_arraybuffer(env, buffer_->data(), byteLength_,
                                                                                 &FinalizeExternal, hint, &external);
      if (status == napi_ok) {
        external_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, external), 0);
      } else {
        // This runtime refuses external buffers (V8 sandbox, e.g. Electron): JS gets a mirror.
        delete hint;
        hold_->buffer.reset();
        bool pending = false;
        if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
          napi_value ignored;
          napi_get_and_clear_last_exception(env, &ignored);
        }
        mirror_ = Napi::Persistent(Napi::ArrayBuffer::New(env, byteLength_));
      }
    }
    ReportExternalMemory(env, static_cast<int64_t>(byteLength_));
    return env.Undefined();
  });
}

PinnedBufferWrap::~PinnedBufferWrap() {
  // Finalizer fallback: the external ArrayBuffer, if JS still holds it, keeps the memory through hold_.
  if (buffer_) ReportExternalMemory(Env(), -static_cast<int64_t>(byteLength_));
  buffer_.reset();
}

void PinnedBufferWrap::FinalizeExternal(napi_env, void*, void* hint) {
  delete static_cast<std::shared_ptr<ExternalHold>*>(hint);
}

void PinnedBufferWrap::MirrorToPinned() {
  if (!copying() || !buffer_) return;
  std::memcpy(buffer_->data(), mirror_.Value().Data(), byteLength_);
}

void PinnedBufferWrap::PinnedToMirror() {
  if (!copying() || !buffer_) return;
  Napi::ArrayBuffer mirror = mirror_.Value();
  if (mirror.ByteLength() == byteLength_) std::memcpy(mirror.Data(), buffer_->data(), byteLength_);
}

Napi::Value PinnedBufferWrap::ArrayBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Live("The pinned buffer");
    if (copying()) return mirror_.Value();
    if (byteLength_ == 0) return Napi::ArrayBuffer::New(env, 0);
    if (!external_.IsEmpty()) {
      Napi::ArrayBuffer existing = external_.Value();
      if (!existing.IsEmpty()) return existing;
    }
    // The previous ArrayBuffer was collected: hand out a new one over the same memory.
    napi_value external = nullptr;
    auto* hint = new std::shared_ptr<ExternalHold>(hold_);
    hold_->buffer = buffer_;
    if (napi_create_external_arraybuffer(env, buffer_->data(), byteLength_, &FinalizeExternal, hint, &external) !=
        napi_ok) {
      delete hint;
      throw Napi::Error::New(env);
    }
    external_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, external), 0);
    return Napi::ArrayBuffer(env, external);
  });
}

Napi::Value PinnedBufferWrap::Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return AddressOf(env, Live("The pinned buffer")->data()); });
}

void PinnedBufferWrap::Release(Napi::Env env) {
  if (!buffer_) return;
  // Detach first: JS views become empty, so no script can touch the memory once it is freed.
  bool detached = byteLength_ == 0;
  if (!external_.IsEmpty()) {
    Napi::ArrayBuffer external = external_.Value();
    detached = external.IsEmpty() || napi_detach_arraybuffer(env, external) == napi_ok;
    external_.Reset();
  } else if (!mirror_.IsEmpty()) {
    napi_detach_arraybuffer(env, mirror_.Value());
    mirror_.Reset();
    detached = true;
  } else {
    detached = true;
  }
  // If detaching failed, the ArrayBuffer keeps the memory until it is collected (never unsafe).
  if (detached) hold_->buffer.reset();
  buffer_.reset();
  ReportExternalMemory(env, -static_cast<int64_t>(byteLength_));
}

Napi::Value PinnedBufferWrap::Dispose(const Napi::CallbackInfo& info) {
  Release(info.Env());
  return info.Env().Undefined();
}

Napi::Value PinnedBufferWrap::GetByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(byteLength_));
}

Napi::Value PinnedBufferWrap::GetZeroCopy(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !copying());
}

Napi::Value PinnedBufferWrap::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !buffer_);
}

// ------------------------------------------------------------------------------------------------
// DeviceBufferWrap
// ------------------------------------------------------------------------------------------------

Napi::Function DeviceBufferWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "DeviceBufferWrap",
      {InstanceMethod<&DeviceBufferWrap::Address>("address"), InstanceMethod<&DeviceBufferWrap::Dispose>("dispose"),
       InstanceAccessor<&DeviceBufferWrap::GetByteLength>("byteLength"),
       InstanceAccessor<&DeviceBufferWrap::GetDevice>("device"),
       InstanceAccessor<&DeviceBufferWrap::GetDisposed>("disposed")});
}

DeviceBufferWrap* DeviceBufferWrap::FromValue(const Napi::Value& value) {
  if (!HasTag(value, kDeviceBufferWrapTag)) return nullptr;
  return Napi::ObjectWrap<DeviceBufferWrap>::Unwrap(value.As<Napi::Object>());
}

std::shared_ptr<cuda::DeviceBuffer> DeviceBufferWrap::BufferOf(const Napi::Value& value, const char* what) {
  DeviceBufferWrap* wrap = FromValue(value);
  if (wrap == nullptr) throw InvalidArgument(std::string("Expected a device buffer for ") + what);
  return wrap->Live(what);
}

std::shared_ptr<cuda::DeviceBuffer> DeviceBufferWrap::Live(const char* what) const {
  if (!buffer_) throw Disposed(what);
  return buffer_;
}

DeviceBufferWrap::DeviceBufferWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBufferWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    TagObject(env, info.This().As<Napi::Object>(), kDeviceBufferWrapTag);
    byteLength_ = RequireByteCount(info[0], "byteLength");
    device_ = RequireInt32(info[1], "device");
    std::shared_ptr<cuda::Stream> stream;
    if (!info[2].IsUndefined() && !info[2].IsNull()) stream = StreamWrap::ExecutorOf(info[2], "stream")->sharedStream();
    cuda::RequireDevice(device_, "device");
    buffer_ =
        ShareReleasedOffThread(env, std::make_unique<cuda::DeviceBuffer>(byteLength_, device_, std::move(stream)));
    ReportExternalMemory(env, static_cast<int64_t>(byteLength_));
    return env.Undefined();
  });
}

DeviceBufferWrap::~DeviceBufferWrap() {
  if (buffer_) ReportExternalMemory(Env(), -static_cast<int64_t>(byteLength_));
  buffer_.reset();
}

void DeviceBufferWrap::Release(Napi::Env env) {
  if (!buffer_) return;
  buffer_.reset();  // freed once the last job using it completed, off the JS thread
  ReportExternalMemory(env, -static_cast<int64_t>(byteLength_));
}

Napi::Value DeviceBufferWrap::Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return AddressOf(env, Live("The device buffer")->data()); });
}

Napi::Value DeviceBufferWrap::Dispose(const Napi::CallbackInfo& info) {
  Release(info.Env());
  return info.Env().Undefined();
}

Napi::Value DeviceBufferWrap::GetByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(byteLength_));
}

Napi::Value DeviceBufferWrap::GetDevice(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), device_);
}

Napi::Value DeviceBufferWrap::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !buffer_);
}

}  // namespace trt_node::napi
