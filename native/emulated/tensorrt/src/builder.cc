// The fake IBuilder and what it creates (builder config, optimization profiles, network, timing
// cache). buildSerializedNetwork turns the network the fake ONNX parser defined into a fake plan,
// reporting progress through the IProgressMonitor and stopping when it returns false, as TensorRT
// does. Like TensorRT, it logs some failures from a thread of its own (the optimizer's workers).
#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "objects.h"

namespace trt_node::fake_trt {
namespace {

constexpr const char* kTimingCacheMagic = "trt-node-fake-timing-cache";

class FakeTimingCache final : public nvinfer1::ITimingCache {
 public:
  FakeTimingCache(std::string version, int64_t entries) : version_(std::move(version)), entries_(entries) {}
  nvinfer1::IHostMemory* serialize() const noexcept override {
    std::ostringstream out;
    out << kTimingCacheMagic << ' ' << version_ << ' ' << entries_ << '\n';
    return new FakeHostMemory(out.str());
  }
  const std::string& version() const noexcept { return version_; }
  void add(int64_t entries) noexcept { entries_ += entries; }

 private:
  std::string version_;
  int64_t entries_;
};

class FakeOptimizationProfile final : public nvinfer1::IOptimizationProfile {
 public:
  explicit FakeOptimizationProfile(std::string name) : name_(std::move(name)) {}
  ~FakeOptimizationProfile() noexcept override = default;

  bool setDimensions(char const* inputName, nvinfer1::OptProfileSelector select,
                     nvinfer1::Dims const& dims) noexcept override {
    const std::string input = inputName != nullptr ? inputName : "";
    Record(name_, "setDimensions", input + " " + SelectorName(select) + " " + ShapeText(FromDims(dims)));
    Pick(profile_.dims[input], select) = FromDims(dims);
    return true;
  }
#if NV_TENSORRT_MAJOR < 11
  bool setShapeValues(char const* inputName, nvinfer1::OptProfileSelector select, int32_t const* values,
                      int32_t nbValues) noexcept override {
    Shape shape(values, values + std::max(nbValues, 0));
    return StoreValues(inputName, select, shape, "setShapeValues");
  }
#endif
#if NV_TENSORRT_MAJOR > 10 || NV_TENSORRT_MINOR >= 11
  bool setShapeValuesV2(char const* inputName, nvinfer1::OptProfileSelector select, int64_t const* values,
                        int32_t nbValues) noexcept override {
    Shape shape(values, values + std::max(nbValues, 0));
    return StoreValues(inputName, select, shape, "setShapeValuesV2");
  }
#endif

  const Profile& profile() const noexcept { return profile_; }
  const std::string& name() const noexcept { return name_; }

 private:
  static const char* SelectorName(nvinfer1::OptProfileSelector select) {
    return select == nvinfer1::OptProfileSelector::kMIN   ? "min"
           : select == nvinfer1::OptProfileSelector::kOPT ? "opt"
                                                          : "max";
  }
  static Shape& Pick(Bounds& bounds, nvinfer1::OptProfileSelector select) {
    return select == nvinfer1::OptProfileSelector::kMIN   ? bounds.min
           : select == nvinfer1::OptProfileSelector::kOPT ? bounds.opt
                                                          : bounds.max;
  }
  bool StoreValues(char const* inputName, nvinfer1::OptProfileSelector select, const Shape& values, const char* call) {
    const std::string input = inputName != nullptr ? inputName : "";
    Record(name_, call, input + " " + SelectorName(select) + " " + ShapeText(values));
    Pick(profile_.values[input], select) = values;
    return true;
  }

  std::string name_;
  Profile profile_;
};

class FakeBuilderConfig final : public nvinfer1::IBuilderConfig {
 public:
  explicit FakeBuilderConfig(nvinfer1::ILogger* logger) : sink_(NewObjectName("config"), logger) {
    Record(name(), "create");
  }
  ~FakeBuilderConfig() noexcept override { Record(name(), "destroy", ThreadLabel()); }

  const std::string& name() const noexcept { return sink_.owner(); }

