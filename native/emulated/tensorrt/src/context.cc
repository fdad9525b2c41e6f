// The fake IExecutionContext. Its enqueueV3 does what a GPU engine does, on the emulated CUDA
// runtime: it enqueues "kernels" on the caller's stream (cudaLaunchHostFunc), which run later on
// the stream's worker thread, in stream order, and are captured into CUDA graphs like real kernels.
//
// It also imitates the state TensorRT keeps on the device: the first enqueueV3 after an input shape
// change uploads shape-dependent parameters (a stream-ordered host function), and every kernel,
// including a replay of a captured graph, computes with the uploaded parameters. That is why
// TensorRT needs one plain enqueue after a shape change before a capture, and why a graph captured
// at other shapes must not be replayed: here, as on a GPU, doing so computes the wrong thing (and is
// recorded as a violation).
//
// Checks (each a VIOLATION line in the call log): every I/O address or output allocator set before
// enqueueV3; shapes set after the profile was selected; captures only right after a plain enqueue
// with the same bindings; no data-dependent outputs under capture; no graph replayed at other
// shapes; no kernel running after its context was destroyed; no context destroyed with work in
// flight; no two threads inside one context at once.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "interpreter.h"
#include "objects.h"
#if TRT_NODE_FAKE_TENSORRT_ON_EMULATED_DEVICE
#include "emulated/cuda/hooks.h"
#endif

