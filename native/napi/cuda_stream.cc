// StreamWrap: a CUDA stream with its own submit and completion threads (cuda::StreamExecutor).
// Every method that touches the GPU returns a promise settled through napi/cuda_submit.h.
#include <chrono>
#include <future>
#include <string>

#include "core/byte_range.h"
#include "core/error.h"
#include "cuda/cuda_error.h"
#include "cuda/device.h"
#include "cuda/image_ops.h"
#include "napi/cuda_args.h"
#include "napi/cuda_submit.h"
#include "napi/cuda_wraps.h"
#include "napi/errors.h"

namespace trt_node::napi {
namespace {

constexpr const char* kStreamWhat = "The stream";

}  // namespace

void StreamWrap::RememberError(DeferredError& deferred, std::exception_ptr error) {
  if (!error) return;
  std::lock_guard<std::mutex> lock(deferred.mutex);
  if (!deferred.first) deferred.first = error;
}

Napi::Function StreamWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "StreamWrap",
      {InstanceMethod<&StreamWrap::Synchronize>("synchronize"), InstanceMethod<&StreamWrap::Copy>("copy"),
       InstanceMethod<&StreamWrap::Memset>("memset"), InstanceMethod<&StreamWrap::RecordEvent>("recordEvent"),
       InstanceMethod<&StreamWrap::WaitEvent>("waitEvent"),
       InstanceMethod<&StreamWrap::PreprocessImage>("preprocessImage"),
       InstanceMethod<&StreamWrap::ConvertFloat>("convertFloat"),
       InstanceMethod<&StreamWrap::BenchmarkMemcpy>("benchmarkMemcpy"), InstanceMethod<&StreamWrap::Dispose>("dispose"),
       InstanceAccessor<&StreamWrap::GetDevice>("device"), InstanceAccessor<&StreamWrap::GetPriority>("priority"),
       InstanceAccessor<&StreamWrap::GetInFlight>("inFlight"), InstanceAccessor<&StreamWrap::GetDisposed>("disposed")});
}

std::shared_ptr<cuda::StreamExecutor> StreamWrap::ExecutorOf(const Napi::Value& value, const char* what) {
  if (!HasTag(value, kStreamWrapTag)) throw InvalidArgument(std::string("Expected a stream for ") + what);
  return Napi::ObjectWrap<StreamWrap>::Unwrap(value.As<Napi::Object>())->Live(what);
}

std::shared_ptr<cuda::StreamExecutor> StreamWrap::Live(const char* what) const {
  if (!executor_) throw NativeError("ERR_DISPOSED", std::string(what) + " was disposed and can no longer be used");
  return executor_;
}

StreamWrap::StreamWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StreamWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    TagObject(env, info.This().As<Napi::Object>(), kStreamWrapTag);
    device_ = RequireInt32(info[0], "device");
    priority_ = RequireInt32(info[1], "priority");
    cuda::RequireDevice(device_, "device");
    executor_ = CreateStreamExecutor(env, device_, priority_);
    releaser_ = CompletionEnvironment::Get(env).releaser();
    return env.Undefined();
  });
}

StreamWrap::~StreamWrap() { Retire(); }

// Stops intake now; the threads finish the accepted work and are joined on the releaser thread.
void StreamWrap::Retire() {
  if (!executor_) return;
  executor_->Close();
  ReleaseOffThread(releaser_, [executor = std::move(executor_)] {});
}

Napi::Value StreamWrap::Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    // An empty job: it completes once everything submitted before it has, and reports the first
    // error of the promise-less jobs (event record/wait) since the last synchronize().
    std::shared_ptr<DeferredError> deferred = deferredError_;
    return SubmitToStream(
        env, executor, "CudaStream.synchronize", [](cudaStream_t) {},
        [deferred](Napi::Env env) -> Napi::Value {
          std::exception_ptr error;
          {
            std::lock_guard<std::mutex> lock(deferred->mutex);
            std::swap(error, deferred->first);
          }
          if (error) std::rethrow_exception(error);
          return env.Undefined();
        },
        {info.This()});
  });
}

