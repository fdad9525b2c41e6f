// A deserialized TensorRT engine and what a user needs to know about it. Plain C++ over TensorRT;
// the N-API layer (napi/trt_engine.cc) converts EngineMetadata to JavaScript.
//
// Destruction order (documented because it matters): the engine is released before its error
// recorder, the recorder before the runtime, and the runtime before the library; the logger is
// process-wide and never destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trt/api.h"
#include "trt/error_recorder.h"
#include "trt/library.h"

namespace trt_node::trt {

struct TensorMetadata {
  std::string name;
  bool isInput = false;
  std::string dtype;           // tensorrt-node dtype name (float32, float16, ...), or "unknown(N)"
  std::vector<int64_t> shape;  // -1 for dynamic dimensions
  std::string format;          // getTensorFormatDesc(name, 0), e.g. "Row major linear FP32 format (kLINEAR)"
  std::string location;        // "device" or "host" (shape tensors live on the host)
  bool isShapeTensor = false;
};

struct ProfileDims {
  std::string input;
  std::vector<int64_t> min, opt, max;
};

struct ProfileMetadata {
  int index = 0;
  std::vector<ProfileDims> inputs;
};

struct EngineMetadata {
  std::string name;
  int layerCount = 0;
  int64_t deviceMemoryBytes = 0;
  int auxStreamCount = 0;
  std::string hardwareCompatibility;  // "none", "ampere+", "same-compute-capability", ...
  std::vector<TensorMetadata> tensors;
  std::vector<ProfileMetadata> profiles;
};

struct DeserializeOptions {
  int device = 0;
  bool allowHostCode = false;
};

class Engine {
 public:
  // Deserializes `plan` on `options.device`. Throws NativeError with every message TensorRT logged
  // or recorded when it fails (the TypeScript layer turns the known ones into
  // ERR_ENGINE_INCOMPATIBLE with the fix).
  static std::shared_ptr<Engine> Deserialize(std::shared_ptr<TensorRTLibrary> library, const void* plan, size_t size,
                                             const DeserializeOptions& options);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  nvinfer1::ICudaEngine& get() const noexcept { return *engine_; }
  ErrorRecorder& recorder() noexcept { return *recorder_; }
  int device() const noexcept { return device_; }
  const TensorRTLibrary& library() const noexcept { return *library_; }

  EngineMetadata metadata() const;
  // The engine inspector's layer information as JSON (detail depends on the build's
  // ProfilingVerbosity: kDETAILED gives every layer's precision and tactics).
  std::string layerInformationJson() const;

 private:
  Engine() = default;

  int device_ = 0;
  std::shared_ptr<TensorRTLibrary> library_;
  std::unique_ptr<ErrorRecorder> runtimeRecorder_;
  Owned<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<ErrorRecorder> recorder_;
  Owned<nvinfer1::ICudaEngine> engine_;
};

// TensorRT DataType (by value, stable across 10.x and 11.x) to a tensorrt-node dtype name.
std::string DataTypeName(int32_t value);
std::vector<int64_t> ToVector(const nvinfer1::Dims& dims);

}  // namespace trt_node::trt
