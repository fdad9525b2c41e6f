// The fake TensorRT's objects (runtime, engine, execution context, builder and friends) and what
// they share: the logger every object was created with, and the error recorder slot that counts
// references the way TensorRT does (incRefCount when set, decRefCount when replaced or destroyed).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "call_log.h"
#include "emulated_onnx_parser.h"
#include "emulated_tensorrt.h"
#include "network.h"

namespace trt_node::fake_trt {

// Reports errors the TensorRT way: to the object's IErrorRecorder when one is set, and always to the
// ILogger at kERROR.
class ErrorSink {
 public:
  ErrorSink(std::string owner, nvinfer1::ILogger* logger) : owner_(std::move(owner)), logger_(logger) {}
  ~ErrorSink();
  ErrorSink(const ErrorSink&) = delete;
  ErrorSink& operator=(const ErrorSink&) = delete;

  void setRecorder(nvinfer1::IErrorRecorder* recorder);
  void error(nvinfer1::ErrorCode code, const std::string& message);
  void log(nvinfer1::ILogger::Severity severity, const std::string& message);
  nvinfer1::ILogger* logger() const noexcept { return logger_; }
  const std::string& owner() const noexcept { return owner_; }

 private:
  std::string owner_;
  nvinfer1::ILogger* logger_;
  std::mutex mutex_;
  nvinfer1::IErrorRecorder* recorder_ = nullptr;
};

std::string ThreadLabel();  // "thread=main" or "thread=other"

class FakeHostMemory final : public nvinfer1::IHostMemory {
 public:
  explicit FakeHostMemory(std::string bytes) : bytes_(std::move(bytes)) {}
  void* data() const noexcept override { return const_cast<char*>(bytes_.data()); }
  std::size_t size() const noexcept override { return bytes_.size(); }
  nvinfer1::DataType type() const noexcept override { return nvinfer1::DataType::kUINT8; }

 private:
  std::string bytes_;
};

class FakeRuntime;

// State an engine shares with its contexts and with the runtime that created it.
struct EngineShared {
  std::string name;
  std::shared_ptr<const Network> network;
  std::atomic<int> liveContexts{0};
};

class FakeEngine;

// Exported to the parser and plugin libraries (same process, same instance).
TRT_NODE_FAKE_EXPORT void SetPluginsInitialized(const std::string& libNamespace);
TRT_NODE_FAKE_EXPORT bool PluginsInitialized();

// Defined by the builder: the network interface the parser library fills.
class FakeNetworkDefinition : public nvinfer1::INetworkDefinition {
 public:
  virtual void define(Network network) = 0;
  virtual const std::string& objectName() const = 0;
  virtual nvinfer1::ILogger* logger() const = 0;
};

nvinfer1::IRuntime* CreateRuntime(nvinfer1::ILogger* logger);
nvinfer1::IBuilder* CreateBuilder(nvinfer1::ILogger* logger);
nvinfer1::ICudaEngine* DeserializeEngine(FakeRuntime& runtime, const void* blob, size_t size);
nvinfer1::IExecutionContext* CreateContext(std::shared_ptr<EngineShared> engine, nvinfer1::ILogger* logger,
                                           nvinfer1::ExecutionContextAllocationStrategy strategy,
                                           const std::string& engineName);

}  // namespace trt_node::fake_trt