namespace trt_node::fake_trt {
namespace {

// What the context keeps "on the GPU".
struct DeviceState {
  std::string context;
  std::atomic<bool> destroyed{false};
  std::atomic<int> pending{0};  // plain enqueues whose kernels have not finished
  std::mutex mutex;
  std::string uploadedKey;  // shapes the parameters were uploaded for ("" = none yet)
  std::map<std::string, Shape> uploadedShapes;
  std::vector<unsigned char> ownScratch;  // kSTATIC: memory the context allocated itself
};

struct KernelLaunch {
  std::shared_ptr<DeviceState> device;
  std::shared_ptr<const Network> network;
  std::string shapesKey;
  std::map<std::string, Shape> shapes;
  std::map<std::string, const void*> inputs;
  std::map<std::string, void*> outputs;  // outputs with static shapes
  std::vector<std::string> dynamicOutputs;
  bool captured = false;
  void* scratch = nullptr;
  int64_t scratchBytes = 0;
  bool scratchExternal = false;  // the application's device memory (setDeviceMemoryV2)
  int64_t kernelMicros = 0;
  std::atomic<bool> ran{false};
  Evaluation result;  // data-dependent outputs, read by enqueueV3 after it synchronized
};

struct UploadLaunch {
  std::shared_ptr<DeviceState> device;
  std::string key;
  std::map<std::string, Shape> shapes;
};

// Host-function data. Work launched outside a capture runs once and frees its holder; captured
// work belongs to a CUDA graph that may replay it any number of times, until a moment the fake
// cannot see (cudaGraphExecDestroy), so its holder is kept for the life of the process (a few bytes
// per capture), in a list LeakSanitizer sees as reachable.
template <typename T>
struct Holder {
  std::shared_ptr<T> launch;
  bool captured = false;
};

template <typename T>
Holder<T>* NewHolder(std::shared_ptr<T> launch, bool captured) {
  auto holder = std::make_unique<Holder<T>>(Holder<T>{std::move(launch), captured});
  Holder<T>* raw = holder.get();
  if (captured) {
    static std::mutex mutex;
    static auto* kept = new std::vector<std::unique_ptr<Holder<T>>>();  // never destroyed: graphs may replay
    std::lock_guard<std::mutex> lock(mutex);
    kept->push_back(std::move(holder));
  } else {
    holder.release();  // the host function deletes it after running
  }
  return raw;
}

bool Fits(const std::map<std::string, Shape>& wanted, const std::map<std::string, Shape>& bound) {
  for (const auto& [name, shape] : wanted) {
    auto found = bound.find(name);
    if (found == bound.end() || ElementCount(shape) < 0 || ElementCount(shape) > ElementCount(found->second)) {
      return false;
    }
  }
  return true;
}

void CUDART_CB RunUpload(void* data) {
  auto* holder = static_cast<Holder<UploadLaunch>*>(data);
  UploadLaunch& upload = *holder->launch;
  if (upload.device->destroyed) {
    Violation(upload.device->context, "work enqueued on this context ran after the context was destroyed");
  } else {
    std::lock_guard<std::mutex> lock(upload.device->mutex);
    upload.device->uploadedKey = upload.key;
    upload.device->uploadedShapes = upload.shapes;
  }
  if (!holder->captured) delete holder;
}

void Execute(KernelLaunch& launch) {
  DeviceState& device = *launch.device;
  if (device.destroyed) {
    Violation(device.context, std::string(launch.captured ? "a CUDA graph captured on this context replayed"
                                                          : "an inference enqueued on this context ran") +
                                  " after the context was destroyed");
    return;
  }
  std::string uploadedKey;
  std::map<std::string, Shape> uploaded;
  {
    std::lock_guard<std::mutex> lock(device.mutex);
    uploadedKey = device.uploadedKey;
    uploaded = device.uploadedShapes;
  }
  const std::map<std::string, Shape>* shapes = &launch.shapes;
  if (uploadedKey != launch.shapesKey) {
    Violation(device.context, std::string(launch.captured ? "a CUDA graph captured" : "an inference enqueued") +
                                  " at shapes " + launch.shapesKey + " ran while the context's uploaded shapes were " +
                                  (uploadedKey.empty() ? "none" : uploadedKey) +
                                  " (TensorRT needs a plain enqueueV3 after every shape change; a graph must only be "
                                  "replayed at the shapes it was captured at)");
    // As on a GPU, the kernels compute with the parameters on the device: the wrong ones. Only where
    // the bound memory is large enough, so that the fake itself never writes out of bounds.
    if (uploadedKey.empty() || !Fits(uploaded, launch.shapes)) return;
    shapes = &uploaded;
  }
  try {
    Evaluation evaluation = Evaluate(*launch.network, *shapes, launch.inputs);
    for (const auto& [name, memory] : launch.outputs) {
      const TensorSpec* tensor = launch.network->find(name);
      std::vector<double>& values = evaluation.values.at(name);
      const int64_t count = ElementCount(shapes->at(name));
      if (count >= 0 && static_cast<size_t>(count) < values.size()) values.resize(static_cast<size_t>(count));
      Store(memory, tensor->dtype, values);
    }
    for (const auto& name : launch.dynamicOutputs) {
      launch.result.values[name] = std::move(evaluation.values.at(name));
      launch.result.shapes[name] = evaluation.shapes.at(name);
    }
  } catch (const std::exception& error) {
    Record(device.context, "kernel.failed", error.what());
  }
  // The kernels use the context's scratch memory: touching it lets AddressSanitizer catch scratch
  // freed (or shared) while work that uses it is still queued.
  if (launch.scratch != nullptr && launch.scratchBytes > 0) {
    std::memset(launch.scratch, 0x5a, static_cast<size_t>(std::min<int64_t>(launch.scratchBytes, 256)));
  }
  if (launch.kernelMicros > 0) std::this_thread::sleep_for(std::chrono::microseconds(launch.kernelMicros));
}

void RunKernel(void* data) {
  auto* holder = static_cast<Holder<KernelLaunch>*>(data);
  std::shared_ptr<KernelLaunch> launch = holder->launch;
  const bool captured = holder->captured;
  if (!captured) delete holder;
  Execute(*launch);
  launch->ran = true;
  if (!captured) --launch->device->pending;
}

#if TRT_NODE_FAKE_TENSORRT_ON_EMULATED_DEVICE
void RunKernelBody(const void* params) {
  Holder<KernelLaunch>* holder = nullptr;
  std::memcpy(&holder, params, sizeof(holder));
  RunKernel(holder);
}
#else
void CUDART_CB RunKernelHostFunction(void* data) { RunKernel(data); }
#endif

// Launches the inference's "kernels". On the emulated device, as a kernel whose every input and
// output range the device checks when it runs (freed or foreign memory is an illegal address, as on
// a GPU); elsewhere as a host function.
cudaError_t LaunchKernel(cudaStream_t stream, Holder<KernelLaunch>* holder) {
#if TRT_NODE_FAKE_TENSORRT_ON_EMULATED_DEVICE
  const KernelLaunch& launch = *holder->launch;
  std::vector<TrtnodeEmulatedAccess> accesses;
  for (const auto& [name, memory] : launch.inputs) {
    const TensorSpec* tensor = launch.network->find(name);
    const int64_t count = ElementCount(launch.shapes.at(name));
    if (!tensor->shapeTensor && count > 0) {
      accesses.push_back({memory, static_cast<size_t>(count) * DataTypeSize(tensor->dtype), 0});
    }
  }
  for (const auto& [name, memory] : launch.outputs) {
    const TensorSpec* tensor = launch.network->find(name);
    const int64_t count = ElementCount(launch.shapes.at(name));
    if (count > 0) accesses.push_back({memory, static_cast<size_t>(count) * DataTypeSize(tensor->dtype), 1});
  }
  if (launch.scratch != nullptr && launch.scratchExternal) {
    accesses.push_back({launch.scratch, static_cast<size_t>(std::min<int64_t>(launch.scratchBytes, 256)), 1});
  }
  return trtnodeEmulatedLaunchKernel(stream, "fake TensorRT inference", RunKernelBody, &holder, sizeof(holder),
                                     accesses.data(), accesses.size());
#else
  return cudaLaunchHostFunc(stream, RunKernelHostFunction, holder);
#endif
}

std::string PointerText(const void* pointer) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%p", pointer);
  return buffer;
}

// Detects two threads inside one context at once (TensorRT contexts are not thread-safe).
class ExclusiveUse {
 public:
  ExclusiveUse(std::atomic<int>& users, const std::string& context) : users_(users) {
    if (users_.fetch_add(1) != 0) Violation(context, "two threads used one IExecutionContext at the same time");
  }
  ~ExclusiveUse() { users_.fetch_sub(1); }

