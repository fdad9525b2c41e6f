#include "cuda/stream_executor.h"

#include <chrono>
#include <string>
#include <utility>

#include "cuda/cuda_error.h"
#include "cuda/device.h"
#include "cuda/device_health.h"

namespace trt_node::cuda {

// Completion events are reused: creating one per job would cost more than the job itself for the
// small operations whose latency matters most.
class StreamExecutor::EventPool {
 public:
  EventPool() = default;
  ~EventPool() {
    for (cudaEvent_t event : free_) cudaEventDestroy(event);
    cudaGetLastError();
  }
  EventPool(const EventPool&) = delete;
  EventPool& operator=(const EventPool&) = delete;

  cudaEvent_t Take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        cudaEvent_t event = free_.back();
        free_.pop_back();
        return event;
      }
    }
    cudaEvent_t event = nullptr;
    CudaCheck(cudaEventCreateWithFlags(&event, cudaEventDisableTiming | cudaEventBlockingSync),
              "cudaEventCreateWithFlags");
    return event;
  }

  void Return(cudaEvent_t event) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(event);
  }

 private:
  std::mutex mutex_;
  std::vector<cudaEvent_t> free_;
};

class StreamExecutor::EventFence final : public SubmitQueue::Fence {
 public:
  EventFence(std::shared_ptr<EventPool> pool, cudaStream_t stream) : pool_(std::move(pool)), event_(pool_->Take()) {
    const cudaError_t status = cudaEventRecord(event_, stream);
    if (status != cudaSuccess) {
      pool_->Return(event_);
      event_ = nullptr;
      throw CudaFailure(status, "cudaEventRecord");
    }
  }
  ~EventFence() override {
    if (event_ != nullptr) pool_->Return(event_);
  }

  void Wait() override {
    const auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(kDefaultSpinMicroseconds);
    for (;;) {
      const cudaError_t status = cudaEventQuery(event_);
      if (status == cudaSuccess) return;
      if (status != cudaErrorNotReady) throw CudaFailure(status, "The GPU work submitted to this stream");
      if (std::chrono::steady_clock::now() >= spinUntil) break;
    }
    cudaGetLastError();  // cudaErrorNotReady is not an error worth keeping
    const cudaError_t status = cudaEventSynchronize(event_);
    if (status != cudaSuccess) throw CudaFailure(status, "The GPU work submitted to this stream");
  }

 private:
  std::shared_ptr<EventPool> pool_;
  cudaEvent_t event_;
};

StreamExecutor::StreamExecutor(int device, int priority)
    : stream_(std::make_shared<Stream>(device, priority)),
      events_(std::make_shared<EventPool>()),
      queue_(
          "trt-stream",
          [events = events_, stream = stream_->get()]() -> std::unique_ptr<SubmitQueue::Fence> {
            return std::make_unique<EventFence>(events, stream);
          },
          [device] { SelectDevice(device); }) {}

StreamExecutor::~StreamExecutor() { queue_.Shutdown(); }

void StreamExecutor::Submit(Enqueue enqueue, Done done) {
  RequireUsableDevice(device());  // a lost device gets no more work: fail fast, with the reason
  queue_.Submit([stream = stream_->get(), enqueue = std::move(enqueue)] { enqueue(stream); }, std::move(done));
}

}  // namespace trt_node::cuda
