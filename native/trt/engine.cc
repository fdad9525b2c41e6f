#include "trt/engine.h"

#include <cuda_runtime_api.h>

#include "core/error.h"
#include "trt/logger.h"

namespace trt_node::trt {
namespace {

void SetDevice(int device) {
  const cudaError_t status = cudaSetDevice(device);
  if (status != cudaSuccess) {
    cudaGetLastError();
    NativeError error(status == cudaErrorInvalidDevice ? "ERR_INVALID_ARGUMENT" : "ERR_CUDA",
                      "Cannot use CUDA device " + std::to_string(device) + ": " + cudaGetErrorString(status),
                      status == cudaErrorInvalidDevice ? ErrorKind::kRange : ErrorKind::kGeneric);
    throw error.withCudaError(static_cast<int>(status), cudaGetErrorName(status));
  }
}

const char* HardwareCompatibilityName(nvinfer1::HardwareCompatibilityLevel level) {
  switch (static_cast<int>(level)) {
    case 0:
      return "none";
    case 1:
      return "ampere+";
    case 2:
      return "same-compute-capability";
    default:
      return "unknown";
  }
}

}  // namespace

std::string DataTypeName(int32_t value) {
  switch (value) {
    case 0:
      return "float32";
    case 1:
      return "float16";
    case 2:
      return "int8";
    case 3:
      return "int32";
    case 4:
      return "bool";
    case 5:
      return "uint8";
    case 6:
      return "fp8e4m3";
    case 7:
      return "bfloat16";
    case 8:
      return "int64";
    case 9:
      return "int4";
    case 10:
      return "fp4";
    case 11:
      return "e8m0";
    default:
      return "unknown(" + std::to_string(value) + ")";
  }
}

std::vector<int64_t> ToVector(const nvinfer1::Dims& dims) {
  std::vector<int64_t> shape;
  for (int32_t i = 0; i < dims.nbDims && i < nvinfer1::Dims::MAX_DIMS; ++i) shape.push_back(dims.d[i]);
  return shape;
}

std::shared_ptr<Engine> Engine::Deserialize(std::shared_ptr<TensorRTLibrary> library, const void* plan, size_t size,
                                            const DeserializeOptions& options) {
  if (plan == nullptr || size == 0) throw InvalidArgument("The engine is empty (0 bytes)", ErrorKind::kRange);
  SetDevice(options.device);

  std::shared_ptr<Engine> engine(new Engine());
  engine->device_ = options.device;
  engine->library_ = std::move(library);
  engine->runtimeRecorder_ = std::make_unique<ErrorRecorder>();
  engine->recorder_ = std::make_unique<ErrorRecorder>();

  Logger::Capture capture;
  engine->runtime_.reset(engine->library_->createRuntime(Logger::Instance()));
  engine->runtime_->setErrorRecorder(engine->runtimeRecorder_.get());
  // Engines that embed host code (lean runtime, plugins) run arbitrary code from the file: refused
  // unless the caller opted in.
  engine->runtime_->setEngineHostCodeAllowed(options.allowHostCode);

  nvinfer1::ICudaEngine* deserialized = engine->runtime_->deserializeCudaEngine(plan, size);
  if (deserialized == nullptr) {
    throw TensorRTFailure("ERR_TENSORRT", "TensorRT could not deserialize the engine", *engine->runtimeRecorder_,
                          capture.messages());
  }
  engine->engine_.reset(deserialized);
  engine->engine_->setErrorRecorder(engine->recorder_.get());
  return engine;
}

Engine::~Engine() {
  // Members are released in reverse declaration order: engine_, recorder_, runtime_, runtimeRecorder_,
  // library_. TensorRT objects must be destroyed on their device.
  if (engine_) cudaSetDevice(device_);
}

EngineMetadata Engine::metadata() const {
  EngineMetadata metadata;
  const nvinfer1::ICudaEngine& engine = *engine_;
  metadata.name = engine.getName() != nullptr ? engine.getName() : "";
  metadata.layerCount = engine.getNbLayers();
  metadata.deviceMemoryBytes = engine.getDeviceMemorySizeV2();
  metadata.auxStreamCount = engine.getNbAuxStreams();
  metadata.hardwareCompatibility = HardwareCompatibilityName(engine.getHardwareCompatibilityLevel());

  const int32_t tensorCount = engine.getNbIOTensors();
  for (int32_t index = 0; index < tensorCount; ++index) {
    const char* name = engine.getIOTensorName(index);
    TensorMetadata tensor;
    tensor.name = name;
    tensor.isInput = engine.getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
    tensor.dtype = DataTypeName(static_cast<int32_t>(engine.getTensorDataType(name)));
    tensor.shape = ToVector(engine.getTensorShape(name));
    // Profile 0 explicitly: the profile-less overload warns on multi-profile engines. Contexts check
    // the format of their own profile (io_tensors.h).
    const char* format = engine.getTensorFormatDesc(name, 0);
    tensor.format = format != nullptr ? format : "";
    tensor.location = engine.getTensorLocation(name) == nvinfer1::TensorLocation::kHOST ? "host" : "device";
    tensor.isShapeTensor = engine.isShapeInferenceIO(name);
    metadata.tensors.push_back(std::move(tensor));
  }

  const int32_t profileCount = engine.getNbOptimizationProfiles();
  for (int32_t profile = 0; profile < profileCount; ++profile) {
    ProfileMetadata profileMetadata;
    profileMetadata.index = profile;
    for (const auto& tensor : metadata.tensors) {
      if (!tensor.isInput || tensor.isShapeTensor) continue;
      ProfileDims dims;
      dims.input = tensor.name;
      dims.min = ToVector(engine.getProfileShape(tensor.name.c_str(), profile, nvinfer1::OptProfileSelector::kMIN));
      dims.opt = ToVector(engine.getProfileShape(tensor.name.c_str(), profile, nvinfer1::OptProfileSelector::kOPT));
      dims.max = ToVector(engine.getProfileShape(tensor.name.c_str(), profile, nvinfer1::OptProfileSelector::kMAX));
      profileMetadata.inputs.push_back(std::move(dims));
    }
    metadata.profiles.push_back(std::move(profileMetadata));
  }
  return metadata;
}

std::string Engine::layerInformationJson() const {
  Owned<nvinfer1::IEngineInspector> inspector(engine_->createEngineInspector());
  if (!inspector) return "{}";
  const char* json = inspector->getEngineInformation(nvinfer1::LayerInformationFormat::kJSON);
  return json != nullptr ? json : "{}";
}

}  // namespace trt_node::trt
