// Streams, events and host functions of the emulated runtime.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "emulated/cuda/event.h"
#include "emulated/cuda/state.h"
#include "emulated/cuda/stream.h"

using trt_node::emulated::CreateEvent;
using trt_node::emulated::CreateStream;
using trt_node::emulated::CurrentThread;
using trt_node::emulated::Enter;
using trt_node::emulated::FindEvent;
using trt_node::emulated::FindStream;
using trt_node::emulated::Operation;
using trt_node::emulated::OperationContext;
using trt_node::emulated::Runtime;
using trt_node::emulated::UseContext;

namespace {

// Sync calls on a capturing stream are illegal and end the capture's chances, as in CUDA.
bool RefuseCapturing(const std::shared_ptr<CUstream_st>& stream) {
  if (stream->captureStatus() == cudaStreamCaptureStatusNone) return false;
  stream->InvalidateCapture();
  return true;
}

}  // namespace

cudaError_t CUDARTAPI cudaStreamCreateWithPriority(cudaStream_t* pStream, unsigned int flags, int priority) {
  return Enter("cudaStreamCreateWithPriority", [&] {
    if (pStream == nullptr) return cudaErrorInvalidValue;
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    // Out-of-range priorities are clamped, as CUDA does.
    *pStream = CreateStream(CurrentThread().device, std::clamp(priority, -5, 0), flags).get();
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
  return cudaStreamCreateWithPriority(pStream, flags, 0);
}

cudaError_t CUDARTAPI cudaStreamCreate(cudaStream_t* pStream) {
  return cudaStreamCreateWithPriority(pStream, cudaStreamDefault, 0);
}

// Returns at once; the stream's queued work still runs to the end, as in CUDA.
cudaError_t CUDARTAPI cudaStreamDestroy(cudaStream_t stream) {
  return Enter("cudaStreamDestroy", [&] {
    if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread) {
      return cudaErrorInvalidResourceHandle;
    }
    if (std::shared_ptr<CUstream_st> found = FindStream(stream)) found->InvalidateCapture();
    return trt_node::emulated::DestroyStream(stream) ? cudaSuccess : cudaErrorInvalidResourceHandle;
  });
}

cudaError_t CUDARTAPI cudaStreamSynchronize(cudaStream_t hStream) {
  return Enter("cudaStreamSynchronize", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (RefuseCapturing(stream)) return cudaErrorStreamCaptureUnsupported;
    return stream->Synchronize();
  });
}

cudaError_t CUDARTAPI cudaStreamQuery(cudaStream_t hStream) {
  return Enter("cudaStreamQuery", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (RefuseCapturing(stream)) return cudaErrorStreamCaptureUnsupported;
    return stream->Query();
  });
}

cudaError_t CUDARTAPI cudaStreamGetPriority(cudaStream_t hStream, int* priority) {
  return Enter("cudaStreamGetPriority", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream || priority == nullptr) return stream ? cudaErrorInvalidValue : cudaErrorInvalidResourceHandle;
    *priority = stream->priority();
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaStreamGetFlags(cudaStream_t hStream, unsigned int* flags) {
  return Enter("cudaStreamGetFlags", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream || flags == nullptr) return stream ? cudaErrorInvalidValue : cudaErrorInvalidResourceHandle;
    *flags = stream->flags();
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaStreamGetDevice(cudaStream_t hStream, int* device) {
  return Enter("cudaStreamGetDevice", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream || device == nullptr) return stream ? cudaErrorInvalidValue : cudaErrorInvalidResourceHandle;
    *device = stream->device();
    return cudaSuccess;
  });
}

// The function runs on the stream's worker, in stream order. CUDA calls from it are refused
// (cudaErrorNotPermitted), as CUDA forbids them.
cudaError_t CUDARTAPI cudaLaunchHostFunc(cudaStream_t hStream, cudaHostFn_t fn, void* userData) {
  return Enter("cudaLaunchHostFunc", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (fn == nullptr) return cudaErrorInvalidValue;
    if (cudaError_t sticky = Runtime::Get().device(stream->device()).sticky(); sticky != cudaSuccess) return sticky;
    auto operation = std::make_shared<Operation>();
    operation->name = "cudaLaunchHostFunc";
    operation->run = [fn, userData](const OperationContext& context) {
      Runtime::Get().device(context.device).hostFunctionsExecuted.fetch_add(1);
      auto& thread = CurrentThread();
      thread.inHostFunction = true;
      fn(userData);
      thread.inHostFunction = false;
      return cudaSuccess;
    };
    return stream->Submit(std::move(operation));
  });
}