 private:
  std::atomic<int>& users_;
};

}  // namespace

class FakeContext final : public nvinfer1::IExecutionContext {
 public:
  FakeContext(std::shared_ptr<EngineShared> engine, nvinfer1::ILogger* logger,
              nvinfer1::ExecutionContextAllocationStrategy strategy, const std::string& engineName)
      : engine_(std::move(engine)),
        sink_(NewObjectName("context"), logger),
        strategy_(strategy),
        device_(std::make_shared<DeviceState>()) {
    device_->context = sink_.owner();
    if (strategy_ != nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED) {
      device_->ownScratch.resize(static_cast<size_t>(DeviceMemoryForProfile(network(), 0)));
    }
    ++engine_->liveContexts;
    CountLive("context", 1);
    Record(name(), "create",
           ThreadLabel() + " engine=" + engineName + " strategy=" + std::to_string(static_cast<int>(strategy)));
  }

  ~FakeContext() noexcept override {
    const int pending = device_->pending.load();
    Record(name(), "destroy", ThreadLabel() + " pending=" + std::to_string(pending));
    if (pending > 0) {
      Violation(name(), "IExecutionContext destroyed while " + std::to_string(pending) +
                            " enqueued inference(s) had not finished on the GPU (synchronize the stream first)");
    }
    device_->destroyed = true;
    sink_.log(nvinfer1::ILogger::Severity::kVERBOSE, "fake TensorRT: execution context destroyed");
    --engine_->liveContexts;
    CountLive("context", -1);
  }

