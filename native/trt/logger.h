// The ILogger every TensorRT object of this process is created with. TensorRT calls it from any of
// its threads, so it must be thread-safe, must never block for long and must outlive every object
// created with it: it is a process-wide object that is never destroyed.
//
// Messages go three ways (each tagged with the thread's ScopedLogTarget, so that a message TensorRT
// logs while it works for one execution context can reach that context's own logger):
//   - to a sink (set by the N-API layer: a non-blocking thread-safe call into the user's `logger`
//     callback), filtered by a severity threshold;
//   - into every active Capture on the logging thread, so a failing operation can report every
//     message TensorRT logged while it ran;
//   - into a small ring of recent errors, for failures TensorRT reports from its own threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "trt/api.h"

namespace trt_node::trt {

using Severity = nvinfer1::ILogger::Severity;

struct LogMessage {
  Severity severity;
  std::string text;
};

class Logger final : public nvinfer1::ILogger {
 public:
  static Logger& Instance();

  void log(Severity severity, nvinfer1::AsciiChar const* message) noexcept override;

  // Messages at or above this severity (kINTERNAL_ERROR is the most severe) reach the sink.
  void setSinkThreshold(Severity threshold) noexcept { sinkThreshold_.store(static_cast<int>(threshold)); }
  // The sink must not block; it is called on TensorRT's threads. An empty function removes it.
  void setSink(std::function<void(Severity, const std::string&)> sink);

  // Collects messages (warnings and worse by default) logged on this thread while alive. With
  // `unattributedThreads`, also those logged meanwhile on threads that have no capture of their own:
  // TensorRT's internal threads (the builder's workers log the reason a build failed from there).
  // Two such captures alive at once (two concurrent builds) both receive those messages: TensorRT
  // does not say which build a thread of its own works for.
  class Capture {
   public:
    explicit Capture(Severity threshold = Severity::kWARNING, bool unattributedThreads = false);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;
    std::vector<std::string> messages() const;

   private:
    friend class Logger;
    void add(Severity severity, const std::string& text);
    Severity threshold_;
    bool unattributedThreads_;
    Capture* outer_;
    mutable std::mutex mutex_;
    std::vector<std::string> messages_;
  };

  // The most recent error messages from any thread (bounded).
  std::vector<std::string> recentErrors() const;

  static const char* SeverityName(Severity severity) noexcept;

  // Tags messages logged on this thread while alive with `target` (an execution context's id; 0 is
  // "no one in particular"). Sinks read it with CurrentTarget() on the logging thread.
  class ScopedTarget {
   public:
    explicit ScopedTarget(uint64_t target);
    ~ScopedTarget();
    ScopedTarget(const ScopedTarget&) = delete;
    ScopedTarget& operator=(const ScopedTarget&) = delete;

   private:
    uint64_t previous_;
  };
  static uint64_t CurrentTarget() noexcept;

 private:
  Logger() = default;

  std::atomic<int> sinkThreshold_{static_cast<int>(Severity::kWARNING)};
  std::mutex sinkMutex_;
  std::function<void(Severity, const std::string&)> sink_;
  mutable std::mutex recentMutex_;
  std::deque<std::string> recentErrors_;
  std::mutex unattributedMutex_;
  std::vector<Capture*> unattributedCaptures_;
};

}  // namespace trt_node::trt
