// tensorrt-node's own declaration of the SUBSET of TensorRT's public C++ API (namespace nvinfer1)
// that native/trt calls, for the emulated device tier only.
//
// Why it exists: CI machines have no TensorRT headers and cannot get them (no npm or Debian package
// ships them, and they must never be committed), yet CI must execute our real native/trt code. So
// emulated builds (TRT_NODE_EMULATED_TENSORRT) compile native/trt against this file instead of
// <NvInfer.h> (see native/trt/api.h), and run it against the fake TensorRT library built from the
// same file (native/emulated/tensorrt/src). Written by this project from the call sites in
// native/trt, not copied: the names, signatures and enum values our code uses are TensorRT's; the
// class layout is not (these are plain abstract interfaces, whereas TensorRT's public classes wrap
// private implementation interfaces). A binary built against this file therefore works with the
// fake library only, never with a real libnvinfer: the loader refuses nothing here, the majors
// differ by design (the fake reports its own version), and nobody ships it.
//
// Compatibility with the real headers is proven elsewhere: `npm run check:tensorrt` compiles the
// whole addon against TensorRT v10.3.0, v10.16 and v11.1 headers.
//
// The version it imitates is chosen at compile time (TRT_NODE_EMULATED_TENSORRT_MAJOR / _MINOR,
// default 10.16): where our code branches on NV_TENSORRT_MAJOR/MINOR, the declaration follows the
// real headers of that version (enum values, kSAME_COMPUTE_CAPABILITY, setShapeValues vs V2).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#ifndef TRT_NODE_EMULATED_TENSORRT_MAJOR
#define TRT_NODE_EMULATED_TENSORRT_MAJOR 10
#endif
#ifndef TRT_NODE_EMULATED_TENSORRT_MINOR
#define TRT_NODE_EMULATED_TENSORRT_MINOR 16
#endif

#define NV_TENSORRT_MAJOR TRT_NODE_EMULATED_TENSORRT_MAJOR
#define NV_TENSORRT_MINOR TRT_NODE_EMULATED_TENSORRT_MINOR
#define NV_TENSORRT_PATCH 0
#define NV_TENSORRT_BUILD 0
#define NV_TENSORRT_VERSION_INT(major, minor, patch) ((major)*10000L + (minor)*100L + (patch)*1L)
#define NV_TENSORRT_VERSION NV_TENSORRT_VERSION_INT(NV_TENSORRT_MAJOR, NV_TENSORRT_MINOR, NV_TENSORRT_PATCH)
// Tells code (and tests) that this is the emulation, never a real TensorRT.
#define TRT_NODE_TENSORRT_IS_EMULATED 1

#if defined(TRT_NODE_FAKE_TENSORRT_BUILD)
#define TENSORRTAPI __attribute__((visibility("default")))
#else
#define TENSORRTAPI
#endif

namespace nvinfer1 {

using char_t = char;
using AsciiChar = char_t;

enum class DataType : int32_t {
  kFLOAT = 0,
  kHALF = 1,
  kINT8 = 2,
  kINT32 = 3,
  kBOOL = 4,
  kUINT8 = 5,
  kFP8 = 6,
  kBF16 = 7,
  kINT64 = 8,
  kINT4 = 9,
  kFP4 = 10,
  kE8M0 = 11,
};

class Dims64 {
 public:
  static constexpr int32_t MAX_DIMS{8};
  int32_t nbDims;
  int64_t d[MAX_DIMS];
};
using Dims = Dims64;

using InterfaceKind = char const*;
class InterfaceInfo {
 public:
  InterfaceKind kind;
  int32_t major;
  int32_t minor;
};

// Callback interfaces the application implements derive from this, as in TensorRT.
class IVersionedInterface {
 public:
  virtual InterfaceInfo getInterfaceInfo() const noexcept = 0;
  virtual ~IVersionedInterface() noexcept = default;

 protected:
  IVersionedInterface() = default;
  IVersionedInterface(IVersionedInterface const&) = default;
  IVersionedInterface& operator=(IVersionedInterface const&) & = default;
};

enum class ErrorCode : int32_t {
  kSUCCESS = 0,
  kUNSPECIFIED_ERROR = 1,
  kINTERNAL_ERROR = 2,
  kINVALID_ARGUMENT = 3,
  kINVALID_CONFIG = 4,
  kFAILED_ALLOCATION = 5,
  kFAILED_INITIALIZATION = 6,
  kFAILED_EXECUTION = 7,
  kFAILED_COMPUTATION = 8,
  kINVALID_STATE = 9,
  kUNSUPPORTED_STATE = 10,
};

namespace v_1_0 {
class IErrorRecorder : public IVersionedInterface {
 public:
  InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"IErrorRecorder", 1, 0}; }
  using ErrorDesc = char const*;
  static constexpr size_t kMAX_DESC_LENGTH{127U};
  using RefCount = int32_t;
  IErrorRecorder() = default;
  ~IErrorRecorder() noexcept override = default;
  virtual int32_t getNbErrors() const noexcept = 0;
  virtual ErrorCode getErrorCode(int32_t errorIdx) const noexcept = 0;
  virtual ErrorDesc getErrorDesc(int32_t errorIdx) const noexcept = 0;
  virtual bool hasOverflowed() const noexcept = 0;
  virtual void clear() noexcept = 0;
  virtual bool reportError(ErrorCode val, ErrorDesc desc) noexcept = 0;
  virtual RefCount incRefCount() noexcept = 0;
  virtual RefCount decRefCount() noexcept = 0;
};