// ------------------------------------------------------------------------------------------------
// Events
// ------------------------------------------------------------------------------------------------

cudaError_t CUDARTAPI cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  return Enter("cudaEventCreateWithFlags", [&] {
    if (event == nullptr) return cudaErrorInvalidValue;
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    *event = CreateEvent(CurrentThread().device, flags).get();
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

// Returns at once; a record still pending completes as if nothing happened, as in CUDA.
cudaError_t CUDARTAPI cudaEventDestroy(cudaEvent_t event) {
  return Enter("cudaEventDestroy",
               [&] { return trt_node::emulated::DestroyEvent(event) ? cudaSuccess : cudaErrorInvalidResourceHandle; });
}

cudaError_t CUDARTAPI cudaEventRecord(cudaEvent_t hEvent, cudaStream_t hStream) {
  return Enter("cudaEventRecord", [&] {
    std::shared_ptr<CUevent_st> event = FindEvent(hEvent);
    if (!event) return cudaErrorInvalidResourceHandle;
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    // Cross-stream capture (fork/join through events) is not emulated: the capture fails instead.
    if (RefuseCapturing(stream)) return cudaErrorStreamCaptureUnsupported;
    const uint64_t generation = event->NextRecord();
    auto operation = std::make_shared<Operation>();
    operation->name = "cudaEventRecord";
    operation->work = false;
    operation->runsOnPoisonedDevice = true;
    std::weak_ptr<CUstream_st> weakStream = stream;
    operation->run = [event, generation, weakStream](const OperationContext& context) {
      cudaError_t error = Runtime::Get().device(context.device).sticky();
      if (error == cudaSuccess) {
        if (auto owner = weakStream.lock()) error = owner->TakePendingError();
      }
      event->Complete(generation, error);
      return cudaSuccess;
    };
    return stream->Submit(std::move(operation));
  });
}

cudaError_t CUDARTAPI cudaStreamWaitEvent(cudaStream_t hStream, cudaEvent_t hEvent, unsigned int flags) {
  return Enter("cudaStreamWaitEvent", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    std::shared_ptr<CUevent_st> event = FindEvent(hEvent);
    if (!event) return cudaErrorInvalidResourceHandle;
    if (RefuseCapturing(stream)) return cudaErrorStreamCaptureUnsupported;
    const uint64_t generation = event->recorded();  // binds to the latest record made before this call
    if (generation == 0) return cudaSuccess;        // never recorded: nothing to wait for
    auto operation = std::make_shared<Operation>();
    operation->name = "cudaStreamWaitEvent";
    operation->work = false;
    operation->run = [event, generation](const OperationContext&) {
      event->Wait(generation);
      return cudaSuccess;
    };
    return stream->Submit(std::move(operation));
  });
}

cudaError_t CUDARTAPI cudaEventQuery(cudaEvent_t hEvent) {
  return Enter("cudaEventQuery", [&] {
    std::shared_ptr<CUevent_st> event = FindEvent(hEvent);
    if (!event) return cudaErrorInvalidResourceHandle;
    return event->Query();
  });
}

cudaError_t CUDARTAPI cudaEventSynchronize(cudaEvent_t hEvent) {
  return Enter("cudaEventSynchronize", [&] {
    std::shared_ptr<CUevent_st> event = FindEvent(hEvent);
    if (!event) return cudaErrorInvalidResourceHandle;
    return event->Wait(event->recorded());
  });
}

cudaError_t CUDARTAPI cudaEventElapsedTime(float* ms, cudaEvent_t hStart, cudaEvent_t hEnd) {
  return Enter("cudaEventElapsedTime", [&] {
    if (ms == nullptr) return cudaErrorInvalidValue;
    std::shared_ptr<CUevent_st> start = FindEvent(hStart);
    std::shared_ptr<CUevent_st> end = FindEvent(hEnd);
    if (!start || !end || !start->timing() || !end->timing()) return cudaErrorInvalidResourceHandle;
    if (start->recorded() == 0 || end->recorded() == 0) return cudaErrorInvalidResourceHandle;
    if (cudaError_t status = start->Query(); status != cudaSuccess) return status;
    if (cudaError_t status = end->Query(); status != cudaSuccess) return status;
    std::chrono::steady_clock::time_point startTime;
    std::chrono::steady_clock::time_point endTime;
    if (!start->CompletedAt(&startTime) || !end->CompletedAt(&endTime)) return cudaErrorNotReady;
    *ms = std::chrono::duration<float, std::milli>(endTime - startTime).count();
    return cudaSuccess;
  });
}
