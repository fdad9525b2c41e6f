#include "emulated/cuda/stream.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <map>

#include "emulated/cuda/state.h"

using trt_node::emulated::CurrentThread;
using trt_node::emulated::DeviceState;
using trt_node::emulated::GraphBody;
using trt_node::emulated::IsSticky;
using trt_node::emulated::Operation;
using trt_node::emulated::OperationContext;
using trt_node::emulated::OperationPtr;
using trt_node::emulated::Runtime;

namespace {

std::atomic<uint64_t> nextStreamId{1};

}  // namespace

CUstream_st::CUstream_st(int device, int priority, unsigned flags, bool legacy)
    : device_(device), priority_(priority), flags_(flags), legacy_(legacy), id_(nextStreamId.fetch_add(1)) {
  Runtime::Get().device(device_).liveStreams.fetch_add(1);
}

CUstream_st::~CUstream_st() { Runtime::Get().device(device_).liveStreams.fetch_sub(1); }

void CUstream_st::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) return;
  started_ = true;
  // Detached, holding the stream: CUDA lets a destroyed stream finish its work, and the worker is the
  // one that knows when that is. The runtime is immortal, so nothing it uses goes away under it.
  std::thread([self = shared_from_this()] { self->Run(); }).detach();
}

cudaError_t CUstream_st::Submit(OperationPtr operation) { return SubmitAll({std::move(operation)}); }

cudaError_t CUstream_st::SubmitAll(const std::vector<OperationPtr>& operations) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (captureStatus_ == cudaStreamCaptureStatusActive) {
      capture_->nodes.insert(capture_->nodes.end(), operations.begin(), operations.end());
      return cudaSuccess;
    }
    if (captureStatus_ == cudaStreamCaptureStatusInvalidated) return cudaErrorStreamCaptureInvalidated;
    if (closed_) return cudaErrorInvalidResourceHandle;
    for (const OperationPtr& operation : operations) queue_.push_back(operation);
    submitted_ += operations.size();
  }
  wake_.notify_one();
  return cudaSuccess;
}

void CUstream_st::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  wake_.notify_one();
}

uint64_t CUstream_st::submitted() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return submitted_;
}

int64_t CUstream_st::executed() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(executed_);
}

void CUstream_st::WaitFor(uint64_t mark) {
  std::unique_lock<std::mutex> lock(mutex_);
  drained_.wait(lock, [&] { return executed_ >= mark; });
}

cudaError_t CUstream_st::TakePendingError() {
  std::lock_guard<std::mutex> lock(mutex_);
  const cudaError_t error = pendingError_;
  pendingError_ = cudaSuccess;
  return error;
}

cudaError_t CUstream_st::Synchronize() {
  WaitFor(submitted());
  if (cudaError_t sticky = Runtime::Get().device(device_).sticky(); sticky != cudaSuccess) return sticky;
  return TakePendingError();
}

cudaError_t CUstream_st::Query() {
  if (cudaError_t sticky = Runtime::Get().device(device_).sticky(); sticky != cudaSuccess) return sticky;
  std::lock_guard<std::mutex> lock(mutex_);
  if (executed_ < submitted_) return cudaErrorNotReady;
  const cudaError_t error = pendingError_;
  pendingError_ = cudaSuccess;
  return error;
}

cudaError_t CUstream_st::BeginCapture(cudaStreamCaptureMode mode) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (legacy_) return cudaErrorStreamCaptureUnsupported;  // the legacy stream cannot be captured
  if (captureStatus_ != cudaStreamCaptureStatusNone) return cudaErrorIllegalState;
  captureStatus_ = cudaStreamCaptureStatusActive;
  captureMode_ = mode;
  captureThread_ = std::this_thread::get_id();
  capture_ = std::make_shared<GraphBody>();
  capture_->device = device_;
  if (mode != cudaStreamCaptureModeRelaxed) CurrentThread().captures.push_back(weak_from_this());
  return cudaSuccess;
}

cudaError_t CUstream_st::EndCapture(std::shared_ptr<GraphBody>* graph) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (captureStatus_ == cudaStreamCaptureStatusNone) return cudaErrorIllegalState;
  if (captureMode_ != cudaStreamCaptureModeRelaxed) {
    if (captureThread_ != std::this_thread::get_id()) return cudaErrorStreamCaptureWrongThread;
    std::erase_if(CurrentThread().captures, [this](const std::weak_ptr<CUstream_st>& capture) {
      auto stream = capture.lock();
      return !stream || stream.get() == this;
    });
  }
  const bool invalidated = captureStatus_ == cudaStreamCaptureStatusInvalidated;
  captureStatus_ = cudaStreamCaptureStatusNone;
  std::shared_ptr<GraphBody> captured = std::move(capture_);
  if (invalidated) {
    *graph = nullptr;
    return cudaErrorStreamCaptureInvalidated;
  }
  *graph = std::move(captured);
  return cudaSuccess;
}

cudaStreamCaptureStatus CUstream_st::captureStatus() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return captureStatus_;
}