class ILogger : public IVersionedInterface {
 public:
  InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"ILogger", 1, 0}; }
  enum class Severity : int32_t {
    kINTERNAL_ERROR = 0,
    kERROR = 1,
    kWARNING = 2,
    kINFO = 3,
    kVERBOSE = 4,
  };
  virtual void log(Severity severity, AsciiChar const* msg) noexcept = 0;
  ILogger() = default;
  ~ILogger() override = default;
};

class IProfiler : public IVersionedInterface {
 public:
  InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"IProfiler", 1, 0}; }
  virtual void reportLayerTime(char const* layerName, float ms) noexcept = 0;
  ~IProfiler() override = default;
};

class IOutputAllocator : public IVersionedInterface {
 public:
  InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"IOutputAllocator", 1, 0}; }
  // As in TensorRT: not noexcept, and the default answers "no memory".
  virtual void* reallocateOutputAsync(char const* tensorName, void* currentMemory, uint64_t size, uint64_t alignment,
                                      cudaStream_t stream) {
    return nullptr;
  }
  virtual void notifyShape(char const* tensorName, Dims const& dims) noexcept = 0;
};

class IProgressMonitor : public IVersionedInterface {
 public:
  IProgressMonitor() = default;
  ~IProgressMonitor() noexcept override = default;
  InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"IProgressMonitor", 1, 0}; }
  virtual void phaseStart(char const* phaseName, char const* parentPhase, int32_t nbSteps) noexcept = 0;
  virtual bool stepComplete(char const* phaseName, int32_t step) noexcept = 0;
  virtual void phaseFinish(char const* phaseName) noexcept = 0;
};
}  // namespace v_1_0
using IErrorRecorder = v_1_0::IErrorRecorder;
using ILogger = v_1_0::ILogger;
using IProfiler = v_1_0::IProfiler;
using IOutputAllocator = v_1_0::IOutputAllocator;
using IProgressMonitor = v_1_0::IProgressMonitor;

enum class TensorIOMode : int32_t { kNONE = 0, kINPUT = 1, kOUTPUT = 2 };
enum class TensorLocation : int32_t { kDEVICE = 0, kHOST = 1 };
enum class TensorFormat : int32_t {
  kLINEAR = 0,
  kCHW2 = 1,
  kHWC8 = 2,
  kCHW4 = 3,
  kCHW16 = 4,
  kCHW32 = 5,
  kDHWC8 = 6,
  kCDHW32 = 7,
  kHWC = 8,
  kDLA_LINEAR = 9,
  kDLA_HWC4 = 10,
  kHWC16 = 11,
  kDHWC = 12,
};
enum class OptProfileSelector : int32_t { kMIN = 0, kOPT = 1, kMAX = 2 };
enum class ProfilingVerbosity : int32_t { kLAYER_NAMES_ONLY = 0, kNONE = 1, kDETAILED = 2 };
enum class ExecutionContextAllocationStrategy : int32_t { kSTATIC = 0, kON_PROFILE_CHANGE = 1, kUSER_MANAGED = 2 };
enum class LayerInformationFormat : int32_t { kONELINE = 0, kJSON = 1 };
enum class HardwareCompatibilityLevel : int32_t {
  kNONE = 0,
  kAMPERE_PLUS = 1,
#if NV_TENSORRT_MAJOR > 10 || NV_TENSORRT_MINOR >= 9
  kSAME_COMPUTE_CAPABILITY = 2,
#endif
};
enum class MemoryPoolType : int32_t { kWORKSPACE = 0 };

using BuilderFlags = uint32_t;
#if NV_TENSORRT_MAJOR > 10
enum class BuilderFlag : int32_t { kVERSION_COMPATIBLE = 12, kEXCLUDE_LEAN_RUNTIME = 13 };
using NetworkDefinitionCreationFlags = uint32_t;
enum class NetworkDefinitionCreationFlag : int32_t { kSTRONGLY_TYPED = 0, kPREFER_JIT_PYTHON_PLUGINS = 1 };
#else
enum class BuilderFlag : int32_t { kVERSION_COMPATIBLE = 13, kEXCLUDE_LEAN_RUNTIME = 14 };
using NetworkDefinitionCreationFlags = uint32_t;
enum class NetworkDefinitionCreationFlag : int32_t { kEXPLICIT_BATCH = 0, kSTRONGLY_TYPED = 1 };
#endif