  void setFlag(nvinfer1::BuilderFlag builderFlag) noexcept override {
    Record(name(), "setFlag", std::to_string(static_cast<int>(builderFlag)));
  }
  int32_t addOptimizationProfile(nvinfer1::IOptimizationProfile const* profile) noexcept override {
    const auto* fake = static_cast<const FakeOptimizationProfile*>(profile);
    Record(name(), "addOptimizationProfile", fake != nullptr ? fake->name() : "null");
    if (fake == nullptr) {
      sink_.error(nvinfer1::ErrorCode::kINVALID_ARGUMENT, "IBuilderConfig::addOptimizationProfile: null profile");
      return -1;
    }
    for (const auto& [input, bounds] : fake->profile().dims) {
      for (size_t axis = 0; axis < bounds.min.size(); ++axis) {
        if (bounds.min.size() != bounds.max.size() || bounds.opt.size() != bounds.max.size() ||
            bounds.min[axis] > bounds.opt[axis] || bounds.opt[axis] > bounds.max[axis]) {
          sink_.error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                      "IBuilderConfig::addOptimizationProfile: Error Code 3: API Usage Error (min <= opt <= max "
                      "does not hold for " +
                          input + ")");
          return -1;
        }
      }
    }
    profiles.push_back(fake->profile());
    return static_cast<int32_t>(profiles.size()) - 1;
  }
  void setProfilingVerbosity(nvinfer1::ProfilingVerbosity verbosity) noexcept override {
    Record(name(), "setProfilingVerbosity", std::to_string(static_cast<int>(verbosity)));
  }
  nvinfer1::ITimingCache* createTimingCache(void const* blob, std::size_t size) const noexcept override {
    Record(name(), "createTimingCache", "bytes=" + std::to_string(size));
    if (blob == nullptr || size == 0) return new FakeTimingCache(LibraryVersionString(), 0);
    std::istringstream in(std::string(static_cast<const char*>(blob), size));
    std::string magic, version;
    int64_t entries = -1;
    in >> magic >> version >> entries;
    if (magic != kTimingCacheMagic || entries < 0) {
      const_cast<ErrorSink&>(sink_).error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                                          "IBuilderConfig::createTimingCache: Error Code 3: API Usage Error (the "
                                          "timing cache blob is corrupt)");
      return nullptr;
    }
    return new FakeTimingCache(version, entries);
  }
  bool setTimingCache(nvinfer1::ITimingCache const& cache, bool ignoreMismatch) noexcept override {
    const auto& fake = static_cast<const FakeTimingCache&>(cache);
    Record(name(), "setTimingCache", "version=" + fake.version() + (ignoreMismatch ? " ignoreMismatch" : ""));
    if (fake.version() != LibraryVersionString() && !ignoreMismatch) {
      sink_.error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                  "IBuilderConfig::setTimingCache: Error Code 3: API Usage Error (the timing cache was created by "
                  "TensorRT " +
                      fake.version() + ", not " + LibraryVersionString() + ")");
      return false;
    }
    timingCache = const_cast<FakeTimingCache*>(&fake);
    return true;
  }
  nvinfer1::ITimingCache const* getTimingCache() const noexcept override { return timingCache; }
  void setMemoryPoolLimit(nvinfer1::MemoryPoolType pool, std::size_t poolSize) noexcept override {
    Record(name(), "setMemoryPoolLimit", std::to_string(static_cast<int>(pool)) + " " + std::to_string(poolSize));
  }
  void setBuilderOptimizationLevel(int32_t level) noexcept override {
    Record(name(), "setBuilderOptimizationLevel", std::to_string(level));
  }
  void setHardwareCompatibilityLevel(nvinfer1::HardwareCompatibilityLevel level) noexcept override {
    Record(name(), "setHardwareCompatibilityLevel", std::to_string(static_cast<int>(level)));
    hardwareCompatibility = static_cast<int>(level);
  }
  bool setMaxAuxStreams(int32_t nbStreams) noexcept override {
    Record(name(), "setMaxAuxStreams", std::to_string(nbStreams));
    return nbStreams >= 0;
  }
  void setProgressMonitor(nvinfer1::IProgressMonitor* monitor) noexcept override {
    Record(name(), "setProgressMonitor", monitor != nullptr ? "set" : "null");
    progressMonitor = monitor;
  }

  std::vector<Profile> profiles;
  FakeTimingCache* timingCache = nullptr;
  nvinfer1::IProgressMonitor* progressMonitor = nullptr;
  int hardwareCompatibility = 0;

 private:
  mutable ErrorSink sink_;
};

class FakeTensor final : public nvinfer1::ITensor {
 public:
  explicit FakeTensor(TensorSpec spec) : spec_(std::move(spec)) {}
  ~FakeTensor() noexcept override = default;
  char const* getName() const noexcept override { return spec_.name.c_str(); }
  nvinfer1::Dims getDimensions() const noexcept override {
    nvinfer1::Dims dims{};
    dims.nbDims = static_cast<int32_t>(spec_.dims.size());
    for (size_t i = 0; i < spec_.dims.size() && i < 8; ++i) dims.d[i] = spec_.dims[i];
    return dims;
  }
  nvinfer1::DataType getType() const noexcept override { return spec_.dtype; }
  bool isShapeTensor() const noexcept override { return spec_.shapeTensor; }

 private:
  TensorSpec spec_;
};

