#include "trt/builder.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <climits>

#include "core/error.h"
#include "trt/error_recorder.h"
#include "trt/logger.h"
#include "trt/version_gates.h"

namespace trt_node::trt {
namespace {

class ProgressMonitor final : public nvinfer1::IProgressMonitor {
 public:
  ProgressMonitor(const std::function<void(const BuildProgressEvent&)>& onProgress,
                  const std::function<bool()>& stopRequested)
      : onProgress_(onProgress), stopRequested_(stopRequested) {}

  void phaseStart(char const* phaseName, char const* parentPhase, int32_t nbSteps) noexcept override {
    emit({BuildProgressEvent::Kind::kPhaseStart, phaseName != nullptr ? phaseName : "",
          parentPhase != nullptr ? parentPhase : "", 0, nbSteps});
  }

  bool stepComplete(char const* phaseName, int32_t step) noexcept override {
    emit({BuildProgressEvent::Kind::kStep, phaseName != nullptr ? phaseName : "", "", step, 0});
    // Returning false asks TensorRT to stop the build: how an AbortSignal (or the end of a worker's
    // environment) reaches it.
    return !Stopped();
  }

  void phaseFinish(char const* phaseName) noexcept override {
    emit({BuildProgressEvent::Kind::kPhaseFinish, phaseName != nullptr ? phaseName : "", "", 0, 0});
  }

 private:
  void emit(const BuildProgressEvent& event) noexcept {
    try {
      if (onProgress_) onProgress_(event);
    } catch (...) {
      // Progress is best effort; it must never throw into TensorRT.
    }
  }

  bool Stopped() const noexcept {
    try {
      return stopRequested_ && stopRequested_();
    } catch (...) {
      return true;
    }
  }

  const std::function<void(const BuildProgressEvent&)>& onProgress_;
  const std::function<bool()>& stopRequested_;
};

nvinfer1::Dims ToDims(const std::vector<int64_t>& shape) {
  nvinfer1::Dims dims{};
  if (shape.size() > static_cast<size_t>(nvinfer1::Dims::MAX_DIMS)) {
    throw InvalidArgument("A profile shape has " + std::to_string(shape.size()) + " dimensions; TensorRT allows " +
                              std::to_string(nvinfer1::Dims::MAX_DIMS),
                          ErrorKind::kRange);
  }
  dims.nbDims = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) dims.d[i] = shape[i];
  return dims;
}

nvinfer1::HardwareCompatibilityLevel ToHardwareCompatibility(const std::string& name) {
  if (name == "none") return nvinfer1::HardwareCompatibilityLevel::kNONE;
  if (name == "ampere+") return nvinfer1::HardwareCompatibilityLevel::kAMPERE_PLUS;
#if TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(NV_TENSORRT_MAJOR, NV_TENSORRT_MINOR)
  if (name == "same-compute-capability") return nvinfer1::HardwareCompatibilityLevel::kSAME_COMPUTE_CAPABILITY;
#endif
  throw InvalidArgument("Hardware compatibility \"" + name + "\" is not supported by TensorRT " +
                            std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR),
                        ErrorKind::kRange);
}

#if NV_TENSORRT_MAJOR <= 10
// TensorRT 10 takes shape-tensor value bounds as int32 (see SetShapeValues).
std::vector<int32_t> NarrowShapeValues(const std::vector<int64_t>& values, const std::string& input) {
  std::vector<int32_t> narrow;
  for (int64_t value : values) {
    if (value < INT32_MIN || value > INT32_MAX) {
      throw InvalidArgument("A value bound of shape-tensor input \"" + input + "\" does not fit in 32 bits (" +
                                std::to_string(value) + "), which TensorRT 10's setShapeValues takes",
                            ErrorKind::kRange);
    }
    narrow.push_back(static_cast<int32_t>(value));
  }
  return narrow;
}
#endif

bool SetShapeValues(nvinfer1::IOptimizationProfile& profile, const std::string& input,
                    nvinfer1::OptProfileSelector select, const std::vector<int64_t>& values) {
#if NV_TENSORRT_MAJOR > 10
  return profile.setShapeValuesV2(input.c_str(), select, values.data(), static_cast<int32_t>(values.size()));
#else
  // The int32 overload on every 10.x: setShapeValuesV2 only exists from 10.11, and a binary built
  // against newer 10.x headers must not call past the end of an older library's vtable (JetPack 6
  // ships 10.3). Deprecated from 10.11, hence the pragma.
  const std::vector<int32_t> narrow = NarrowShapeValues(values, input);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return profile.setShapeValues(input.c_str(), select, narrow.data(), static_cast<int32_t>(narrow.size()));
#pragma GCC diagnostic pop
#endif
}

