// ErrorSink: how every fake object reports errors (see objects.h). Compiled into each fake library.
#include "objects.h"

namespace trt_node::fake_trt {

ErrorSink::~ErrorSink() { setRecorder(nullptr); }

void ErrorSink::setRecorder(nvinfer1::IErrorRecorder* recorder) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (recorder == recorder_) return;
  if (recorder_ != nullptr) {
    const auto count = recorder_->decRefCount();
    Record(owner_, "recorder.decRefCount", "count=" + std::to_string(count));
  }
  recorder_ = recorder;
  if (recorder_ != nullptr) {
    const auto count = recorder_->incRefCount();
    Record(owner_, "recorder.incRefCount", "count=" + std::to_string(count));
  }
}

void ErrorSink::error(nvinfer1::ErrorCode code, const std::string& message) {
  Record(owner_, "error", std::to_string(static_cast<int>(code)) + " " + message);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (recorder_ != nullptr) recorder_->reportError(code, message.c_str());
  }
  log(nvinfer1::ILogger::Severity::kERROR, message);
}

void ErrorSink::log(nvinfer1::ILogger::Severity severity, const std::string& message) {
  if (logger_ != nullptr) logger_->log(severity, message.c_str());
}

std::string ThreadLabel() { return OnMainThread() ? "thread=main" : "thread=other"; }

}  // namespace trt_node::fake_trt