class FakeNetwork final : public FakeNetworkDefinition {
 public:
  FakeNetwork(nvinfer1::ILogger* logger, bool stronglyTyped) : sink_(NewObjectName("network"), logger) {
    network_.strongTyping = stronglyTyped;
    Record(objectName(), "create", stronglyTyped ? "stronglyTyped" : "weaklyTyped");
  }
  ~FakeNetwork() noexcept override { Record(objectName(), "destroy", ThreadLabel()); }

  int32_t getNbInputs() const noexcept override { return static_cast<int32_t>(inputs_.size()); }
  nvinfer1::ITensor* getInput(int32_t index) const noexcept override {
    if (index < 0 || static_cast<size_t>(index) >= inputs_.size()) return nullptr;
    return inputs_[static_cast<size_t>(index)].get();
  }
  void setErrorRecorder(nvinfer1::IErrorRecorder* recorder) noexcept override {
    Record(objectName(), "setErrorRecorder", recorder != nullptr ? "set" : "null");
    sink_.setRecorder(recorder);
  }
  void define(Network network) override {
    const bool strong = network_.strongTyping;
    network_ = std::move(network);
    network_.strongTyping = strong;
    inputs_.clear();
    for (const auto& tensor : network_.io) {
      if (tensor.isInput) inputs_.push_back(std::make_unique<FakeTensor>(tensor));
    }
    defined_ = true;
    Record(objectName(), "define", network_.name + " layers=" + std::to_string(network_.layers.size()));
  }
  const std::string& objectName() const override { return sink_.owner(); }
  nvinfer1::ILogger* logger() const override { return sink_.logger(); }

  bool defined() const noexcept { return defined_; }
  const Network& network() const noexcept { return network_; }

 private:
  ErrorSink sink_;
  Network network_;
  bool defined_ = false;
  std::vector<std::unique_ptr<FakeTensor>> inputs_;
};

class FakeBuilder final : public nvinfer1::IBuilder {
 public:
  explicit FakeBuilder(nvinfer1::ILogger* logger) : sink_(NewObjectName("builder"), logger) {
    CountLive("builder", 1);
    Record(name(), "create", ThreadLabel());
  }
  ~FakeBuilder() noexcept override {
    Record(name(), "destroy", ThreadLabel());
    CountLive("builder", -1);
  }

  const std::string& name() const noexcept { return sink_.owner(); }

  nvinfer1::IBuilderConfig* createBuilderConfig() noexcept override { return new FakeBuilderConfig(sink_.logger()); }

