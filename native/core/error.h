// The one exception type native code throws. It carries a stable string code from the JavaScript
// error family (lib/errors.ts) plus whatever CUDA or TensorRT said, and is converted to a JS error
// only at the N-API boundary (napi/errors.cc). Plain C++: no napi.h here.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace trt_node {

// Mirrors the JavaScript classes the factory picks: TypeError and RangeError variants exist so that
// a wrong type and a wrong value read the way Node users expect.
enum class ErrorKind { kGeneric, kType, kRange };

struct CudaErrorInfo {
  int code = 0;
  std::string name;  // cudaGetErrorName(), e.g. "cudaErrorInsufficientDriver"
};

class NativeError : public std::runtime_error {
 public:
  NativeError(std::string code, const std::string& message, ErrorKind kind = ErrorKind::kGeneric)
      : std::runtime_error(message), code_(std::move(code)), kind_(kind) {}

  const std::string& code() const noexcept { return code_; }
  ErrorKind kind() const noexcept { return kind_; }

  const std::optional<CudaErrorInfo>& cudaError() const noexcept { return cudaError_; }
  NativeError& withCudaError(int code, std::string name) {
    cudaError_ = CudaErrorInfo{code, std::move(name)};
    return *this;
  }

  const std::optional<int>& tensorrtErrorCode() const noexcept { return tensorrtErrorCode_; }
  const std::vector<std::string>& tensorrtMessages() const noexcept { return tensorrtMessages_; }
  NativeError& withTensorRT(std::optional<int> code, std::vector<std::string> messages) {
    tensorrtErrorCode_ = code;
    tensorrtMessages_ = std::move(messages);
    return *this;
  }

  // Free-form key/value details that become properties of error.details in JavaScript.
  const std::vector<std::pair<std::string, std::string>>& details() const noexcept { return details_; }
  NativeError& withDetail(std::string key, std::string value) {
    details_.emplace_back(std::move(key), std::move(value));
    return *this;
  }

 private:
  std::string code_;
  ErrorKind kind_;
  std::optional<CudaErrorInfo> cudaError_;
  std::optional<int> tensorrtErrorCode_;
  std::vector<std::string> tensorrtMessages_;
  std::vector<std::pair<std::string, std::string>> details_;
};

inline NativeError InvalidArgument(const std::string& message, ErrorKind kind = ErrorKind::kType) {
  return NativeError("ERR_INVALID_ARGUMENT", message, kind);
}

}  // namespace trt_node
