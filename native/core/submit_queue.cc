#include "core/submit_queue.h"

#include <utility>

#include "core/error.h"

namespace trt_node {

SubmitQueue::SubmitQueue(const std::string& name, MakeFence makeFence, SerialThread::Task onThreadStart)
    : makeFence_(std::move(makeFence)),
      completionThread_(name + "-done", onThreadStart),
      submitThread_(name + "-submit", onThreadStart) {}

SubmitQueue::~SubmitQueue() { Shutdown(); }

bool SubmitQueue::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

void SubmitQueue::Submit(Enqueue enqueue, Done done) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) throw NativeError("ERR_DISPOSED", "The stream was disposed and accepts no more work");
  inFlight_.fetch_add(1, std::memory_order_acq_rel);
  // Posting under the lock keeps submission order identical to Submit() order across callers.
  submitThread_.Post([this, enqueue = std::move(enqueue), done = std::move(done)]() mutable {
    std::exception_ptr error;
    try {
      enqueue();
    } catch (...) {
      error = std::current_exception();
    }
    // Fence even after a failed enqueue: part of the job may be on the GPU already.
    std::shared_ptr<Fence> fence;
    try {
      fence = makeFence_();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    completionThread_.Post([this, fence = std::move(fence), error, done = std::move(done)]() mutable {
      if (fence) {
        try {
          fence->Wait();
        } catch (...) {
          if (!error) error = std::current_exception();
        }
        fence.reset();  // return the event to its pool before reporting
      }
      try {
        done(error);
      } catch (...) {
      }
      done = nullptr;  // release what the job kept alive before it counts as finished
      inFlight_.fetch_sub(1, std::memory_order_acq_rel);
    });
  });
}

void SubmitQueue::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  // The completion thread may close only after the submit thread forwarded every job to it.
  submitThread_.Post([this] { completionThread_.Close(); });
  submitThread_.Close();
}

void SubmitQueue::Shutdown() {
  Close();
  submitThread_.Join();
  completionThread_.Join();
}

}  // namespace trt_node