  nvinfer1::INetworkDefinition* createNetworkV2(nvinfer1::NetworkDefinitionCreationFlags flags) noexcept override {
    Record(name(), "createNetworkV2", "flags=" + std::to_string(flags));
#if NV_TENSORRT_MAJOR > 10
    // TensorRT 11 reassigned bit 1 (kSTRONGLY_TYPED in 10.x) to kPREFER_JIT_PYTHON_PLUGINS.
    if ((flags & (1U << 1)) != 0) {
      Violation(name(),
                "createNetworkV2 with bit 1 set: in TensorRT 11 that is kPREFER_JIT_PYTHON_PLUGINS, not "
                "kSTRONGLY_TYPED (networks are always strongly typed)");
    }
    return new FakeNetwork(sink_.logger(), true);
#else
    return new FakeNetwork(
        sink_.logger(),
        (flags & (1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kSTRONGLY_TYPED))) != 0);
#endif
  }

  nvinfer1::IOptimizationProfile* createOptimizationProfile() noexcept override {
    profiles_.push_back(std::make_unique<FakeOptimizationProfile>(NewObjectName("profile")));
    Record(name(), "createOptimizationProfile", profiles_.back()->name());
    return profiles_.back().get();
  }

  void setErrorRecorder(nvinfer1::IErrorRecorder* recorder) noexcept override {
    Record(name(), "setErrorRecorder", recorder != nullptr ? "set" : "null");
    sink_.setRecorder(recorder);
  }

  nvinfer1::IHostMemory* buildSerializedNetwork(nvinfer1::INetworkDefinition& networkDefinition,
                                                nvinfer1::IBuilderConfig& builderConfig) noexcept override {
    auto& definition = static_cast<FakeNetwork&>(networkDefinition);
    auto& config = static_cast<FakeBuilderConfig&>(builderConfig);
    Record(name(), "buildSerializedNetwork", definition.objectName() + " " + config.name());
    try {
      return Build(definition, config);
    } catch (const std::exception& error) {
      sink_.error(nvinfer1::ErrorCode::kINTERNAL_ERROR,
                  std::string("IBuilder::buildSerializedNetwork: ") + error.what());
    } catch (...) {
      sink_.error(nvinfer1::ErrorCode::kINTERNAL_ERROR, "IBuilder::buildSerializedNetwork: unknown failure");
    }
    return nullptr;
  }

 private:
  nvinfer1::IHostMemory* Build(const FakeNetwork& definition, FakeBuilderConfig& config) {
    if (!definition.defined()) {
      sink_.error(nvinfer1::ErrorCode::kINVALID_ARGUMENT,
                  "IBuilder::buildSerializedNetwork: Error Code 4: API Usage Error (the network has no layers)");
      return nullptr;
    }
    Network network = definition.network();
    network.profiles = config.profiles;
    network.hardwareCompatibility = config.hardwareCompatibility;
    if (!CheckProfiles(network)) return nullptr;

    nvinfer1::IProgressMonitor* monitor = config.progressMonitor;
    const auto steps = static_cast<int32_t>(network.layers.size());
    if (monitor != nullptr) monitor->phaseStart("Building engine", nullptr, 2);
    if (monitor != nullptr) monitor->phaseStart("Optimizing layers", "Building engine", steps);
    for (int32_t step = 0; step < steps; ++step) {
      if (network.buildMillis > 0) std::this_thread::sleep_for(std::chrono::milliseconds(network.buildMillis));
      if (monitor != nullptr && !monitor->stepComplete("Optimizing layers", step)) {
        Record(name(), "build.cancelled", "step=" + std::to_string(step));
        monitor->phaseFinish("Optimizing layers");
        monitor->phaseFinish("Building engine");
        sink_.error(nvinfer1::ErrorCode::kUNSPECIFIED_ERROR,
                    "IBuilder::buildSerializedNetwork: the build was cancelled by the progress monitor");
        return nullptr;
      }
    }
    if (monitor != nullptr) monitor->phaseFinish("Optimizing layers");
    if (!network.failBuild.empty()) {
      // As TensorRT does: the reason comes from one of the optimizer's own threads, the summary from
      // the calling thread.
      nvinfer1::ILogger* logger = sink_.logger();
      const std::string message = "[optimizer thread] " + network.failBuild;
      std::thread([logger, message] { logger->log(nvinfer1::ILogger::Severity::kERROR, message.c_str()); }).join();
      if (monitor != nullptr) monitor->phaseFinish("Building engine");
      sink_.error(
          nvinfer1::ErrorCode::kINTERNAL_ERROR,
          "IBuilder::buildSerializedNetwork: Error Code 2: Internal Error (Assertion engine != nullptr failed.)");
      return nullptr;
    }
    if (monitor != nullptr) {
      monitor->stepComplete("Building engine", 0);
      monitor->phaseFinish("Building engine");
    }
    if (config.timingCache != nullptr) config.timingCache->add(steps);
    return new FakeHostMemory(SerializePlan(network));
  }

  bool CheckProfiles(const Network& network) {
    bool dynamic = false;
    for (const auto& tensor : network.io) {
      if (!tensor.isInput) continue;
      const bool needsDims = std::any_of(tensor.dims.begin(), tensor.dims.end(), [](int64_t dim) { return dim < 0; });
      dynamic = dynamic || needsDims || tensor.shapeTensor;
      for (size_t p = 0; p < network.profiles.size(); ++p) {
        const Profile& profile = network.profiles[p];
        if (needsDims && profile.dims.find(tensor.name) == profile.dims.end()) {
          sink_.error(nvinfer1::ErrorCode::kINVALID_CONFIG,
                      "IBuilder::buildSerializedNetwork: Error Code 4: API Usage Error (Optimization profile " +
                          std::to_string(p) + " has no dimensions for dynamic input " + tensor.name + ")");
          return false;
        }
        if (tensor.shapeTensor) {
          auto values = profile.values.find(tensor.name);
          if (values == profile.values.end() || values->second.min.empty() || values->second.max.empty()) {
            sink_.error(nvinfer1::ErrorCode::kINVALID_CONFIG,
                        "IBuilder::buildSerializedNetwork: Error Code 4: API Usage Error (Optimization profile " +
                            std::to_string(p) + " is missing values for shape input " + tensor.name +
                            ": call setShapeValues)");
            return false;
          }
        }
      }
    }
    if (dynamic && network.profiles.empty()) {
      sink_.error(nvinfer1::ErrorCode::kINVALID_CONFIG,
                  "IBuilder::buildSerializedNetwork: Error Code 4: API Usage Error (Network has dynamic or shape "
                  "inputs, but no optimization profile has been defined.)");
      return false;
    }
    return true;
  }

  ErrorSink sink_;
  std::vector<std::unique_ptr<FakeOptimizationProfile>> profiles_;
};

}  // namespace

nvinfer1::IBuilder* CreateBuilder(nvinfer1::ILogger* logger) { return new FakeBuilder(logger); }

}  // namespace trt_node::fake_trt