// copy(dst, dstOffset, src, srcOffset, byteLength): any of pinned, device or TypedArray (pageable).
Napi::Value StreamWrap::Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    Operand dst = ResolveOperand(info[0], "dst", OperandKinds::kAny);
    const uint64_t dstOffset = RequireByteCount(info[1], "dstOffset");
    Operand src = ResolveOperand(info[2], "src", OperandKinds::kAny);
    const uint64_t srcOffset = RequireByteCount(info[3], "srcOffset");
    const uint64_t byteLength = RequireByteCount(info[4], "byteLength");
    RequireRange(dst, dstOffset, byteLength, "dst");
    RequireRange(src, srcOffset, byteLength, "src");
    if (src.copyingPinned != nullptr) src.copyingPinned->MirrorToPinned();
    ResolveWith resolveWith;
    if (PinnedBufferWrap* copyingDst = dst.copyingPinned) {
      resolveWith = [copyingDst](Napi::Env env) -> Napi::Value {
        copyingDst->PinnedToMirror();
        return env.Undefined();
      };
    }
    uint8_t* dstAddress = dst.address + dstOffset;
    const uint8_t* srcAddress = src.address + srcOffset;
    return SubmitToStream(env, executor, "CudaStream.copy",
                          [dstAddress, srcAddress, byteLength, dstOwner = dst.owner, srcOwner = src.owner,
                           dstDevice = dst.deviceBuffer, srcDevice = src.deviceBuffer](cudaStream_t stream) {
                            if (dstDevice) dstDevice->OrderBefore(stream);
                            if (srcDevice) srcDevice->OrderBefore(stream);
                            cuda::CopyAsync(dstAddress, srcAddress, byteLength, stream);
                          },
                          std::move(resolveWith), {info.This(), dst.keepAlive, src.keepAlive});
  });
}

// memset(dst, offset, value, byteLength): device or pinned memory.
Napi::Value StreamWrap::Memset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    Operand dst = ResolveOperand(info[0], "dst", OperandKinds::kGpuVisible);
    const uint64_t offset = RequireByteCount(info[1], "offset");
    const int value = RequireInt32(info[2], "value");
    const uint64_t byteLength = RequireByteCount(info[3], "byteLength");
    RequireRange(dst, offset, byteLength, "dst");
    ResolveWith resolveWith;
    if (PinnedBufferWrap* copyingDst = dst.copyingPinned) {
      resolveWith = [copyingDst](Napi::Env env) -> Napi::Value {
        copyingDst->PinnedToMirror();
        return env.Undefined();
      };
    }
    uint8_t* address = dst.address + offset;
    return SubmitToStream(
        env, executor, "CudaStream.memset",
        [address, value, byteLength, owner = dst.owner, device = dst.deviceBuffer](cudaStream_t stream) {
          if (device) device->OrderBefore(stream);
          cuda::MemsetAsync(address, value & 0xff, byteLength, stream);
        },
        std::move(resolveWith), {info.This(), info[0]});
  });
}

Napi::Value StreamWrap::RecordEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    EventWrap* event = EventWrap::FromValue(info[0], "event");
    auto enqueued = std::make_shared<std::promise<void>>();
    std::shared_ptr<EventWrap::Record> record = event->NewRecord(enqueued);
    std::shared_ptr<DeferredError> deferred = deferredError_;
    executor->Submit(
        [record, enqueued](cudaStream_t stream) {
          // Fulfilled whatever happens, so that a stream waiting for this record never hangs.
          struct Fulfil {
            std::promise<void>& promise;
            ~Fulfil() { promise.set_value(); }
          } fulfil{*enqueued};
          record->event->Record(stream);
        },
        [deferred](std::exception_ptr error) { RememberError(*deferred, error); });
    event->SetLatest(std::move(record));  // only once accepted: an unaccepted record is never fulfilled
    return env.Undefined();
  });
}

Napi::Value StreamWrap::WaitEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    std::shared_ptr<EventWrap::Record> record = EventWrap::FromValue(info[0], "event")->latest();
    if (!record) return env.Undefined();  // as in CUDA: waiting for a never-recorded event waits for nothing
    std::shared_ptr<DeferredError> deferred = deferredError_;
    executor->Submit(
        [record](cudaStream_t stream) {
          record->enqueued.wait();  // the recording stream's submit thread got there (CPU side only)
          cuda::CudaCheck(cudaStreamWaitEvent(stream, record->event->get(), 0), "cudaStreamWaitEvent");
        },
        [deferred](std::exception_ptr error) { RememberError(*deferred, error); });
    return env.Undefined();
  });
}