std::string DescribeParserErrors(nvonnxparser::IParser& parser) {
  std::string text;
  for (int i = 0; i < parser.getNbErrors(); ++i) {
    const nvonnxparser::IParserError* error = parser.getError(i);
    if (error == nullptr) continue;
    text += "\n  - node " + std::to_string(error->node());
    const char* nodeName = error->nodeName();
    const char* op = error->nodeOperator();
    if (nodeName != nullptr && nodeName[0] != '\0') text += " (" + std::string(nodeName);
    if (op != nullptr && op[0] != '\0')
      text += std::string(nodeName != nullptr && nodeName[0] != '\0' ? ", " : " (") + "op " + op;
    if ((nodeName != nullptr && nodeName[0] != '\0') || (op != nullptr && op[0] != '\0')) text += ")";
    text += ": " + std::string(error->desc() != nullptr ? error->desc() : "unknown error");
  }
  return text;
}

}  // namespace

BuildResult BuildFromOnnx(TensorRTLibrary& library, const std::string& onnxPath, const BuildOptions& options,
                          const std::function<void(const BuildProgressEvent&)>& onProgress,
                          const std::function<bool()>& stopRequested) {
  auto stopped = [&stopRequested] { return stopRequested && stopRequested(); };
  const cudaError_t status = cudaSetDevice(options.device);
  if (status != cudaSuccess) {
    cudaGetLastError();
    NativeError error(
        status == cudaErrorInvalidDevice ? "ERR_INVALID_ARGUMENT" : "ERR_CUDA",
        "Cannot build on CUDA device " + std::to_string(options.device) + ": " + cudaGetErrorString(status),
        status == cudaErrorInvalidDevice ? ErrorKind::kRange : ErrorKind::kGeneric);
    throw error.withCudaError(static_cast<int>(status), cudaGetErrorName(status));
  }

  // Also what TensorRT logs from its own threads while this build runs: the builder's workers log the
  // reason a build failed there, and ERR_BUILD must carry it.
  Logger::Capture capture(Severity::kWARNING, true);
  // Declaration order is destruction order reversed: recorders and the monitor outlive the objects
  // that point at them; the builder outlives the network, config and parser created from it.
  ErrorRecorder builderRecorder;
  ErrorRecorder networkRecorder;
  ProgressMonitor monitor(onProgress, stopRequested);
  Owned<nvinfer1::IBuilder> builder(library.createBuilder(Logger::Instance()));
  builder->setErrorRecorder(&builderRecorder);

#if NV_TENSORRT_MAJOR < 11
  const uint32_t networkFlags = 1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kSTRONGLY_TYPED);
#else
  const uint32_t networkFlags = 0;  // every network is strongly typed in TensorRT 11