void CUstream_st::InvalidateCapture() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (captureStatus_ == cudaStreamCaptureStatusActive) captureStatus_ = cudaStreamCaptureStatusInvalidated;
}

void CUstream_st::Run() {
  const std::string name = "emu-stream-" + std::to_string(id_);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  // The worker acts for the device: runtime calls it makes (none should) see that device.
  CurrentThread().device = device_;
  for (;;) {
    OperationPtr operation;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closed and drained
      operation = std::move(queue_.front());
      queue_.pop_front();
    }
    Execute(*operation);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++executed_;
    }
    drained_.notify_all();
  }
}

void CUstream_st::Execute(const Operation& operation) {
  DeviceState& device = Runtime::Get().device(device_);
  const OperationContext context{device_, id_};
  cudaError_t status = cudaSuccess;
  if (device.sticky() != cudaSuccess) {
    // A poisoned device runs nothing more; only bookkeeping completes (reporting the error).
    if (operation.runsOnPoisonedDevice) operation.run(context);
    return;
  }
  if (operation.work) {
    status = device.CountOperation();
    if (status != cudaSuccess) {
      const std::string why = "injected failure of " + operation.name + " on stream " + std::to_string(id_);
      if (IsSticky(status)) device.Poison(status, why);
    } else {
      if (const int64_t latency = Runtime::Get().latencyMicroseconds(); latency > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(latency));
      }
      status = operation.run(context);
    }
  } else {
    status = operation.run(context);
  }
  if (status != cudaSuccess && !IsSticky(status)) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pendingError_ == cudaSuccess) pendingError_ = status;
  }
}

namespace trt_node::emulated {
namespace {

struct StreamRegistry {
  std::mutex mutex;
  std::map<CUstream_st*, std::shared_ptr<CUstream_st>> streams;
  std::shared_ptr<CUstream_st> legacy[kMaxDevices];
};

StreamRegistry& Registry() {
  static StreamRegistry* registry = new StreamRegistry();  // immortal, like the runtime
  return *registry;
}

}  // namespace

std::shared_ptr<CUstream_st> CreateStream(int device, int priority, unsigned flags) {
  auto stream = std::make_shared<CUstream_st>(device, priority, flags, false);
  stream->Start();
  StreamRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.streams[stream.get()] = stream;
  Runtime::Get().NoteResourceCreated();
  return stream;
}

std::shared_ptr<CUstream_st> FindStream(cudaStream_t handle) {
  StreamRegistry& registry = Registry();
  if (handle == nullptr || handle == cudaStreamLegacy || handle == cudaStreamPerThread) {
    const int device = CurrentThread().device;
    if (!Runtime::Get().ValidDevice(device)) return nullptr;
    std::lock_guard<std::mutex> lock(registry.mutex);
    std::shared_ptr<CUstream_st>& legacy = registry.legacy[device];
    if (!legacy) {
      legacy = std::make_shared<CUstream_st>(device, 0, 0, true);
      legacy->Start();
      Runtime::Get().NoteResourceCreated();
    }
    return legacy;
  }
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto found = registry.streams.find(handle);
  return found == registry.streams.end() ? nullptr : found->second;
}

bool DestroyStream(cudaStream_t handle) {
  std::shared_ptr<CUstream_st> stream;
  {
    StreamRegistry& registry = Registry();
    std::lock_guard<std::mutex> lock(registry.mutex);
    auto found = registry.streams.find(handle);
    if (found == registry.streams.end()) return false;
    stream = std::move(found->second);
    registry.streams.erase(found);
  }
  stream->Close();  // returns at once; the worker finishes the queued work, as CUDA does
  return true;
}

std::vector<std::shared_ptr<CUstream_st>> StreamsOf(int device) {
  StreamRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  std::vector<std::shared_ptr<CUstream_st>> streams;
  for (const auto& [handle, stream] : registry.streams) {
    if (device < 0 || stream->device() == device) streams.push_back(stream);
  }
  for (int index = 0; index < kMaxDevices; ++index) {
    if (registry.legacy[index] && (device < 0 || index == device)) streams.push_back(registry.legacy[index]);
  }
  return streams;
}

cudaError_t RefuseDuringCapture() {
  auto& captures = CurrentThread().captures;
  bool refused = false;
  for (const auto& capture : captures) {
    if (auto stream = capture.lock()) {
      stream->InvalidateCapture();
      refused = true;
    }
  }
  return refused ? cudaErrorStreamCaptureUnsupported : cudaSuccess;
}

cudaError_t SynchronizeDevice(int device) {
  std::vector<std::pair<std::shared_ptr<CUstream_st>, uint64_t>> marks;
  for (auto& stream : StreamsOf(device)) {
    const uint64_t mark = stream->submitted();
    marks.emplace_back(std::move(stream), mark);
  }
  for (auto& [stream, mark] : marks) stream->WaitFor(mark);
  if (device >= 0) return Runtime::Get().device(device).sticky();
  return cudaSuccess;
}

}  // namespace trt_node::emulated