// preprocessImage(dst, src, { batch, height, width, srcChannels, channelMap, alpha, beta, outputType })
Napi::Value StreamWrap::PreprocessImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    Operand dst = ResolveOperand(info[0], "dst", OperandKinds::kGpuVisible);
    Operand src = ResolveOperand(info[1], "src", OperandKinds::kGpuVisible);
    Napi::Object options = RequireObject(info[2], "options");
    cuda::ImagePreprocessParams params;
    params.batch = static_cast<int64_t>(RequireByteCount(options.Get("batch"), "options.batch"));
    params.height = static_cast<int64_t>(RequireByteCount(options.Get("height"), "options.height"));
    params.width = static_cast<int64_t>(RequireByteCount(options.Get("width"), "options.width"));
    params.srcChannels = RequireInt32(options.Get("srcChannels"), "options.srcChannels");
    if (params.srcChannels != 3 && params.srcChannels != 4) {
      throw NativeError("ERR_INVALID_ARGUMENT", "Expected 3 or 4 for options.srcChannels", ErrorKind::kRange);
    }
    Napi::Value channelMap = options.Get("channelMap");
    Napi::Value alpha = options.Get("alpha");
    Napi::Value beta = options.Get("beta");
    if (!channelMap.IsArray() || !alpha.IsArray() || !beta.IsArray()) {
      throw InvalidArgument("Expected arrays of 3 numbers for options.channelMap, options.alpha and options.beta");
    }
    for (uint32_t c = 0; c < 3; ++c) {
      params.channelMap[c] = RequireInt32(channelMap.As<Napi::Array>().Get(c), "options.channelMap[]");
      if (params.channelMap[c] < 0 || params.channelMap[c] >= params.srcChannels) {
        throw NativeError("ERR_INVALID_ARGUMENT", "Expected source channel indices for options.channelMap",
                          ErrorKind::kRange);
      }
      params.alpha[c] = RequireFloat(alpha.As<Napi::Array>().Get(c), "options.alpha[]");
      params.beta[c] = RequireFloat(beta.As<Napi::Array>().Get(c), "options.beta[]");
    }
    const std::string outputType = RequireString(options.Get("outputType"), "options.outputType");
    if (outputType != "float32" && outputType != "float16") {
      throw NativeError("ERR_INVALID_ARGUMENT", "Expected \"float32\" or \"float16\" for options.outputType",
                        ErrorKind::kRange);
    }
    params.outputType = outputType == "float16" ? cuda::ImageElementType::kFloat16 : cuda::ImageElementType::kFloat32;
    // Sizes in 64-bit: each dimension is a safe integer, but their product may not be.
    const auto pixels = CheckedByteSize(static_cast<uint64_t>(params.batch), static_cast<uint64_t>(params.height));
    const auto planePixels = pixels ? CheckedByteSize(*pixels, static_cast<uint64_t>(params.width)) : std::nullopt;
    const auto srcBytes = planePixels ? CheckedByteSize(*planePixels, params.srcChannels) : std::nullopt;
    const auto dstBytes =
        planePixels ? CheckedByteSize(*planePixels, params.outputType == cuda::ImageElementType::kFloat16 ? 6 : 12)
                    : std::nullopt;
    if (!srcBytes || !dstBytes) {
      throw NativeError("ERR_INVALID_ARGUMENT", "The image dimensions overflow", ErrorKind::kRange);
    }
    RequireRange(src, 0, *srcBytes, "src");
    RequireRange(dst, 0, *dstBytes, "dst");
    if (src.copyingPinned != nullptr) src.copyingPinned->MirrorToPinned();
    params.src = src.address;
    params.dst = dst.address;
    ResolveWith resolveWith;
    if (PinnedBufferWrap* copyingDst = dst.copyingPinned) {
      resolveWith = [copyingDst](Napi::Env env) -> Napi::Value {
        copyingDst->PinnedToMirror();
        return env.Undefined();
      };
    }
    return SubmitToStream(env, executor, "CudaStream.preprocessImage",
                          [params, dstOwner = dst.owner, srcOwner = src.owner, dstDevice = dst.deviceBuffer,
                           srcDevice = src.deviceBuffer](cudaStream_t stream) {
                            if (dstDevice) dstDevice->OrderBefore(stream);
                            if (srcDevice) srcDevice->OrderBefore(stream);
                            cuda::PreprocessImageAsync(params, stream);
                          },
                          std::move(resolveWith), {info.This(), info[0], info[1]});
  });
}

