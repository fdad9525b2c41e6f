// The JavaScript face of the CUDA layer: StreamWrap, EventWrap, PinnedBufferWrap, DeviceBufferWrap
// (lib/cuda.ts and lib/tensor.ts wrap them in CudaStream, CudaEvent and Tensor). Each wrap is
// type-tagged, reports its memory to V8, frees deterministically in dispose() (idempotent; later
// calls throw ERR_DISPOSED) and falls back to its finalizer. Native memory is shared with in-flight
// jobs, so disposing while the GPU still uses a buffer only frees it once that work completed.
#pragma once

#include <napi.h>

#include <cstdint>
#include <future>
#include <memory>
#include <mutex>

#include "core/serial_thread.h"
#include "cuda/buffers.h"
#include "cuda/event.h"
#include "cuda/stream_executor.h"

namespace trt_node::napi {

// Registers the classes and device functions (cudaDeviceCount, cudaDevice, ...) on `exports`.
void RegisterCuda(Napi::Env env, Napi::Object exports);

class StreamWrap final : public Napi::ObjectWrap<StreamWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // The executor behind a StreamWrap argument; throws ERR_INVALID_ARGUMENT or ERR_DISPOSED naming `what`.
  static std::shared_ptr<cuda::StreamExecutor> ExecutorOf(const Napi::Value& value, const char* what);

  explicit StreamWrap(const Napi::CallbackInfo& info);  // (device, priority)
  ~StreamWrap() override;

 private:
  // Errors of jobs that return no promise (event record/wait), reported by the next synchronize().
  struct DeferredError {
    std::mutex mutex;
    std::exception_ptr first;
  };

  static void RememberError(DeferredError& deferred, std::exception_ptr error);
  std::shared_ptr<cuda::StreamExecutor> Live(const char* what) const;
  Napi::Value Synchronize(const Napi::CallbackInfo& info);
  Napi::Value Copy(const Napi::CallbackInfo& info);
  Napi::Value Memset(const Napi::CallbackInfo& info);
  Napi::Value RecordEvent(const Napi::CallbackInfo& info);
  Napi::Value WaitEvent(const Napi::CallbackInfo& info);
  Napi::Value PreprocessImage(const Napi::CallbackInfo& info);
  Napi::Value ConvertFloat(const Napi::CallbackInfo& info);
  Napi::Value BenchmarkMemcpy(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetPriority(const Napi::CallbackInfo& info);
  Napi::Value GetInFlight(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  void Retire();

  int device_ = 0;
  int priority_ = 0;
  std::shared_ptr<cuda::StreamExecutor> executor_;  // null once disposed
  std::shared_ptr<DeferredError> deferredError_ = std::make_shared<DeferredError>();
  std::weak_ptr<SerialThread> releaser_;
};

class EventWrap final : public Napi::ObjectWrap<EventWrap> {
 public:
  // One record() of a JS event. Each record gets a CUDA event of its own, and `enqueued` becomes
  // ready once the recording stream's submit thread has called cudaEventRecord. A stream told to
  // wait for the event captures the latest record at call time and, on its own submit thread,
  // first waits for `enqueued`: CUDA binds cudaStreamWaitEvent to the record made before it, and
  // with one submit thread per stream "before" must be enforced. The wait is for the other
  // thread's enqueue only (microseconds), never for the GPU; since records precede the waits that
  // name them in JS submission order, these waits cannot form a cycle.
  struct Record {
    std::shared_ptr<cuda::Event> event;
    std::shared_future<void> enqueued;
  };

  static Napi::Function Define(Napi::Env env);
  static EventWrap* FromValue(const Napi::Value& value, const char* what);  // throws unless a live EventWrap
  explicit EventWrap(const Napi::CallbackInfo& info);                       // (device, timing)

  int device() const noexcept { return device_; }
  // A new record, to be recorded by the job that fulfils `enqueued` (see StreamWrap::RecordEvent).
  std::shared_ptr<Record> NewRecord(std::shared_ptr<std::promise<void>> enqueued);
  void SetLatest(std::shared_ptr<Record> record) { latest_ = std::move(record); }
  const std::shared_ptr<Record>& latest() const noexcept { return latest_; }

 private:
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value ElapsedTime(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);

  int device_ = 0;
  bool timing_ = true;
  bool disposed_ = false;
  std::shared_ptr<Record> latest_;  // null until recorded
};

class PinnedBufferWrap final : public Napi::ObjectWrap<PinnedBufferWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static PinnedBufferWrap* FromValue(const Napi::Value& value);  // nullptr when not a PinnedBufferWrap
  std::shared_ptr<cuda::PinnedBuffer> Live(const char* what) const;

  // Copying mode (external buffers refused by this runtime): JS reads and writes a mirror in the V8
  // heap, copied into the pinned memory before a job reads it and back after a job wrote it.
  bool copying() const { return !mirror_.IsEmpty(); }
  void MirrorToPinned();
  void PinnedToMirror();

  explicit PinnedBufferWrap(const Napi::CallbackInfo& info);  // (byteLength, forceCopying?)
  ~PinnedBufferWrap() override;

 private:
  // What keeps the pinned memory alive for the external ArrayBuffer. dispose() empties it after
  // detaching the ArrayBuffer, so the memory goes even if JS still holds the (now empty) view.
  struct ExternalHold {
    std::shared_ptr<cuda::PinnedBuffer> buffer;
  };
  static void FinalizeExternal(napi_env env, void* data, void* hint);

  Napi::Value ArrayBuffer(const Napi::CallbackInfo& info);
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value GetByteLength(const Napi::CallbackInfo& info);
  Napi::Value GetZeroCopy(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  void Release(Napi::Env env);

  size_t byteLength_ = 0;
  std::shared_ptr<cuda::PinnedBuffer> buffer_;  // null once disposed
  std::shared_ptr<ExternalHold> hold_ = std::make_shared<ExternalHold>();
  Napi::Reference<Napi::ArrayBuffer> external_;  // weak: the zero-copy ArrayBuffer, while it lives
  Napi::Reference<Napi::ArrayBuffer> mirror_;    // strong: the copying-mode ArrayBuffer
};

class DeviceBufferWrap final : public Napi::ObjectWrap<DeviceBufferWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static DeviceBufferWrap* FromValue(const Napi::Value& value);  // nullptr when not a DeviceBufferWrap
  // The buffer behind a DeviceBufferWrap argument (for binding it as a TensorRT input or output).
  static std::shared_ptr<cuda::DeviceBuffer> BufferOf(const Napi::Value& value, const char* what);
  std::shared_ptr<cuda::DeviceBuffer> Live(const char* what) const;

  explicit DeviceBufferWrap(const Napi::CallbackInfo& info);  // (byteLength, device, stream?)
  ~DeviceBufferWrap() override;

 private:
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value GetByteLength(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  void Release(Napi::Env env);

  size_t byteLength_ = 0;
  int device_ = 0;
  std::shared_ptr<cuda::DeviceBuffer> buffer_;  // null once disposed
};

}  // namespace trt_node::napi
