// An IErrorRecorder per TensorRT object (runtime, engine, context, builder), so that a failure can
// report TensorRT's own error code and every description it recorded, not just "returned null".
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "trt/api.h"

namespace trt_node::trt {

class ErrorRecorder final : public nvinfer1::IErrorRecorder {
 public:
  ErrorRecorder() = default;
  ErrorRecorder(const ErrorRecorder&) = delete;
  ErrorRecorder& operator=(const ErrorRecorder&) = delete;

  int32_t getNbErrors() const noexcept override;
  nvinfer1::ErrorCode getErrorCode(int32_t errorIdx) const noexcept override;
  ErrorDesc getErrorDesc(int32_t errorIdx) const noexcept override;
  bool hasOverflowed() const noexcept override;
  void clear() noexcept override;
  bool reportError(nvinfer1::ErrorCode code, ErrorDesc description) noexcept override;
  RefCount incRefCount() noexcept override;
  RefCount decRefCount() noexcept override;

  // Takes every recorded error (oldest first) and empties the recorder.
  std::vector<std::pair<int, std::string>> drain();

 private:
  static constexpr size_t kLimit = 64;
  mutable std::mutex mutex_;
  // A deque: appending never moves the stored strings, so a description getErrorDesc() returned stays
  // valid while other threads keep reporting (until clear(), as TensorRT's contract says). A vector
  // would move them when it grows, and short strings keep their characters inside the moved object.
  std::deque<std::pair<nvinfer1::ErrorCode, std::string>> errors_;
  bool overflowed_ = false;
  std::atomic<RefCount> refCount_{0};
};

// A NativeError for a failed TensorRT call: `code` (e.g. ERR_TENSORRT), the summary, and everything
// the recorder and the logger capture collected (TensorRT's last error code becomes tensorrtErrorCode).
NativeError TensorRTFailure(const std::string& code, const std::string& summary, ErrorRecorder& recorder,
                            const std::vector<std::string>& loggedMessages);

}  // namespace trt_node::trt