// convertFloat(dst, src, count, direction: 'float32-to-float16' | 'float16-to-float32')
Napi::Value StreamWrap::ConvertFloat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    Operand dst = ResolveOperand(info[0], "dst", OperandKinds::kGpuVisible);
    Operand src = ResolveOperand(info[1], "src", OperandKinds::kGpuVisible);
    const uint64_t count = RequireByteCount(info[2], "count");
    const std::string direction = RequireString(info[3], "direction");
    const bool toHalf = direction == "float32-to-float16";
    if (!toHalf && direction != "float16-to-float32") {
      throw NativeError("ERR_INVALID_ARGUMENT",
                        "Expected \"float32-to-float16\" or \"float16-to-float32\" for direction", ErrorKind::kRange);
    }
    const auto srcBytes = CheckedByteSize(count, toHalf ? 4 : 2);
    const auto dstBytes = CheckedByteSize(count, toHalf ? 2 : 4);
    if (!srcBytes || !dstBytes)
      throw NativeError("ERR_INVALID_ARGUMENT", "The element count overflows", ErrorKind::kRange);
    RequireRange(src, 0, *srcBytes, "src");
    RequireRange(dst, 0, *dstBytes, "dst");
    if (src.copyingPinned != nullptr) src.copyingPinned->MirrorToPinned();
    ResolveWith resolveWith;
    if (PinnedBufferWrap* copyingDst = dst.copyingPinned) {
      resolveWith = [copyingDst](Napi::Env env) -> Napi::Value {
        copyingDst->PinnedToMirror();
        return env.Undefined();
      };
    }
    return SubmitToStream(
        env, executor, "CudaStream.convertFloat",
        [toHalf, count, dstAddress = dst.address, srcAddress = src.address, dstOwner = dst.owner, srcOwner = src.owner,
         dstDevice = dst.deviceBuffer, srcDevice = src.deviceBuffer](cudaStream_t stream) {
          if (dstDevice) dstDevice->OrderBefore(stream);
          if (srcDevice) srcDevice->OrderBefore(stream);
          if (toHalf) {
            cuda::ConvertFloat32ToFloat16Async(reinterpret_cast<const float*>(srcAddress),
                                               reinterpret_cast<uint16_t*>(dstAddress), count, stream);
          } else {
            cuda::ConvertFloat16ToFloat32Async(reinterpret_cast<const uint16_t*>(srcAddress),
                                               reinterpret_cast<float*>(dstAddress), count, stream);
          }
        },
        std::move(resolveWith), {info.This(), info[0], info[1]});
  });
}

// benchmarkMemcpy(dst, src, byteLength, iterations) -> Promise<seconds>: the reference figure of
// scripts/gpu-check.mjs, i.e. what a C++ program gets from `iterations` plain synchronous
// cudaMemcpy calls of the same size. It runs on this stream's submit thread (blocking that thread,
// never the JS thread or a libuv pool thread), after one warm-up copy.
Napi::Value StreamWrap::BenchmarkMemcpy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<cuda::StreamExecutor> executor = Live(kStreamWhat);
    Operand dst = ResolveOperand(info[0], "dst", OperandKinds::kAny);
    Operand src = ResolveOperand(info[1], "src", OperandKinds::kAny);
    const uint64_t byteLength = RequireByteCount(info[2], "byteLength");
    const uint64_t iterations = RequireByteCount(info[3], "iterations");
    RequireRange(dst, 0, byteLength, "dst");
    RequireRange(src, 0, byteLength, "src");
    auto seconds = std::make_shared<double>(0);
    return SubmitToStream(
        env, executor, "CudaStream.benchmarkMemcpy",
        [seconds, byteLength, iterations, dstAddress = dst.address, srcAddress = src.address, dstOwner = dst.owner,
         srcOwner = src.owner](cudaStream_t) {
          cuda::CudaCheck(cudaMemcpy(dstAddress, srcAddress, byteLength, cudaMemcpyDefault), "cudaMemcpy");
          const auto start = std::chrono::steady_clock::now();
          for (uint64_t i = 0; i < iterations; ++i) {
            cuda::CudaCheck(cudaMemcpy(dstAddress, srcAddress, byteLength, cudaMemcpyDefault), "cudaMemcpy");
          }
          *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        },
        [seconds](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *seconds); },
        {info.This(), dst.keepAlive, src.keepAlive});
  });
}

Napi::Value StreamWrap::Dispose(const Napi::CallbackInfo& info) {
  Retire();
  return info.Env().Undefined();
}

Napi::Value StreamWrap::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }

Napi::Value StreamWrap::GetPriority(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), priority_); }

Napi::Value StreamWrap::GetInFlight(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), executor_ ? static_cast<double>(executor_->inFlight()) : 0);
}

Napi::Value StreamWrap::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !executor_);
}

}  // namespace trt_node::napi
