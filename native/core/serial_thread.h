// One native thread that runs posted tasks in order. The building block of the completion machinery
// (submit and completion threads per CUDA stream) and of the releaser thread that runs frees which
// may block (cudaFreeHost synchronizes the device): none of them may run on the JS thread or park a
// libuv pool thread. Plain C++: no CUDA, no napi.h.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace trt_node {

class SerialThread {
 public:
  using Task = std::function<void()>;

  // `name` shows in `top -H` and debuggers (at most 15 characters are kept). `onStart` runs first on
  // the new thread (e.g. cudaSetDevice: the current device is per thread); it must not throw.
  explicit SerialThread(std::string name, Task onStart = nullptr);
  // Runs what is queued, then joins (see Join()).
  ~SerialThread();

  SerialThread(const SerialThread&) = delete;
  SerialThread& operator=(const SerialThread&) = delete;
  SerialThread(SerialThread&&) = delete;
  SerialThread& operator=(SerialThread&&) = delete;

  // Queues `task` (moved from only when accepted); false once Close() was called, leaving `task`
  // with the caller. Tasks must not throw: a throwing task is caught so that the thread keeps
  // serving the ones behind it.
  bool Post(Task&& task);
  // No new tasks; the queued ones still run, then the thread ends. Non-blocking, idempotent.
  void Close();
  // Close(), then wait until the thread has ended. Never call it from this thread's own tasks.
  void Join();
  bool IsCurrentThread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void Run(const std::string& name, const Task& onStart);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  bool closed_ = false;
  std::once_flag joined_;
  std::thread thread_;  // last: starts once every other member exists
};

}  // namespace trt_node
