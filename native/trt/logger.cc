#include "trt/logger.h"

#include <algorithm>

namespace trt_node::trt {
namespace {

thread_local Logger::Capture* currentCapture = nullptr;
thread_local uint64_t currentTarget = 0;
constexpr size_t kRecentErrorLimit = 32;

}  // namespace

Logger& Logger::Instance() {
  // Never destroyed: TensorRT objects released during process exit may still log.
  static auto* logger = new Logger();
  return *logger;
}

const char* Logger::SeverityName(Severity severity) noexcept {
  switch (severity) {
    case Severity::kINTERNAL_ERROR:
      return "internal-error";
    case Severity::kERROR:
      return "error";
    case Severity::kWARNING:
      return "warning";
    case Severity::kINFO:
      return "info";
    case Severity::kVERBOSE:
      break;
  }
  return "verbose";
}

void Logger::setSink(std::function<void(Severity, const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(sinkMutex_);
  sink_ = std::move(sink);
}

void Logger::log(Severity severity, nvinfer1::AsciiChar const* message) noexcept {
  try {
    const std::string text = message != nullptr ? message : "";
    for (Capture* capture = currentCapture; capture != nullptr; capture = capture->outer_) capture->add(severity, text);
    if (currentCapture == nullptr) {
      std::lock_guard<std::mutex> lock(unattributedMutex_);
      for (Capture* capture : unattributedCaptures_) capture->add(severity, text);
    }
    if (static_cast<int>(severity) <= static_cast<int>(Severity::kERROR)) {
      std::lock_guard<std::mutex> lock(recentMutex_);
      recentErrors_.push_back(text);
      if (recentErrors_.size() > kRecentErrorLimit) recentErrors_.pop_front();
    }
    if (static_cast<int>(severity) <= sinkThreshold_.load()) {
      std::lock_guard<std::mutex> lock(sinkMutex_);
      if (sink_) sink_(severity, text);
    }
  } catch (...) {
    // A logger must never throw into TensorRT; losing one message is the lesser evil.
  }
}

std::vector<std::string> Logger::recentErrors() const {
  std::lock_guard<std::mutex> lock(recentMutex_);
  return {recentErrors_.begin(), recentErrors_.end()};
}

Logger::ScopedTarget::ScopedTarget(uint64_t target) : previous_(currentTarget) { currentTarget = target; }

Logger::ScopedTarget::~ScopedTarget() { currentTarget = previous_; }

uint64_t Logger::CurrentTarget() noexcept { return currentTarget; }

Logger::Capture::Capture(Severity threshold, bool unattributedThreads)
    : threshold_(threshold), unattributedThreads_(unattributedThreads), outer_(currentCapture) {
  currentCapture = this;
  if (unattributedThreads_) {
    Logger& logger = Instance();
    std::lock_guard<std::mutex> lock(logger.unattributedMutex_);
    logger.unattributedCaptures_.push_back(this);
  }
}

Logger::Capture::~Capture() {
  currentCapture = outer_;
  if (unattributedThreads_) {
    Logger& logger = Instance();
    std::lock_guard<std::mutex> lock(logger.unattributedMutex_);
    auto& captures = logger.unattributedCaptures_;
    captures.erase(std::remove(captures.begin(), captures.end(), this), captures.end());
  }
}

void Logger::Capture::add(Severity severity, const std::string& text) {
  if (static_cast<int>(severity) > static_cast<int>(threshold_)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  messages_.push_back(text);
}

std::vector<std::string> Logger::Capture::messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

}  // namespace trt_node::trt