  const std::string& name() const noexcept { return sink_.owner(); }

  void setProfiler(nvinfer1::IProfiler* profiler) noexcept override {
    ExclusiveUse use(users_, name());
    Record(name(), "setProfiler", profiler != nullptr ? "set" : "null");
    profiler_ = profiler;
  }
  void setDeviceMemoryV2(void* memory, int64_t size) noexcept override {
    ExclusiveUse use(users_, name());
    Record(name(), "setDeviceMemoryV2", "bytes=" + std::to_string(size));
    deviceMemory_ = memory;
    deviceMemoryBytes_ = size;
  }
  int32_t getOptimizationProfile() const noexcept override { return profile_; }

  bool setInputShape(char const* tensorName, nvinfer1::Dims const& dims) noexcept override {
    ExclusiveUse use(users_, name());
    const std::string tensor = tensorName != nullptr ? tensorName : "";
    const Shape shape = FromDims(dims);
    Record(name(), "setInputShape", tensor + " " + ShapeText(shape));
    if (!profileSelected_ && network().profiles.size() > 1) {
      Violation(name(),
                "setInputShape(" + tensor + ") before setOptimizationProfileAsync on an engine with several profiles");
    }
    const TensorSpec* spec = network().find(tensor);
    if (spec == nullptr || !spec->isInput) {
      sink_.error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                  "IExecutionContext::setInputShape: Error Code 3: API Usage Error (" + tensor + " is not an input)");
      return false;
    }
    std::string problem;
    if (shape.size() != spec->dims.size()) problem = "wrong number of dimensions";
    for (size_t axis = 0; problem.empty() && axis < shape.size(); ++axis) {
      if (spec->dims[axis] >= 0 && shape[axis] != spec->dims[axis]) problem = "a fixed dimension differs";
    }
    if (problem.empty() && !spec->shapeTensor && static_cast<size_t>(profile_) < network().profiles.size()) {
      const auto& bounds = network().profiles[static_cast<size_t>(profile_)].dims;
      if (auto found = bounds.find(tensor); found != bounds.end()) {
        for (size_t axis = 0; axis < shape.size(); ++axis) {
          if (shape[axis] < found->second.min[axis] || shape[axis] > found->second.max[axis]) {
            problem = "dimension " + std::to_string(axis) + " is " + std::to_string(shape[axis]) +
                      ", outside the profile's range " + std::to_string(found->second.min[axis]) + ".." +
                      std::to_string(found->second.max[axis]);
            break;
          }
        }
      }
    }
    if (!problem.empty()) {
      sink_.error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                  "IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check failed for " +
                      tensor + " " + ShapeText(shape) + " under optimization profile " + std::to_string(profile_) +
                      ": " + problem + ")");
      return false;
    }
    inputShapes_[tensor] = shape;
    return true;
  }

  nvinfer1::Dims getTensorShape(char const* tensorName) const noexcept override {
    ExclusiveUse use(users_, name());
    const std::string tensor = tensorName != nullptr ? tensorName : "";
    Record(name(), "getTensorShape", tensor);
    const TensorSpec* spec = network().find(tensor);
    if (spec == nullptr) return nvinfer1::Dims{-1, {}};
    if (spec->isInput) {
      auto found = inputShapes_.find(tensor);
      return ToDims(found != inputShapes_.end() ? found->second : spec->dims);
    }
    try {
      std::string missingAddress;
      const std::map<std::string, Shape> shapes = Shapes(missingAddress);
      if (!missingAddress.empty()) {
        Violation(name(), "getTensorShape(" + tensor + ") before the address of host shape tensor " + missingAddress +
                              " was set (TensorRT reads its values to infer shapes)");
        Shape unknown(spec->dims.size(), -1);
        return ToDims(unknown);
      }
      return ToDims(shapes.at(tensor));
    } catch (const std::exception& error) {
      const_cast<ErrorSink&>(sink_).error(nvinfer1::ErrorCode::kINVALID_STATE,
                                          std::string("IExecutionContext::getTensorShape: ") + error.what());
      Shape unknown(spec->dims.size(), -1);
      return ToDims(unknown);
    }
  }

  bool allInputDimensionsSpecified() const noexcept override {
    for (const auto& tensor : network().io) {
      if (tensor.isInput && inputShapes_.find(tensor.name) == inputShapes_.end()) return false;
    }
    return true;
  }

  void setErrorRecorder(nvinfer1::IErrorRecorder* recorder) noexcept override {
    Record(name(), "setErrorRecorder", recorder != nullptr ? "set" : "null");
    sink_.setRecorder(recorder);
  }

  bool setOptimizationProfileAsync(int32_t profileIndex, cudaStream_t stream) noexcept override {
    ExclusiveUse use(users_, name());
    Record(name(), "setOptimizationProfileAsync", std::to_string(profileIndex));
    const auto profiles = std::max<int32_t>(1, static_cast<int32_t>(network().profiles.size()));
    if (profileIndex < 0 || profileIndex >= profiles) {
      sink_.error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                  "IExecutionContext::setOptimizationProfileAsync: Error Code 3: API Usage Error (profile " +
                      std::to_string(profileIndex) + " does not exist)");
      return false;
    }
    profile_ = profileIndex;
    profileSelected_ = true;
    inputShapes_.clear();  // shapes belong to a profile: they must be set again
    lastEnqueuedShapes_.clear();
    if (strategy_ != nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED) {
      device_->ownScratch.resize(static_cast<size_t>(DeviceMemoryForProfile(network(), profileIndex)));
    }
    return true;
  }

  void setEnqueueEmitsProfile(bool enqueueEmitsProfile) noexcept override {
    Record(name(), "setEnqueueEmitsProfile", enqueueEmitsProfile ? "true" : "false");
    emitsProfile_ = enqueueEmitsProfile;
  }

  bool reportToProfiler() const noexcept override {
    Record(name(), "reportToProfiler");
    if (profiler_ == nullptr) return false;
    ReportLayers();
    return true;
  }

  bool setTensorAddress(char const* tensorName, void* data) noexcept override {
    ExclusiveUse use(users_, name());
    const std::string tensor = tensorName != nullptr ? tensorName : "";
    Record(name(), "setTensorAddress", tensor + (data != nullptr ? " set" : " null"));
    if (network().find(tensor) == nullptr) {
      sink_.error(
          nvinfer1::ErrorCode::kINVALID_ARGUMENT,
          "IExecutionContext::setTensorAddress: Error Code 3: API Usage Error (no tensor named " + tensor + ")");
      return false;
    }
    addresses_[tensor] = data;
    return true;
  }

  bool setOutputAllocator(char const* tensorName, nvinfer1::IOutputAllocator* outputAllocator) noexcept override {
    ExclusiveUse use(users_, name());
    const std::string tensor = tensorName != nullptr ? tensorName : "";
    Record(name(), "setOutputAllocator", tensor + (outputAllocator != nullptr ? " set" : " null"));
    const TensorSpec* spec = network().find(tensor);
    if (spec == nullptr || spec->isInput) {
      sink_.error(
          nvinfer1::ErrorCode::kINVALID_ARGUMENT,
          "IExecutionContext::setOutputAllocator: Error Code 3: API Usage Error (" + tensor + " is not an output)");
      return false;
    }
    if (outputAllocator == nullptr) {
      allocators_.erase(tensor);
    } else {
      allocators_[tensor] = outputAllocator;
    }
    return true;
  }

  bool enqueueV3(cudaStream_t stream) noexcept override {
    ExclusiveUse use(users_, name());
    try {
      return Enqueue(stream);
    } catch (const std::exception& error) {
      sink_.error(nvinfer1::ErrorCode::kINTERNAL_ERROR, std::string("IExecutionContext::enqueueV3: ") + error.what());
    } catch (...) {
      sink_.error(nvinfer1::ErrorCode::kINTERNAL_ERROR, "IExecutionContext::enqueueV3: unknown failure");
    }
    return false;
  }

 private:
  const Network& network() const noexcept { return *engine_->network; }

  // Every tensor's shape from the input shapes and the host shape tensors' values (read now, from
  // the addresses set). `missingAddress` names a shape tensor whose address was never set.
  std::map<std::string, Shape> Shapes(std::string& missingAddress) const {
    ShapeInputs inputs;
    inputs.inputShapes = inputShapes_;
    for (const auto& tensor : network().io) {
      if (!tensor.isInput || !tensor.shapeTensor) continue;
      auto address = addresses_.find(tensor.name);
      auto shape = inputShapes_.find(tensor.name);
      if (address == addresses_.end() || address->second == nullptr || shape == inputShapes_.end()) {
        missingAddress = tensor.name;
        inputs.shapeValues[tensor.name] = {};
        continue;
      }
      std::vector<int64_t> values;
      const int64_t count = ElementCount(shape->second);
      for (int64_t i = 0; i < count; ++i) {
        values.push_back(static_cast<int64_t>(Load(address->second, tensor.dtype, static_cast<size_t>(i))));
      }
      if (static_cast<size_t>(profile_) < network().profiles.size()) {
        const auto& bounds = network().profiles[static_cast<size_t>(profile_)].values;
        if (auto found = bounds.find(tensor.name); found != bounds.end()) {
          for (size_t i = 0; i < values.size() && i < found->second.min.size(); ++i) {
            if (values[i] < found->second.min[i] || values[i] > found->second.max[i]) {
              throw std::runtime_error("value " + std::to_string(values[i]) + " of shape tensor " + tensor.name +
                                       " is outside the profile's range");
            }
          }
        }
      }
      inputs.shapeValues[tensor.name] = std::move(values);
    }
    if (!missingAddress.empty()) return {};
    return InferShapes(network(), inputs);
  }

  std::string ShapesKey(const std::map<std::string, Shape>& shapes) const {
    std::string key;
    for (const auto& tensor : network().io) {
      if (!tensor.isInput) continue;
      key += tensor.name + ShapeText(shapes.at(tensor.name));
      if (tensor.shapeTensor) {
        key += "=";
        const void* address = addresses_.at(tensor.name);
        for (int64_t i = 0; i < ElementCount(shapes.at(tensor.name)); ++i) {
          key += std::to_string(static_cast<int64_t>(Load(address, tensor.dtype, static_cast<size_t>(i)))) + ",";
        }
      }
      key += ";";
    }
    return key;
  }

  void ReportLayers() const {
    // Deterministic fake times: the emulation measures nothing.
    for (size_t i = 0; i < network().layers.size(); ++i) {
      profiler_->reportLayerTime(network().layers[i].name.c_str(), 0.001f * static_cast<float>(i + 1));
    }
  }

  bool Fail(const std::string& message, bool violation) {
    if (violation) Violation(name(), message);
    sink_.error(nvinfer1::ErrorCode::kINVALID_STATE, "IExecutionContext::enqueueV3: " + message);
    return false;
  }

  bool Enqueue(cudaStream_t stream) {
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream, &capture) != cudaSuccess) {
      cudaGetLastError();
      capture = cudaStreamCaptureStatusNone;
    }
    const bool capturing = capture == cudaStreamCaptureStatusActive;
    Record(name(), "enqueueV3", capturing ? "capture" : "plain");

    // Bindings: every input shape and address, every output address or allocator.
    for (const auto& tensor : network().io) {
      if (tensor.isInput && inputShapes_.find(tensor.name) == inputShapes_.end()) {
        return Fail("the shape of input " + tensor.name + " was not set", true);
      }
    }
    std::string missingAddress;
    const std::map<std::string, Shape> shapes = Shapes(missingAddress);
    if (!missingAddress.empty())
      return Fail("the address of host shape tensor " + missingAddress + " was not set", true);
    auto launch = std::make_shared<KernelLaunch>();
    launch->device = device_;
    launch->network = engine_->network;
    launch->shapes = shapes;
    launch->captured = capturing;
    launch->kernelMicros = network().kernelMicros > 0 ? network().kernelMicros : DefaultKernelMicroseconds();
    std::string binding;
    for (const auto& tensor : network().io) {
      auto address = addresses_.find(tensor.name);
      void* memory = address != addresses_.end() ? address->second : nullptr;
      const bool dataDependent = !tensor.isInput && ElementCount(shapes.at(tensor.name)) < 0;
      if (dataDependent) {
        if (allocators_.find(tensor.name) == allocators_.end()) {
          return Fail("output " + tensor.name + " has a data-dependent shape but no IOutputAllocator was set", true);
        }
        launch->dynamicOutputs.push_back(tensor.name);
        binding += tensor.name + "=allocator;";
        continue;
      }
      if (memory == nullptr) return Fail("no address was set for " + tensor.name, true);
      binding += tensor.name + "=" + PointerText(memory) + ";";
      if (tensor.isInput) {
        launch->inputs[tensor.name] = memory;
      } else {
        launch->outputs[tensor.name] = memory;
      }
    }
    if (strategy_ == nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED) {
      const int64_t needed = DeviceMemoryForProfile(network(), profile_);
      if (deviceMemory_ == nullptr || deviceMemoryBytes_ < needed) {
        return Fail("a kUSER_MANAGED context needs setDeviceMemoryV2 with at least " + std::to_string(needed) +
                        " bytes before enqueueV3",
                    true);
      }
      launch->scratch = deviceMemory_;
      launch->scratchBytes = deviceMemoryBytes_;
      launch->scratchExternal = true;
    } else {
      launch->scratch = device_->ownScratch.data();
      launch->scratchBytes = static_cast<int64_t>(device_->ownScratch.size());
    }
    launch->shapesKey = ShapesKey(shapes);
    binding = launch->shapesKey + "|" + binding;
    const bool shapesChanged = launch->shapesKey != lastEnqueuedShapes_;

    if (capturing) {
      if (!launch->dynamicOutputs.empty()) {
        return Fail(
            "outputs with data-dependent shapes need a synchronization inside enqueueV3, which a CUDA graph "
            "capture cannot hold",
            true);
      }
      if (shapesChanged) {
        return Fail(
            "the first enqueueV3 after an input shape change cannot be captured (run one plain enqueueV3 first)", true);
      }
      if (!lastWasPlain_ || lastPlainBinding_ != binding) {
        Violation(name(), "stream capture without a plain enqueueV3 with the same bindings right before it");
      }
      if (capturesRefused_ < network().failCaptures) {
        ++capturesRefused_;
        return Fail("fake TensorRT refused this capture (fake-tensorrt:fail-captures " +
                        std::to_string(network().failCaptures) + ")",
                    false);
      }
    }

    if (shapesChanged) {
      auto upload = std::make_shared<UploadLaunch>();
      upload->device = device_;
      upload->key = launch->shapesKey;
      upload->shapes = shapes;
      auto* holder = NewHolder(std::move(upload), false);
      const cudaError_t status = cudaLaunchHostFunc(stream, RunUpload, holder);
      if (status != cudaSuccess) {
        delete holder;
        cudaGetLastError();
        return Fail(std::string("cudaLaunchHostFunc failed: ") + cudaGetErrorName(status), false);
      }
    }
    auto* holder = NewHolder(launch, capturing);
    if (!capturing) ++device_->pending;
    const cudaError_t status = LaunchKernel(stream, holder);
    if (status != cudaSuccess) {
      if (!capturing) --device_->pending;
      if (!capturing) delete holder;  // a captured one belongs to the kept list
      cudaGetLastError();
      return Fail(std::string("the kernel launch failed: ") + cudaGetErrorName(status), false);
    }
    lastEnqueuedShapes_ = launch->shapesKey;
    lastWasPlain_ = !capturing;
    lastPlainBinding_ = capturing ? std::string() : binding;

    if (!launch->dynamicOutputs.empty() && !FinishDataDependentOutputs(*launch, stream)) return false;
    if (profiler_ != nullptr && emitsProfile_ && !capturing) {
      cudaStreamSynchronize(stream);  // TensorRT synchronizes to report per-layer times
      ReportLayers();
    }
    return true;
  }

  // Data-dependent outputs: like TensorRT, wait for the inference, then ask the allocator for memory
  // of the size found and report the shape, all before enqueueV3 returns.
  bool FinishDataDependentOutputs(KernelLaunch& launch, cudaStream_t stream) {
    const cudaError_t status = cudaStreamSynchronize(stream);
    if (status != cudaSuccess || !launch.ran) {
      cudaGetLastError();
      return Fail("the inference did not complete", false);
    }
    for (const auto& tensorName : launch.dynamicOutputs) {
      const TensorSpec* tensor = network().find(tensorName);
      auto values = launch.result.values.find(tensorName);
      if (values == launch.result.values.end()) return Fail("the inference computed no " + tensorName, false);
      const uint64_t bytes = std::max<uint64_t>(values->second.size() * DataTypeSize(tensor->dtype), 1);
      nvinfer1::IOutputAllocator* allocator = allocators_.at(tensorName);
      void* current = addresses_.count(tensorName) ? addresses_[tensorName] : nullptr;
      void* memory = nullptr;
      try {
        memory = allocator->reallocateOutputAsync(tensorName.c_str(), current, bytes, 256, stream);
      } catch (...) {
        memory = nullptr;
      }
      Record(name(), "reallocateOutputAsync",
             tensorName + " bytes=" + std::to_string(bytes) + (memory != nullptr ? " ok" : " null"));
      if (memory == nullptr) {
        sink_.error(nvinfer1::ErrorCode::kFAILED_ALLOCATION,
                    "IExecutionContext::enqueueV3: the output allocator returned no memory for " + tensorName);
        return false;
      }
      Store(memory, tensor->dtype, values->second);  // the stream is idle: synchronized above
      addresses_[tensorName] = memory;
      const Shape shape = launch.result.shapes.at(tensorName);
      allocator->notifyShape(tensorName.c_str(), ToDims(shape));
      Record(name(), "notifyShape", tensorName + " " + ShapeText(shape));
    }
    return true;
  }

  std::shared_ptr<EngineShared> engine_;
  ErrorSink sink_;
  nvinfer1::ExecutionContextAllocationStrategy strategy_;
  std::shared_ptr<DeviceState> device_;
  mutable std::atomic<int> users_{0};

  int32_t profile_ = 0;
  bool profileSelected_ = false;
  std::map<std::string, Shape> inputShapes_;
  std::map<std::string, void*> addresses_;
  std::map<std::string, nvinfer1::IOutputAllocator*> allocators_;
  void* deviceMemory_ = nullptr;
  int64_t deviceMemoryBytes_ = 0;
  nvinfer1::IProfiler* profiler_ = nullptr;
  bool emitsProfile_ = true;

  std::string lastEnqueuedShapes_;  // shapes of the last enqueueV3, whatever its kind
  bool lastWasPlain_ = false;
  std::string lastPlainBinding_;
  int capturesRefused_ = 0;
};

nvinfer1::IExecutionContext* CreateContext(std::shared_ptr<EngineShared> engine, nvinfer1::ILogger* logger,
                                           nvinfer1::ExecutionContextAllocationStrategy strategy,
                                           const std::string& engineName) {
  try {
    return new FakeContext(std::move(engine), logger, strategy, engineName);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace trt_node::fake_trt
