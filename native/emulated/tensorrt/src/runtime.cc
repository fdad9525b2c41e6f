// The fake IRuntime and ICudaEngine: deserialize a fake plan and answer every engine query from it.
// They check the destruction order TensorRT requires (contexts before their engine, engines before
// their runtime) and record which thread released them.
#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "objects.h"

namespace trt_node::fake_trt {

// ------------------------------------------------------------------------------------------------
// Plugins (initLibNvInferPlugins, from libnvinfer_plugin)
// ------------------------------------------------------------------------------------------------

namespace {
std::atomic<bool> pluginsInitialized{false};
}

void SetPluginsInitialized(const std::string& libNamespace) {
  pluginsInitialized = true;
  Record("plugins", "initLibNvInferPlugins", "namespace=" + libNamespace);
}

bool PluginsInitialized() { return pluginsInitialized.load(); }

// ------------------------------------------------------------------------------------------------
// Runtime
// ------------------------------------------------------------------------------------------------

class FakeRuntime final : public nvinfer1::IRuntime {
 public:
  explicit FakeRuntime(nvinfer1::ILogger* logger) : name_(NewObjectName("runtime")), sink_(name_, logger) {
    CountLive("runtime", 1);
    Record(name_, "create", ThreadLabel());
  }
  ~FakeRuntime() noexcept override {
    const int engines = liveEngines.load();
    Record(name_, "destroy", ThreadLabel() + " engines=" + std::to_string(engines));
    if (engines > 0) {
      Violation(name_, "IRuntime destroyed before the " + std::to_string(engines) +
                           " engine(s) it deserialized (TensorRT requires the runtime to outlive its engines)");
    }
    sink_.log(nvinfer1::ILogger::Severity::kVERBOSE, "fake TensorRT: runtime destroyed");
    CountLive("runtime", -1);
  }

  void setErrorRecorder(nvinfer1::IErrorRecorder* recorder) noexcept override {
    Record(name_, "setErrorRecorder", recorder != nullptr ? "set" : "null");
    sink_.setRecorder(recorder);
  }
  nvinfer1::ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size) noexcept override {
    Record(name_, "deserializeCudaEngine", "bytes=" + std::to_string(size));
    return DeserializeEngine(*this, blob, size);
  }
  void setEngineHostCodeAllowed(bool allowed) noexcept override {
    Record(name_, "setEngineHostCodeAllowed", allowed ? "true" : "false");
    hostCodeAllowed = allowed;
  }

  const std::string& name() const noexcept { return name_; }
  ErrorSink& sink() noexcept { return sink_; }

  std::atomic<bool> hostCodeAllowed{false};
  std::atomic<int> liveEngines{0};

 private:
  std::string name_;
  ErrorSink sink_;
};

nvinfer1::IRuntime* CreateRuntime(nvinfer1::ILogger* logger) { return new FakeRuntime(logger); }

// ------------------------------------------------------------------------------------------------
// Engine inspector
// ------------------------------------------------------------------------------------------------