#endif
  Owned<nvinfer1::INetworkDefinition> network(builder->createNetworkV2(networkFlags));
  if (!network)
    throw TensorRTFailure("ERR_BUILD", "TensorRT could not create a network", builderRecorder, capture.messages());
  network->setErrorRecorder(&networkRecorder);

  Owned<nvonnxparser::IParser> parser(library.createOnnxParser(*network, Logger::Instance()));
  if (!parser->parseFromFile(onnxPath.c_str(), static_cast<int>(Severity::kWARNING))) {
    NativeError error("ERR_ONNX", "TensorRT's ONNX parser rejected " + onnxPath + ":" + DescribeParserErrors(*parser));
    error.withTensorRT(std::nullopt, capture.messages());
    throw error;
  }
  if (stopped()) throw NativeError("ERR_ABORTED", "The engine build was aborted");

  Owned<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
  if (!config)
    throw TensorRTFailure("ERR_BUILD", "TensorRT could not create a builder config", builderRecorder,
                          capture.messages());
  config->setProgressMonitor(&monitor);
  // Detailed layer information lets the engine inspector confirm the requested precision was used.
  config->setProfilingVerbosity(nvinfer1::ProfilingVerbosity::kDETAILED);
  if (options.workspaceBytes) config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, *options.workspaceBytes);
  if (options.optimizationLevel) config->setBuilderOptimizationLevel(*options.optimizationLevel);
  if (options.maxAuxStreams) config->setMaxAuxStreams(*options.maxAuxStreams);
  config->setHardwareCompatibilityLevel(ToHardwareCompatibility(options.hardwareCompatibility));
  if (options.versionCompatible) config->setFlag(nvinfer1::BuilderFlag::kVERSION_COMPATIBLE);
  if (options.excludeLeanRuntime) config->setFlag(nvinfer1::BuilderFlag::kEXCLUDE_LEAN_RUNTIME);

  // Shape-tensor inputs: every profile must bound their values too (setShapeValues).
  std::vector<std::string> shapeInputs;
  for (int32_t i = 0; i < network->getNbInputs(); ++i) {
    const nvinfer1::ITensor* input = network->getInput(i);
    if (input != nullptr && input->isShapeTensor()) shapeInputs.emplace_back(input->getName());
  }
  if (options.profiles.empty() && !shapeInputs.empty()) {
    throw InvalidArgument("Input \"" + shapeInputs.front() +
                              "\" is a shape tensor (its values decide other shapes): give options.profiles with "
                              "its bounds and values, e.g. { min, opt, max, values: { min, opt, max } }",
                          ErrorKind::kRange);
  }
  for (size_t p = 0; p < options.profiles.size(); ++p) {
    const auto& profileSpec = options.profiles[p];
    nvinfer1::IOptimizationProfile* profile = builder->createOptimizationProfile();
    for (const auto& input : profileSpec) {
      const bool ok =
          profile->setDimensions(input.input.c_str(), nvinfer1::OptProfileSelector::kMIN, ToDims(input.min)) &&
          profile->setDimensions(input.input.c_str(), nvinfer1::OptProfileSelector::kOPT, ToDims(input.opt)) &&
          profile->setDimensions(input.input.c_str(), nvinfer1::OptProfileSelector::kMAX, ToDims(input.max)) &&
          (!input.values ||
           (SetShapeValues(*profile, input.input, nvinfer1::OptProfileSelector::kMIN, input.values->min) &&
            SetShapeValues(*profile, input.input, nvinfer1::OptProfileSelector::kOPT, input.values->opt) &&
            SetShapeValues(*profile, input.input, nvinfer1::OptProfileSelector::kMAX, input.values->max)));
      if (!ok) {
        NativeError error = TensorRTFailure(
            "ERR_INVALID_ARGUMENT", "TensorRT refused the optimization profile of input \"" + input.input + "\"",
            builderRecorder, capture.messages());
        throw error;
      }
    }
    for (const auto& shapeInput : shapeInputs) {
      const bool bounded = std::any_of(profileSpec.begin(), profileSpec.end(), [&](const InputProfile& input) {
        return input.input == shapeInput && input.values.has_value();
      });
      if (!bounded) {
        throw InvalidArgument("Input \"" + shapeInput + "\" is a shape tensor (its values decide other shapes): give " +
                                  "options.profiles[" + std::to_string(p) + "]." + shapeInput +
                                  ".values with the { min, opt, max } of its values",
                              ErrorKind::kRange);
      }
    }
    if (config->addOptimizationProfile(profile) < 0) {
      throw TensorRTFailure("ERR_INVALID_ARGUMENT", "TensorRT refused an optimization profile", builderRecorder,
                            capture.messages());
    }
  }

  BuildResult result;
  Owned<nvinfer1::ITimingCache> timingCache(
      config->createTimingCache(options.timingCache.data(), options.timingCache.size()));
  if (timingCache && !config->setTimingCache(*timingCache, false)) {
    // TensorRT read it but refuses to use it (written by another TensorRT version or GPU).
    timingCache.reset();
  }
  if (!timingCache && !options.timingCache.empty()) {
    // A corrupt or foreign timing cache costs build time, never the build: start a fresh one. (The
    // wording is what lib/build recognizes to replace the stored file.)
    result.warnings.push_back(
        "The timing cache could not be read (corrupt, or from another TensorRT version or GPU); a new one was started");
    builderRecorder.clear();
    timingCache.reset(config->createTimingCache(nullptr, 0));
    if (timingCache && !config->setTimingCache(*timingCache, false)) timingCache.reset();
  }
  if (!timingCache) {
    builderRecorder.clear();  // the build goes on without one; its errors are no build error
    result.warnings.push_back("TensorRT refused a timing cache; this build runs without one and saves none");
  }

  Owned<nvinfer1::IHostMemory> plan(builder->buildSerializedNetwork(*network, *config));
  if (stopped()) throw NativeError("ERR_ABORTED", "The engine build was aborted");
  if (!plan || plan->size() == 0) {
    throw TensorRTFailure("ERR_BUILD", "TensorRT could not build the engine", builderRecorder, capture.messages());
  }
  const char* planBytes = static_cast<const char*>(plan->data());
  result.plan.assign(planBytes, planBytes + plan->size());

  if (const nvinfer1::ITimingCache* used = timingCache ? config->getTimingCache() : nullptr) {
    Owned<nvinfer1::IHostMemory> serialized(used->serialize());
    if (serialized) {
      const char* bytes = static_cast<const char*>(serialized->data());
      result.timingCache.assign(bytes, bytes + serialized->size());
    }
  }
  for (const auto& message : capture.messages()) result.warnings.push_back(message);
  return result;
}

}  // namespace trt_node::trt