// Objects TensorRT creates are destroyed with `delete` (TensorRT 10+); none is copyable.
class INoCopy {
 protected:
  INoCopy() = default;
  virtual ~INoCopy() = default;
  INoCopy(INoCopy const&) = delete;
  INoCopy& operator=(INoCopy const&) = delete;
};

class IHostMemory : public INoCopy {
 public:
  ~IHostMemory() noexcept override = default;
  virtual void* data() const noexcept = 0;
  virtual std::size_t size() const noexcept = 0;
  virtual DataType type() const noexcept = 0;
};

class ICudaEngine;
class IExecutionContext;

class IEngineInspector : public INoCopy {
 public:
  ~IEngineInspector() noexcept override = default;
  virtual char const* getEngineInformation(LayerInformationFormat format) const noexcept = 0;
};

class IExecutionContext : public INoCopy {
 public:
  ~IExecutionContext() noexcept override = default;
  virtual void setProfiler(IProfiler* profiler) noexcept = 0;
  virtual void setDeviceMemoryV2(void* memory, int64_t size) noexcept = 0;
  virtual int32_t getOptimizationProfile() const noexcept = 0;
  virtual bool setInputShape(char const* tensorName, Dims const& dims) noexcept = 0;
  virtual Dims getTensorShape(char const* tensorName) const noexcept = 0;
  virtual bool allInputDimensionsSpecified() const noexcept = 0;
  virtual void setErrorRecorder(IErrorRecorder* recorder) noexcept = 0;
  virtual bool setOptimizationProfileAsync(int32_t profileIndex, cudaStream_t stream) noexcept = 0;
  virtual void setEnqueueEmitsProfile(bool enqueueEmitsProfile) noexcept = 0;
  virtual bool reportToProfiler() const noexcept = 0;
  virtual bool setTensorAddress(char const* tensorName, void* data) noexcept = 0;
  virtual bool setOutputAllocator(char const* tensorName, IOutputAllocator* outputAllocator) noexcept = 0;
  virtual bool enqueueV3(cudaStream_t stream) noexcept = 0;
};

class ICudaEngine : public INoCopy {
 public:
  ~ICudaEngine() noexcept override = default;
  virtual Dims getTensorShape(char const* tensorName) const noexcept = 0;
  virtual DataType getTensorDataType(char const* tensorName) const noexcept = 0;
  virtual int32_t getNbLayers() const noexcept = 0;
  virtual IExecutionContext* createExecutionContext(
      ExecutionContextAllocationStrategy strategy = ExecutionContextAllocationStrategy::kSTATIC) noexcept = 0;
  virtual TensorLocation getTensorLocation(char const* tensorName) const noexcept = 0;
  virtual bool isShapeInferenceIO(char const* tensorName) const noexcept = 0;
  virtual TensorIOMode getTensorIOMode(char const* tensorName) const noexcept = 0;
  virtual int64_t getDeviceMemorySizeV2() const noexcept = 0;
  virtual int64_t getDeviceMemorySizeForProfileV2(int32_t profileIndex) const noexcept = 0;
  // The profile-less overloads answer for profile 0 (and warn on multi-profile engines), as in TensorRT.
  virtual TensorFormat getTensorFormat(char const* tensorName) const noexcept = 0;
  virtual TensorFormat getTensorFormat(char const* tensorName, int32_t profileIndex) const noexcept = 0;
  virtual char const* getTensorFormatDesc(char const* tensorName) const noexcept = 0;
  virtual char const* getTensorFormatDesc(char const* tensorName, int32_t profileIndex) const noexcept = 0;
  virtual int32_t getTensorVectorizedDim(char const* tensorName) const noexcept = 0;
  virtual int32_t getTensorVectorizedDim(char const* tensorName, int32_t profileIndex) const noexcept = 0;
  virtual char const* getName() const noexcept = 0;
  virtual int32_t getNbOptimizationProfiles() const noexcept = 0;
  virtual Dims getProfileShape(char const* tensorName, int32_t profileIndex,
                               OptProfileSelector select) const noexcept = 0;
  virtual void setErrorRecorder(IErrorRecorder* recorder) noexcept = 0;
  virtual IEngineInspector* createEngineInspector() const noexcept = 0;
  virtual int32_t getNbIOTensors() const noexcept = 0;
  virtual char const* getIOTensorName(int32_t index) const noexcept = 0;
  virtual HardwareCompatibilityLevel getHardwareCompatibilityLevel() const noexcept = 0;
  virtual int32_t getNbAuxStreams() const noexcept = 0;
};

