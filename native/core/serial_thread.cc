#include "core/serial_thread.h"

#include <pthread.h>

#include <utility>

namespace trt_node {

SerialThread::SerialThread(std::string name, Task onStart)
    : thread_([this, name = std::move(name), onStart = std::move(onStart)] { Run(name, onStart); }) {}

SerialThread::~SerialThread() { Join(); }

bool SerialThread::Post(Task&& task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void SerialThread::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  wake_.notify_one();
}

void SerialThread::Join() {
  Close();
  std::call_once(joined_, [this] {
    if (thread_.joinable()) thread_.join();
  });
}

void SerialThread::Run(const std::string& name, const Task& onStart) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  if (onStart) {
    try {
      onStart();
    } catch (...) {
      // Documented as non-throwing; a failure here resurfaces in the first task that needs it.
    }
  }
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return closed_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // closed and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (...) {
    }
  }
}

}  // namespace trt_node