namespace {

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class FakeInspector final : public nvinfer1::IEngineInspector {
 public:
  explicit FakeInspector(std::shared_ptr<const Network> network) : network_(std::move(network)) {}
  char const* getEngineInformation(nvinfer1::LayerInformationFormat format) const noexcept override {
    try {
      // The detailed JSON shape Polygraphy and lib/build/precision-check.ts read.
      std::map<std::string, nvinfer1::DataType> types;
      for (const auto& tensor : network_->io) types[tensor.name] = tensor.dtype;
      for (const auto& constant : network_->constants) types[constant.name] = nvinfer1::DataType::kFLOAT;
      for (const auto& layer : network_->layers) {
        const auto in = types.find(layer.inputs.at(0));
        const nvinfer1::DataType type = layer.op == "Cast"  ? layer.castTo
                                        : in != types.end() ? in->second
                                                            : nvinfer1::DataType::kFLOAT;
        for (const auto& output : layer.outputs) {
          if (network_->find(output) == nullptr)
            types[output] = layer.op == "NonZero" ? nvinfer1::DataType::kINT64 : type;
        }
      }
      auto tensors = [&](const std::vector<std::string>& names) {
        std::string out = "[";
        for (size_t i = 0; i < names.size(); ++i) {
          const auto type = types.count(names[i]) ? types[names[i]] : nvinfer1::DataType::kFLOAT;
          out += (i > 0 ? "," : "") + std::string("{\"Name\":") + JsonString(names[i]) +
                 ",\"Location\":\"Device\",\"Format/Datatype\":" +
                 JsonString(FormatDescription(type, nvinfer1::TensorFormat::kLINEAR)) + "}";
        }
        return out + "]";
      };
      std::string json = "{\"Layers\":[";
      for (size_t i = 0; i < network_->layers.size(); ++i) {
        const Layer& layer = network_->layers[i];
        json += (i > 0 ? "," : "") + std::string("{\"Name\":") + JsonString(layer.name) +
                ",\"LayerType\":" + JsonString(layer.op) + ",\"Inputs\":" + tensors(layer.inputs) +
                ",\"Outputs\":" + tensors(layer.outputs) + "}";
      }
      json += "],\"Bindings\":[";
      for (size_t i = 0; i < network_->io.size(); ++i) json += (i > 0 ? "," : "") + JsonString(network_->io[i].name);
      json += "],\"FakeTensorRT\":true}";
      text_ = format == nvinfer1::LayerInformationFormat::kJSON ? json : network_->name;
      return text_.c_str();
    } catch (...) {
      return nullptr;
    }
  }

 private:
  std::shared_ptr<const Network> network_;
  mutable std::string text_;
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// Engine
// ------------------------------------------------------------------------------------------------

class FakeEngine final : public nvinfer1::ICudaEngine {
 public:
  FakeEngine(FakeRuntime& runtime, std::shared_ptr<const Network> network)
      : runtime_(runtime),
        shared_(std::make_shared<EngineShared>()),
        sink_(NewObjectName("engine"), runtime.sink().logger()) {
    shared_->name = sink_.owner();
    shared_->network = std::move(network);
    ++runtime_.liveEngines;
    CountLive("engine", 1);
    Record(name(), "create", ThreadLabel() + " from=" + runtime_.name() + " network=" + network_().name);
  }
  ~FakeEngine() noexcept override {
    const int contexts = shared_->liveContexts.load();
    Record(name(), "destroy", ThreadLabel() + " contexts=" + std::to_string(contexts));
    if (contexts > 0) {
      Violation(name(), "ICudaEngine destroyed before its " + std::to_string(contexts) +
                            " execution context(s) (TensorRT requires the engine to outlive its contexts)");
    }
    sink_.log(nvinfer1::ILogger::Severity::kVERBOSE, "fake TensorRT: engine destroyed");
    --runtime_.liveEngines;
    CountLive("engine", -1);
  }

  const std::string& name() const noexcept { return sink_.owner(); }
  const Network& network_() const noexcept { return *shared_->network; }

  nvinfer1::Dims getTensorShape(char const* tensorName) const noexcept override {
    const TensorSpec* tensor = lookup(tensorName, "getTensorShape");
    return tensor != nullptr ? ToDims(tensor->dims) : nvinfer1::Dims{-1, {}};
  }
  nvinfer1::DataType getTensorDataType(char const* tensorName) const noexcept override {
    const TensorSpec* tensor = lookup(tensorName, "getTensorDataType");
    return tensor != nullptr ? tensor->dtype : nvinfer1::DataType::kFLOAT;
  }
  int32_t getNbLayers() const noexcept override { return static_cast<int32_t>(network_().layers.size()); }
  nvinfer1::IExecutionContext* createExecutionContext(
      nvinfer1::ExecutionContextAllocationStrategy strategy) noexcept override {
    Record(name(), "createExecutionContext", "strategy=" + std::to_string(static_cast<int>(strategy)));
    return CreateContext(shared_, sink_.logger(), strategy, name());
  }
  nvinfer1::TensorLocation getTensorLocation(char const* tensorName) const noexcept override {
    const TensorSpec* tensor = lookup(tensorName, "getTensorLocation");
    return tensor != nullptr && tensor->shapeTensor ? nvinfer1::TensorLocation::kHOST
                                                    : nvinfer1::TensorLocation::kDEVICE;
  }
  bool isShapeInferenceIO(char const* tensorName) const noexcept override {
    const TensorSpec* tensor = lookup(tensorName, "isShapeInferenceIO");
    return tensor != nullptr && tensor->shapeTensor;
  }
  nvinfer1::TensorIOMode getTensorIOMode(char const* tensorName) const noexcept override {
    const TensorSpec* tensor = network_().find(tensorName != nullptr ? tensorName : "");
    if (tensor == nullptr) return nvinfer1::TensorIOMode::kNONE;
    return tensor->isInput ? nvinfer1::TensorIOMode::kINPUT : nvinfer1::TensorIOMode::kOUTPUT;
  }
  int64_t getDeviceMemorySizeV2() const noexcept override {
    int64_t largest = 0;
    for (int32_t p = 0; p < getNbOptimizationProfiles(); ++p) largest = std::max(largest, MemoryForProfile(p));
    return largest;
  }
  int64_t getDeviceMemorySizeForProfileV2(int32_t profileIndex) const noexcept override {
    Record(name(), "getDeviceMemorySizeForProfileV2", "profile=" + std::to_string(profileIndex));
    return MemoryForProfile(profileIndex);
  }
  nvinfer1::TensorFormat getTensorFormat(char const* tensorName) const noexcept override {
    Record(name(), "getTensorFormat", std::string(tensorName != nullptr ? tensorName : "") + " profile=none");
    warnProfileLess("getTensorFormat");
    const TensorSpec* tensor = lookup(tensorName, "getTensorFormat");
    return tensor != nullptr ? network_().formatOf(*tensor, 0) : nvinfer1::TensorFormat::kLINEAR;
  }
  nvinfer1::TensorFormat getTensorFormat(char const* tensorName, int32_t profileIndex) const noexcept override {
    Record(name(), "getTensorFormat",
           std::string(tensorName != nullptr ? tensorName : "") + " profile=" + std::to_string(profileIndex));
    const TensorSpec* tensor = lookup(tensorName, "getTensorFormat");
    return tensor != nullptr ? network_().formatOf(*tensor, profileIndex) : nvinfer1::TensorFormat::kLINEAR;
  }
  char const* getTensorFormatDesc(char const* tensorName) const noexcept override {
    warnProfileLess("getTensorFormatDesc");
    return formatDescription(tensorName, 0);
  }
  char const* getTensorFormatDesc(char const* tensorName, int32_t profileIndex) const noexcept override {
    return formatDescription(tensorName, profileIndex);
  }
  int32_t getTensorVectorizedDim(char const* tensorName) const noexcept override {
    Record(name(), "getTensorVectorizedDim", std::string(tensorName != nullptr ? tensorName : "") + " profile=none");
    warnProfileLess("getTensorVectorizedDim");
    return getTensorVectorizedDim(tensorName, 0);
  }
  int32_t getTensorVectorizedDim(char const* tensorName, int32_t profileIndex) const noexcept override {
    const TensorSpec* tensor = lookup(tensorName, "getTensorVectorizedDim");
    if (tensor == nullptr) return -1;
    return VectorizedDim(network_().formatOf(*tensor, profileIndex), tensor->dims.size());
  }
  char const* getName() const noexcept override { return network_().name.c_str(); }
  int32_t getNbOptimizationProfiles() const noexcept override {
    return std::max<int32_t>(1, static_cast<int32_t>(network_().profiles.size()));
  }
  nvinfer1::Dims getProfileShape(char const* tensorName, int32_t profileIndex,
                                 nvinfer1::OptProfileSelector select) const noexcept override {
    const TensorSpec* tensor = lookup(tensorName, "getProfileShape");
    if (tensor == nullptr || !tensor->isInput || profileIndex < 0 || profileIndex >= getNbOptimizationProfiles()) {
      return nvinfer1::Dims{-1, {}};
    }
    if (static_cast<size_t>(profileIndex) < network_().profiles.size()) {
      const auto& dims = network_().profiles[static_cast<size_t>(profileIndex)].dims;
      auto found = dims.find(tensor->name);
      if (found != dims.end()) {
        return ToDims(select == nvinfer1::OptProfileSelector::kMIN   ? found->second.min
                      : select == nvinfer1::OptProfileSelector::kOPT ? found->second.opt
                                                                     : found->second.max);
      }
    }
    return ToDims(tensor->dims);
  }
  void setErrorRecorder(nvinfer1::IErrorRecorder* recorder) noexcept override {
    Record(name(), "setErrorRecorder", recorder != nullptr ? "set" : "null");
    sink_.setRecorder(recorder);
  }
  nvinfer1::IEngineInspector* createEngineInspector() const noexcept override {
    Record(name(), "createEngineInspector");
    return new FakeInspector(shared_->network);
  }
  int32_t getNbIOTensors() const noexcept override { return static_cast<int32_t>(network_().io.size()); }
  char const* getIOTensorName(int32_t index) const noexcept override {
    if (index < 0 || static_cast<size_t>(index) >= network_().io.size()) return nullptr;
    return network_().io[static_cast<size_t>(index)].name.c_str();
  }
  nvinfer1::HardwareCompatibilityLevel getHardwareCompatibilityLevel() const noexcept override {
    return static_cast<nvinfer1::HardwareCompatibilityLevel>(network_().hardwareCompatibility);
  }
  int32_t getNbAuxStreams() const noexcept override { return 0; }

 private:
  const TensorSpec* lookup(char const* tensorName, const char* what) const {
    const TensorSpec* tensor = network_().find(tensorName != nullptr ? tensorName : "");
    if (tensor == nullptr) {
      const_cast<ErrorSink&>(sink_).error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                                          std::string("ICudaEngine::") + what +
                                              ": Error Code 3: API Usage Error (no tensor named " +
                                              (tensorName != nullptr ? tensorName : "(null)") + ")");
    }
    return tensor;
  }

  // TensorRT warns when a profile-less query meets an engine with several profiles: the answer is
  // profile 0's, which may not be the one the caller uses.
  void warnProfileLess(const char* what) const {
    if (network_().profiles.size() > 1) {
      const_cast<ErrorSink&>(sink_).log(
          nvinfer1::ILogger::Severity::kWARNING,
          std::string("ICudaEngine::") + what +
              ": the engine has several optimization profiles; this overload answers for profile 0 (use the "
              "overload that takes a profile index)");
    }
  }

  char const* formatDescription(char const* tensorName, int32_t profile) const {
    const TensorSpec* tensor = lookup(tensorName, "getTensorFormatDesc");
    if (tensor == nullptr) return nullptr;
    std::lock_guard<std::mutex> lock(descriptionsMutex_);
    std::string& text = descriptions_[tensor->name + "#" + std::to_string(profile)];
    text = FormatDescription(tensor->dtype, network_().formatOf(*tensor, profile));
    return text.c_str();
  }

  int64_t MemoryForProfile(int32_t profile) const { return DeviceMemoryForProfile(network_(), profile); }

  FakeRuntime& runtime_;
  std::shared_ptr<EngineShared> shared_;
  mutable ErrorSink sink_;
  mutable std::mutex descriptionsMutex_;
  mutable std::map<std::string, std::string> descriptions_;
};

nvinfer1::ICudaEngine* DeserializeEngine(FakeRuntime& runtime, const void* blob, size_t size) {
  try {
    if (blob == nullptr || size == 0)
      throw std::runtime_error("IRuntime::deserializeCudaEngine: Error Code 3: API Usage Error (empty plan)");
    auto network = std::make_shared<Network>(DeserializePlan(blob, size));
    if (network->loadMillis > 0) std::this_thread::sleep_for(std::chrono::milliseconds(network->loadMillis));
    if (network->hostCode && !runtime.hostCodeAllowed) {
      throw std::runtime_error(
          "IRuntime::deserializeCudaEngine: Error Code 9: API Usage Error (Engine host code is not allowed: the plan "
          "embeds host code (lean runtime or plugins); call setEngineHostCodeAllowed(true) to load it)");
    }
    for (const auto& layer : network->layers) {
      if (layer.op == "Plugin" && !PluginsInitialized()) {
        throw std::runtime_error("IPluginRegistry::getCreator: Error Code 4: API Usage Error (Cannot find plugin: " +
                                 layer.plugin + ", version: 1, namespace:.)");
      }
    }
    return new FakeEngine(runtime, std::move(network));
  } catch (const std::exception& error) {
    runtime.sink().error(nvinfer1::ErrorCode::kINVALID_ARGUMENT, error.what());
  } catch (...) {
    runtime.sink().error(nvinfer1::ErrorCode::kINTERNAL_ERROR, "fake TensorRT: unknown deserialization failure");
  }
  return nullptr;
}

}  // namespace trt_node::fake_trt