class IRuntime : public INoCopy {
 public:
  ~IRuntime() noexcept override = default;
  virtual void setErrorRecorder(IErrorRecorder* recorder) noexcept = 0;
  virtual ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size) noexcept = 0;
  virtual void setEngineHostCodeAllowed(bool allowed) noexcept = 0;
};

class IOptimizationProfile : public INoCopy {
 public:
  virtual bool setDimensions(char const* inputName, OptProfileSelector select, Dims const& dims) noexcept = 0;
#if NV_TENSORRT_MAJOR < 11
  // int32 values: every 10.x release has it (deprecated from 10.11 for the V2 below).
  virtual bool setShapeValues(char const* inputName, OptProfileSelector select, int32_t const* values,
                              int32_t nbValues) noexcept = 0;
#endif
#if NV_TENSORRT_MAJOR > 10 || NV_TENSORRT_MINOR >= 11
  virtual bool setShapeValuesV2(char const* inputName, OptProfileSelector select, int64_t const* values,
                                int32_t nbValues) noexcept = 0;
#endif

 protected:
  ~IOptimizationProfile() noexcept override = default;  // owned by the builder, as in TensorRT
};

class ITimingCache : public INoCopy {
 public:
  ~ITimingCache() noexcept override = default;
  virtual IHostMemory* serialize() const noexcept = 0;
};

class IBuilderConfig : public INoCopy {
 public:
  ~IBuilderConfig() noexcept override = default;
  virtual void setFlag(BuilderFlag builderFlag) noexcept = 0;
  virtual int32_t addOptimizationProfile(IOptimizationProfile const* profile) noexcept = 0;
  virtual void setProfilingVerbosity(ProfilingVerbosity verbosity) noexcept = 0;
  virtual ITimingCache* createTimingCache(void const* blob, std::size_t size) const noexcept = 0;
  virtual bool setTimingCache(ITimingCache const& cache, bool ignoreMismatch) noexcept = 0;
  virtual ITimingCache const* getTimingCache() const noexcept = 0;
  virtual void setMemoryPoolLimit(MemoryPoolType pool, std::size_t poolSize) noexcept = 0;
  virtual void setBuilderOptimizationLevel(int32_t level) noexcept = 0;
  virtual void setHardwareCompatibilityLevel(HardwareCompatibilityLevel hardwareCompatibilityLevel) noexcept = 0;
  virtual bool setMaxAuxStreams(int32_t nbStreams) noexcept = 0;
  virtual void setProgressMonitor(IProgressMonitor* monitor) noexcept = 0;
};

class ITensor : public INoCopy {
 public:
  virtual char const* getName() const noexcept = 0;
  virtual Dims getDimensions() const noexcept = 0;
  virtual DataType getType() const noexcept = 0;
  virtual bool isShapeTensor() const noexcept = 0;

 protected:
  ~ITensor() noexcept override = default;  // owned by the network, as in TensorRT
};

class INetworkDefinition : public INoCopy {
 public:
  ~INetworkDefinition() noexcept override = default;
  virtual int32_t getNbInputs() const noexcept = 0;
  virtual ITensor* getInput(int32_t index) const noexcept = 0;
  virtual void setErrorRecorder(IErrorRecorder* recorder) noexcept = 0;
};

class IBuilder : public INoCopy {
 public:
  ~IBuilder() noexcept override = default;
  virtual IBuilderConfig* createBuilderConfig() noexcept = 0;
  virtual INetworkDefinition* createNetworkV2(NetworkDefinitionCreationFlags flags) noexcept = 0;
  virtual IOptimizationProfile* createOptimizationProfile() noexcept = 0;
  virtual void setErrorRecorder(IErrorRecorder* recorder) noexcept = 0;
  virtual IHostMemory* buildSerializedNetwork(INetworkDefinition& network, IBuilderConfig& config) noexcept = 0;
};

}  // namespace nvinfer1

// The entry points our loader resolves with dlsym (see ../shared/TENSORRT.md); declared for the fake
// library that defines them. Never called by name from the addon.
extern "C" TENSORRTAPI int32_t getInferLibVersion() noexcept;
extern "C" TENSORRTAPI int32_t getInferLibMajorVersion() noexcept;
extern "C" TENSORRTAPI int32_t getInferLibMinorVersion() noexcept;
extern "C" TENSORRTAPI int32_t getInferLibPatchVersion() noexcept;
extern "C" TENSORRTAPI int32_t getInferLibBuildVersion() noexcept;
extern "C" TENSORRTAPI void* createInferRuntime_INTERNAL(void* logger, int32_t version) noexcept;
extern "C" TENSORRTAPI void* createInferBuilder_INTERNAL(void* logger, int32_t version) noexcept;
extern "C" TENSORRTAPI bool initLibNvInferPlugins(void* logger, char const* libNamespace);
