#include "trt/error_recorder.h"

#include <algorithm>

namespace trt_node::trt {

int32_t ErrorRecorder::getNbErrors() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int32_t>(errors_.size());
}

nvinfer1::ErrorCode ErrorRecorder::getErrorCode(int32_t errorIdx) const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= errors_.size()) return nvinfer1::ErrorCode::kINVALID_ARGUMENT;
  return errors_[static_cast<size_t>(errorIdx)].first;
}

nvinfer1::IErrorRecorder::ErrorDesc ErrorRecorder::getErrorDesc(int32_t errorIdx) const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= errors_.size()) return "index out of range";
  // Valid until clear(): TensorRT's contract for this method.
  return errors_[static_cast<size_t>(errorIdx)].second.c_str();
}

bool ErrorRecorder::hasOverflowed() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return overflowed_;
}

void ErrorRecorder::clear() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  errors_.clear();
  overflowed_ = false;
}

bool ErrorRecorder::reportError(nvinfer1::ErrorCode code, ErrorDesc description) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    if (errors_.size() >= kLimit) {
      overflowed_ = true;
      return false;
    }
    errors_.emplace_back(code, description != nullptr ? description : "");
  } catch (...) {
    overflowed_ = true;
  }
  // false: let TensorRT carry on and report the failure through its return value.
  return false;
}

nvinfer1::IErrorRecorder::RefCount ErrorRecorder::incRefCount() noexcept { return ++refCount_; }

nvinfer1::IErrorRecorder::RefCount ErrorRecorder::decRefCount() noexcept { return --refCount_; }

std::vector<std::pair<int, std::string>> ErrorRecorder::drain() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<int, std::string>> drained;
  drained.reserve(errors_.size());
  for (const auto& [code, text] : errors_) drained.emplace_back(static_cast<int>(code), text);
  errors_.clear();
  overflowed_ = false;
  return drained;
}

NativeError TensorRTFailure(const std::string& code, const std::string& summary, ErrorRecorder& recorder,
                            const std::vector<std::string>& loggedMessages) {
  std::vector<std::string> messages;
  std::optional<int> lastCode;
  for (auto& [errorCode, text] : recorder.drain()) {
    lastCode = errorCode;
    messages.push_back(std::move(text));
  }
  for (const auto& text : loggedMessages) {
    if (std::find(messages.begin(), messages.end(), text) == messages.end()) messages.push_back(text);
  }
  std::string message = summary;
  if (!messages.empty()) message += ": " + messages.back();
  NativeError error(code, message);
  error.withTensorRT(lastCode, std::move(messages));
  return error;
}

}  // namespace trt_node::trt
