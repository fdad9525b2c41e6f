#include "trt/execution_context.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/byte_range.h"
#include "core/error.h"
#include "core/monotonic_clock.h"
#include "cuda/cuda_error.h"
#include "cuda/device.h"
#include "cuda/device_health.h"
#include "trt/logger.h"

// TensorRT 10.x compatibility: every IExecutionContext and ICudaEngine method called here exists in
// TensorRT 10.3's vtables (VExecutionContext and VCudaEngine of v10.3.0, v10.16 and v11.1 compared:
// 10.4 to 10.16 only append methods), so a binary built against 10.16 headers that meets a 10.3
// library (JetPack 6) never calls past the end of a vtable. Newer methods (createRuntimeConfig,
// getRuntimeConfig, ...) are deliberately not used.
namespace trt_node::trt {
namespace {

nvinfer1::Dims ToDims(const std::vector<int64_t>& shape) {
  nvinfer1::Dims dims{};
  dims.nbDims = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size() && i < static_cast<size_t>(nvinfer1::Dims::MAX_DIMS); ++i) dims.d[i] = shape[i];
  return dims;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

bool IsDataDependent(const std::vector<int64_t>& shape) {
  return std::any_of(shape.begin(), shape.end(), [](int64_t dim) { return dim < 0; });
}

// Bytes of `shape` x `elementSize`; the JS thread checked input shapes already, output shapes come
// from TensorRT: an overflow there is reported, never wrapped around.
uint64_t ByteSize(const std::vector<int64_t>& shape, uint32_t elementSize, const std::string& what) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    const auto next = dim < 0 ? std::nullopt : CheckedByteSize(count, static_cast<uint64_t>(dim));
    if (!next) throw NativeError("ERR_SHAPE", "The shape " + ShapeText(shape) + " of " + what + " has no byte size");
    count = *next;
  }
  const auto bytes = CheckedByteSize(count, elementSize);
  if (!bytes) throw NativeError("ERR_SHAPE", "The byte size of " + what + " " + ShapeText(shape) + " overflows");
  return *bytes;
}

std::string TensorLabel(const IoTensor& tensor) {
  return std::string(tensor.isInput ? "input" : "output") + " \"" + tensor.name + "\"";
}

NativeError TooSmall(const IoTensor& tensor, const std::vector<int64_t>& shape, uint64_t needed, uint64_t capacity) {
  return NativeError("ERR_SHAPE",
                     "Expected a tensor of at least " + std::to_string(needed) + " bytes for " + TensorLabel(tensor) +
                         " (" + tensor.dtype + " " + ShapeText(shape) + ") but received a tensor of " +
                         std::to_string(capacity) + " bytes",
                     ErrorKind::kRange);
}

// A failed enqueueV3 may be CUDA's doing: after a sticky error (an illegal address in earlier work on
// the device, ...) every launch fails, and TensorRT only says that it could not enqueue. Report it as
// the CUDA error it is (ERR_CUDA_STICKY, the device marked lost), not as a TensorRT failure. Other
// CUDA errors belong to the work that raised them and reach its own completion.
void ThrowIfDeviceLost(cudaStream_t stream, const char* operation) {
  const cudaError_t status = cudaStreamQuery(stream);
  if (cuda::IsStickyCudaError(status)) {
    throw cuda::CudaFailure(status, operation);
  }
}

// TensorRT may not create two contexts of one engine at the same moment from two threads (each
// context has its own submit thread): creation is rare, so one lock for the process is enough.
std::mutex& CreationMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

}  // namespace

const char* GraphModeName(GraphMode mode) noexcept {
  switch (mode) {
    case GraphMode::kOff:
      return "off";
    case GraphMode::kRequired:
      return "required";
    case GraphMode::kAuto:
      break;
  }
  return "auto";
}

const char* GraphUseName(GraphUse use) noexcept {
  switch (use) {
    case GraphUse::kCaptured:
      return "captured";
    case GraphUse::kReplayed:
      return "replayed";
    case GraphUse::kPlain:
      break;
  }
  return "plain";
}

// ------------------------------------------------------------------------------------------------
// Pieces
// ------------------------------------------------------------------------------------------------

ExecutionContext::GraphExec::~GraphExec() {
  if (exec != nullptr) cudaGraphExecDestroy(exec);
  cudaGetLastError();
}

// Memory for an output whose shape only the inference itself determines (NonZero, NMS, ...).
// TensorRT asks for the size during enqueueV3 and reports the shape before enqueueV3 returns.
class ExecutionContext::DynamicOutput final : public nvinfer1::IOutputAllocator {
 public:
  DynamicOutput(ExecutionContext& owner, size_t tensor) : owner_(owner), tensor_(tensor) {}

  void Prepare(const OutputTarget& target) {
    userMemory_ = target.destination == OutputTarget::Destination::kDevice ? target.data : nullptr;
    userCapacity_ = target.capacity;
    address_ = nullptr;
    requested_ = 0;
    notified_ = false;
    shape_.clear();
    failure_.clear();
  }

  void* reallocateOutputAsync(char const* /*tensorName*/, void* /*currentMemory*/, uint64_t size,
                              uint64_t /*alignment*/, cudaStream_t /*stream*/) override {
    requested_ = size;
    try {
      if (userMemory_ != nullptr) {
        address_ = size <= userCapacity_ ? userMemory_ : nullptr;
        return address_;
      }
      address_ = owner_.InternalBuffer(tensor_, size);  // cudaMallocAsync: 256-byte aligned
      return address_;
    } catch (const std::exception& error) {
      failure_ = error.what();
    } catch (...) {
      failure_ = "unknown allocation failure";
    }
    return nullptr;  // never throw into TensorRT: it fails the enqueue instead
  }

  void notifyShape(char const* /*tensorName*/, nvinfer1::Dims const& dims) noexcept override {
    try {
      shape_ = ToVector(dims);
      notified_ = true;
    } catch (...) {
    }
  }

  bool notified() const noexcept { return notified_; }
  const std::vector<int64_t>& shape() const noexcept { return shape_; }
  void* address() const noexcept { return address_; }
  uint64_t requested() const noexcept { return requested_; }
  uint64_t userCapacity() const noexcept { return userCapacity_; }
  bool userBound() const noexcept { return userMemory_ != nullptr; }
  const std::string& failure() const noexcept { return failure_; }

 private:
  ExecutionContext& owner_;
  size_t tensor_;
  void* userMemory_ = nullptr;
  uint64_t userCapacity_ = 0;
  void* address_ = nullptr;
  uint64_t requested_ = 0;
  bool notified_ = false;
  std::vector<int64_t> shape_;
  std::string failure_;
};

struct ExecutionContext::Bindings {
  BindingKey shapeKey;                       // input shapes (+ host shape-tensor values)
  BindingKey key;                            // shapeKey + every address: what a CUDA graph depends on
  std::vector<std::vector<int64_t>> shapes;  // per tensor: input shapes and inferred output shapes
  std::vector<const void*> hostInputs;       // per tensor: host memory TensorRT reads (shape tensors)
  std::vector<void*> addresses;              // per tensor: what setTensorAddress gets
  std::vector<size_t> dynamicOutputs;        // tensors whose shape only enqueueV3 knows
  struct Copy {
    void* dst;
    const void* src;
    uint64_t bytes;
  };
  std::vector<Copy> h2d;
  std::vector<std::shared_ptr<cuda::DeviceBuffer>> userDevice;  // stream-ordered allocations to order before use
  const RunRequest* request = nullptr;
};

// ------------------------------------------------------------------------------------------------
// Creation and destruction
// ------------------------------------------------------------------------------------------------

std::unique_ptr<ExecutionContext> ExecutionContext::Create(std::shared_ptr<Engine> engine,
                                                           const ContextOptions& options,
                                                           std::shared_ptr<cuda::Stream> stream,
                                                           cuda::ReleaseOffThreadFn release) {
  std::unique_ptr<ExecutionContext> context(new ExecutionContext());
  context->device_ = engine->device();
  if (stream->device() != context->device_) {
    throw InvalidArgument("Expected a stream of device " + std::to_string(context->device_) +
                              " (the engine's device) but received a stream of device " +
                              std::to_string(stream->device()),
                          ErrorKind::kRange);
  }
  context->options_ = options;
  context->engine_ = engine;
  context->stream_ = std::move(stream);
  context->release_ = std::move(release);

  nvinfer1::ICudaEngine& trtEngine = engine->get();
  const int32_t profiles = trtEngine.getNbOptimizationProfiles();
  if (options.profile < 0 || options.profile >= std::max(profiles, 1)) {
    throw NativeError("ERR_INVALID_ARGUMENT",
                      "Expected an optimization profile between 0 and " + std::to_string(std::max(profiles, 1) - 1) +
                          " for options.profile but received " + std::to_string(options.profile),
                      ErrorKind::kRange);
  }
  context->tensors_ = DescribeIoTensors(trtEngine, options.profile);
  for (const IoTensor& tensor : context->tensors_) {
    const std::string reason = UnbindableReason(tensor);
    if (!reason.empty()) {
      throw NativeError("ERR_NOT_SUPPORTED", "Cannot create an execution context (optimization profile " +
                                                 std::to_string(options.profile) + "): " + reason);
    }
    if (tensor.onHost) context->hasHostTensors_ = true;
  }

  const size_t count = context->tensors_.size();
  context->internal_.resize(count);
  context->hostOutputs_.resize(count);
  context->dynamicOutputs_.resize(count);
  context->reserve_.assign(count, 0);
  std::vector<std::optional<std::vector<int64_t>>> largestInputs(count);
  for (size_t t = 0; t < count; ++t) {
    const IoTensor& tensor = context->tensors_[t];
    if (!tensor.isInput || tensor.onHost) continue;
    // Inputs (and outputs, see ReserveForLargestShapes) get device memory for the profile's largest
    // shape at once: their addresses then never change with the shape, and neither do the CUDA
    // graphs that depend on them (a graph per shape stays valid when the shape comes back).
    std::vector<int64_t> largest = tensor.shape;
    if (IsDataDependent(largest) && profiles > 0) {
      largest =
          ToVector(trtEngine.getProfileShape(tensor.name.c_str(), options.profile, nvinfer1::OptProfileSelector::kMAX));
    }
    if (IsDataDependent(largest)) continue;
    largestInputs[t] = largest;
    try {
      context->reserve_[t] = ByteSize(largest, tensor.elementSize, TensorLabel(tensor));
    } catch (const NativeError&) {
      context->reserve_[t] = 0;  // too large to reserve up front: grow on demand instead
    }
  }

  context->status_.mode = options.graphMode;
  context->status_.active = options.graphMode != GraphMode::kOff;
  if (context->hasHostTensors_ && options.graphMode != GraphMode::kOff) {
    const std::string reason = "the engine has host (shape) tensors, whose values a CUDA graph would freeze";
    if (options.graphMode == GraphMode::kRequired) {
      throw NativeError("ERR_NOT_SUPPORTED", "Cannot use CUDA graphs (cudaGraph: true) with this engine: " + reason);
    }
    context->DisableGraphs(reason);
  }

  context->recorder_ = std::make_unique<ErrorRecorder>();
  // One scratch block for every IExecutionContext of this context (see shapeContexts_).
  context->scratchBytes_ = std::max<int64_t>(trtEngine.getDeviceMemorySizeForProfileV2(options.profile), 0);
  context->scratch_ = std::make_shared<cuda::DeviceBuffer>(
      static_cast<size_t>(std::max<int64_t>(context->scratchBytes_, 256)), context->device_, context->stream_);
  context->primary_ = context->NewTrtContext();
  context->ReserveForLargestShapes(largestInputs);
  context->timingEvents_ = std::make_shared<TimingEventPool>(context->device_);
  context->timingClock_ = std::make_unique<TimingClock>(context->timingEvents_);
  return context;
}

ExecutionContext::ExecutionContext() = default;

ExecutionContext::~ExecutionContext() {
  cudaSetDevice(device_);  // TensorRT objects and graphs are released on their device
  graphs_.Clear();
  shapeContexts_.Clear();
  primary_.reset();
  dynamicOutputs_.clear();
  recorder_.reset();
  scratch_.reset();
  internal_.clear();
  hostOutputs_.clear();
  cudaGetLastError();
}

// An IExecutionContext of the engine at this context's profile, on the shared scratch memory.
std::shared_ptr<ExecutionContext::TrtContext> ExecutionContext::NewTrtContext() {
  Logger::Capture capture;
  auto created = std::make_shared<TrtContext>();
  {
    std::lock_guard<std::mutex> lock(CreationMutex());
    created->context.reset(
        engine_->get().createExecutionContext(nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED));
  }
  if (!created->context) {
    throw TensorRTFailure("ERR_TENSORRT", "TensorRT could not create an execution context", engine_->recorder(),
                          capture.messages());
  }
  created->context->setErrorRecorder(recorder_.get());
  created->context->setDeviceMemoryV2(scratch_->data(), scratchBytes_);
  if (!created->context->setOptimizationProfileAsync(options_.profile, stream_->get())) {
    throw TensorRTFailure("ERR_TENSORRT",
                          "TensorRT could not select optimization profile " + std::to_string(options_.profile),
                          *recorder_, capture.messages());
  }
  return created;
}

// ------------------------------------------------------------------------------------------------
// Helpers (submit thread)
// ------------------------------------------------------------------------------------------------

void* ExecutionContext::InternalBuffer(size_t tensor, uint64_t bytes) {
  std::shared_ptr<cuda::DeviceBuffer>& buffer = internal_[tensor];
  const uint64_t needed = std::max<uint64_t>(bytes, 1);  // empty tensors still need a valid address
  if (buffer && buffer->size() >= needed) return buffer->data();
  uint64_t size = std::max(needed, reserve_[tensor]);
  if (buffer) size = std::max<uint64_t>(size, buffer->size() + buffer->size() / 2);
  // The old buffer is freed in this stream's order (cudaFreeAsync), after the runs that used it.
  buffer = std::make_shared<cuda::DeviceBuffer>(size, device_, stream_);
  return buffer->data();
}

void ExecutionContext::ReserveForLargestShapes(const std::vector<std::optional<std::vector<int64_t>>>& largestInputs) {
  if (hasHostTensors_) return;  // output shapes would depend on shape-tensor values, not only on shapes
  bool applied = true;
  for (size_t t = 0; t < tensors_.size() && applied; ++t) {
    if (!tensors_[t].isInput) continue;
    applied = largestInputs[t].has_value() &&
              primary_->context->setInputShape(tensors_[t].name.c_str(), ToDims(*largestInputs[t]));
  }
  if (applied) {
    for (size_t t = 0; t < tensors_.size(); ++t) {
      if (tensors_[t].isInput) continue;
      const std::vector<int64_t> shape = ToVector(primary_->context->getTensorShape(tensors_[t].name.c_str()));
      if (IsDataDependent(shape)) continue;
      try {
        reserve_[t] = ByteSize(shape, tensors_[t].elementSize, TensorLabel(tensors_[t]));
      } catch (const NativeError&) {
        reserve_[t] = 0;
      }
    }
  }
  recorder_->drain();  // a refused probe is no error of any run
  primary_->appliedShapes.reset();
}

void ExecutionContext::DisableGraphs(const std::string& reason) {
  graphsDisabled_ = true;
  graphs_.Clear();
  shapeContexts_.Clear();
  {
    std::lock_guard<std::mutex> lock(statusMutex_);
    status_.active = false;
    status_.disabledReason = reason;
    status_.cachedGraphs = 0;
  }
  const std::string message =
      "tensorrt-node: CUDA graphs are off for this execution context: " + reason + "; runs use plain enqueueV3 instead";
  Logger::Instance().log(Severity::kWARNING, message.c_str());
}

GraphStatus ExecutionContext::graphStatus() const {
  std::lock_guard<std::mutex> lock(statusMutex_);
  return status_;
}

ExecutionContext::Bindings ExecutionContext::Prepare(RunRequest& request) {
  Bindings bindings;
  bindings.request = &request;
  const size_t count = tensors_.size();
  bindings.shapes.resize(count);
  bindings.hostInputs.assign(count, nullptr);
  bindings.addresses.assign(count, nullptr);

  // 1. Plain JS memory: the one copy into this run's pinned staging.
  uint64_t stagedBytes = 0;
  for (const InputFeed& feed : request.inputs) {
    if (feed.source == InputFeed::Source::kHostArray) stagedBytes += cuda::AlignStaging(feed.bytes);
  }
  auto* staging = stagedBytes > 0 ? static_cast<unsigned char*>(request.staging->inputs.Reserve(stagedBytes)) : nullptr;
  std::vector<const void*> hostData(request.inputs.size(), nullptr);
  uint64_t offset = 0;
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const InputFeed& feed = request.inputs[i];
    if (feed.source == InputFeed::Source::kHostArray) {
      if (feed.bytes > 0) std::memcpy(staging + offset, feed.data, feed.bytes);
      hostData[i] = staging != nullptr ? staging + offset : nullptr;
      offset += cuda::AlignStaging(feed.bytes);
    } else {
      hostData[i] = feed.data;
    }
  }

  // 2. The shape key, and the output shapes that follow from it.
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const InputFeed& feed = request.inputs[i];
    bindings.shapes[feed.tensor] = feed.shape;
    bindings.shapeKey.AddShape(feed.shape);
    if (tensors_[feed.tensor].onHost) {
      bindings.hostInputs[feed.tensor] = hostData[i];
      if (hostData[i] != nullptr) bindings.shapeKey.AddBytes(hostData[i], feed.bytes);
    }
  }
  std::vector<std::vector<int64_t>>* outputShapes = shapeCache_.Find(bindings.shapeKey);
  if (outputShapes == nullptr) {
    ApplyInputShapes(*primary_, bindings);
    std::vector<std::vector<int64_t>> inferred;
    for (const OutputTarget& target : request.outputs) {
      inferred.push_back(ToVector(primary_->context->getTensorShape(tensors_[target.tensor].name.c_str())));
    }
    shapeCache_.Insert(bindings.shapeKey, std::move(inferred));
    outputShapes = shapeCache_.Find(bindings.shapeKey);
  }

  // 3. Addresses: the user's device memory as it is, everything else through the context's buffers.
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const InputFeed& feed = request.inputs[i];
    const IoTensor& tensor = tensors_[feed.tensor];
    if (tensor.onHost) {
      bindings.addresses[feed.tensor] = const_cast<void*>(hostData[i]);
    } else if (feed.source == InputFeed::Source::kDevice && feed.data != nullptr) {
      bindings.addresses[feed.tensor] = const_cast<void*>(feed.data);
      if (feed.deviceBuffer) bindings.userDevice.push_back(feed.deviceBuffer);
    } else {
      void* device = InternalBuffer(feed.tensor, feed.bytes);
      bindings.addresses[feed.tensor] = device;
      if (feed.bytes > 0 && feed.source != InputFeed::Source::kDevice) {
        bindings.h2d.push_back({device, hostData[i], feed.bytes});
      }
    }
  }
  for (size_t o = 0; o < request.outputs.size(); ++o) {
    const OutputTarget& target = request.outputs[o];
    const IoTensor& tensor = tensors_[target.tensor];
    const std::vector<int64_t>& shape = (*outputShapes)[o];
    bindings.shapes[target.tensor] = shape;
    if (IsDataDependent(shape)) {
      bindings.dynamicOutputs.push_back(target.tensor);
      auto& allocator = dynamicOutputs_[target.tensor];
      if (!allocator) allocator = std::make_unique<DynamicOutput>(*this, target.tensor);
      allocator->Prepare(target);
      bindings.addresses[target.tensor] =
          target.destination == OutputTarget::Destination::kDevice && target.data != nullptr
              ? target.data
              : InternalBuffer(target.tensor, internal_[target.tensor] ? internal_[target.tensor]->size() : 1);
      if (target.deviceBuffer) bindings.userDevice.push_back(target.deviceBuffer);
      continue;
    }
    const uint64_t bytes = ByteSize(shape, tensor.elementSize, TensorLabel(tensor));
    if (target.destination != OutputTarget::Destination::kFreshArray && bytes > target.capacity) {
      throw TooSmall(tensor, shape, bytes, target.capacity);
    }
    if (tensor.onHost) {
      auto& host = hostOutputs_[target.tensor];
      if (!host) host = std::make_unique<cuda::GrowablePinned>(release_);
      bindings.addresses[target.tensor] = host->Reserve(bytes);
    } else if (target.destination == OutputTarget::Destination::kDevice && bytes > 0) {
      bindings.addresses[target.tensor] = target.data;
      if (target.deviceBuffer) bindings.userDevice.push_back(target.deviceBuffer);
    } else {
      bindings.addresses[target.tensor] = InternalBuffer(target.tensor, bytes);
    }
  }

  bindings.key = bindings.shapeKey;
  for (void* address : bindings.addresses) bindings.key.AddAddress(address);
  return bindings;
}

void ExecutionContext::ApplyInputShapes(TrtContext& target, const Bindings& bindings) {
  target.appliedShapes.reset();  // a failure half-way leaves the context in no known state
  nvinfer1::IExecutionContext& context = *target.context;
  Logger::Capture capture;
  for (const InputFeed& feed : bindings.request->inputs) {
    const IoTensor& tensor = tensors_[feed.tensor];
    // A host shape tensor's address first: TensorRT reads its values to infer shapes.
    if (tensor.onHost &&
        !context.setTensorAddress(tensor.name.c_str(), const_cast<void*>(bindings.hostInputs[feed.tensor]))) {
      throw TensorRTFailure("ERR_TENSORRT", "TensorRT refused the values of shape tensor " + TensorLabel(tensor),
                            *recorder_, capture.messages());
    }
    if (!context.setInputShape(tensor.name.c_str(), ToDims(feed.shape))) {
      throw TensorRTFailure("ERR_SHAPE",
                            "TensorRT refused shape " + ShapeText(feed.shape) + " for " + TensorLabel(tensor) +
                                " under optimization profile " + std::to_string(options_.profile),
                            *recorder_, capture.messages());
    }
  }
  if (!context.allInputDimensionsSpecified()) {
    throw TensorRTFailure("ERR_SHAPE", "TensorRT could not infer the shapes of this run's tensors", *recorder_,
                          capture.messages());
  }
  target.appliedShapes = bindings.shapeKey;
}

void ExecutionContext::SetAddresses(TrtContext& target, const Bindings& bindings) {
  Logger::Capture capture;
  if (!target.appliedShapes || !(*target.appliedShapes == bindings.shapeKey)) ApplyInputShapes(target, bindings);
  nvinfer1::IExecutionContext& context = *target.context;
  const bool primary = &target == primary_.get();
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const IoTensor& tensor = tensors_[t];
    const bool dynamic =
        std::find(bindings.dynamicOutputs.begin(), bindings.dynamicOutputs.end(), t) != bindings.dynamicOutputs.end();
    // Output allocators live on the primary context only: data-dependent outputs turn graphs off.
    if (!tensor.isInput && primary) {
      DynamicOutput* allocator = dynamic ? dynamicOutputs_[t].get() : nullptr;
      if (dynamic || dynamicOutputs_[t]) {
        if (!context.setOutputAllocator(tensor.name.c_str(), allocator)) {
          throw TensorRTFailure("ERR_TENSORRT", "TensorRT refused an output allocator for " + TensorLabel(tensor),
                                *recorder_, capture.messages());
        }
      }
    }
    if (!context.setTensorAddress(tensor.name.c_str(), bindings.addresses[t])) {
      throw TensorRTFailure("ERR_TENSORRT", "TensorRT refused the memory bound to " + TensorLabel(tensor), *recorder_,
                            capture.messages());
    }
  }
}

void ExecutionContext::EnqueuePlain(TrtContext& target, const Bindings& bindings) {
  Logger::Capture capture;
  SetAddresses(target, bindings);
  target.warmedUp.reset();
  if (!target.context->enqueueV3(stream_->get())) {
    ThrowIfDeviceLost(stream_->get(), "enqueueV3");
    for (size_t t : bindings.dynamicOutputs) {
      const DynamicOutput& allocator = *dynamicOutputs_[t];
      if (allocator.userBound() && allocator.requested() > allocator.userCapacity()) {
        throw TooSmall(tensors_[t], {}, allocator.requested(), allocator.userCapacity());
      }
      if (!allocator.failure().empty()) {
        throw NativeError("ERR_OUT_OF_MEMORY", "Could not allocate " + std::to_string(allocator.requested()) +
                                                   " bytes for " + TensorLabel(tensors_[t]) + ": " +
                                                   allocator.failure());
      }
    }
    throw TensorRTFailure("ERR_TENSORRT", "TensorRT could not enqueue the inference", *recorder_, capture.messages());
  }
}

std::shared_ptr<ExecutionContext::TrtContext> ExecutionContext::ContextForShapes(const Bindings& bindings) {
  if (std::shared_ptr<TrtContext>* found = shapeContexts_.Find(bindings.shapeKey)) return *found;
  std::shared_ptr<TrtContext> created = NewTrtContext();
  ApplyInputShapes(*created, bindings);
  // An evicted context goes here, on this thread, unless graphs captured on it still hold it.
  shapeContexts_.Insert(bindings.shapeKey, created);
  return created;
}

GraphUse ExecutionContext::EnqueueWithGraphs(const Bindings& bindings) {
  cudaStream_t stream = stream_->get();
  if (GraphEntry* entry = graphs_.Find(bindings.key)) {
    cuda::CudaCheck(cudaGraphLaunch(entry->graph->exec, stream), "cudaGraphLaunch");
    return GraphUse::kReplayed;
  }
  std::shared_ptr<TrtContext> target = ContextForShapes(bindings);
  if (!target->warmedUp || !(*target->warmedUp == bindings.key)) {
    // TensorRT needs a plain enqueue with these bindings right before a capture (after a shape
    // change its first enqueue may do work a graph cannot hold); the next run, if its bindings are
    // the same, is captured.
    EnqueuePlain(*target, bindings);
    target->warmedUp = bindings.key;
    return GraphUse::kPlain;
  }
  target->warmedUp.reset();
  std::string reason;
  std::unique_ptr<GraphExec> captured = CaptureGraph(*target, bindings, reason);
  if (captured) {
    failedCaptures_ = 0;
    cuda::CudaCheck(cudaGraphLaunch(captured->exec, stream), "cudaGraphLaunch");
    // An evicted graph (and its context, if nothing else holds it) is destroyed here, on this thread.
    graphs_.Insert(bindings.key, GraphEntry{std::move(target), std::move(captured)});
    return GraphUse::kCaptured;
  }
  if (options_.graphMode == GraphMode::kRequired) {
    throw NativeError("ERR_TENSORRT", "CUDA graph capture failed (cudaGraph: true): " + reason +
                                          ". Use cudaGraph: 'auto' to fall back to plain enqueues");
  }
  if (++failedCaptures_ >= kCaptureAttempts) {
    DisableGraphs(reason + " (" + std::to_string(failedCaptures_) + " captures in a row failed)");
    EnqueuePlain(*primary_, bindings);
    return GraphUse::kPlain;
  }
  // One failure is not a verdict (a capture can fail for a reason that goes away): this run is a
  // plain enqueue, which also warms the context up for the next attempt.
  const std::string message = "tensorrt-node: CUDA graph capture failed (attempt " + std::to_string(failedCaptures_) +
                              " of " + std::to_string(kCaptureAttempts) + "): " + reason +
                              "; this run is a plain enqueueV3 and the capture is retried";
  Logger::Instance().log(Severity::kWARNING, message.c_str());
  EnqueuePlain(*target, bindings);
  target->warmedUp = bindings.key;
  return GraphUse::kPlain;
}

std::unique_ptr<ExecutionContext::GraphExec> ExecutionContext::CaptureGraph(TrtContext& target,
                                                                            const Bindings& bindings,
                                                                            std::string& reason) {
  SetAddresses(target, bindings);  // outside the capture: TensorRT may copy shape data on the stream here
  cudaStream_t stream = stream_->get();
  Logger::Capture capture;
  // Thread-local mode: other threads' CUDA calls (other streams, allocations) cannot invalidate it.
  cudaError_t status = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  if (status != cudaSuccess) {
    reason = std::string("cudaStreamBeginCapture failed: ") + cudaGetErrorName(status);
    cudaGetLastError();
    return nullptr;
  }
  const bool enqueued = target.context->enqueueV3(stream);
  cudaGraph_t graph = nullptr;
  status = cudaStreamEndCapture(stream, &graph);  // always ends the capture, whatever happened inside
  if (!enqueued || status != cudaSuccess || graph == nullptr) {
    if (!enqueued) {
      const std::vector<std::string> messages = capture.messages();
      reason = "enqueueV3 cannot be captured into a CUDA graph" +
               (messages.empty() ? std::string() : ": " + messages.back());
    } else {
      reason = std::string("cudaStreamEndCapture failed: ") + cudaGetErrorName(status);
    }
    if (graph != nullptr) cudaGraphDestroy(graph);
    ThrowIfDeviceLost(stream, "enqueueV3 (stream capture)");  // no retry can help then
    cudaGetLastError();
    recorder_->drain();  // the failed capture's errors belong to no run
    return nullptr;
  }
  auto exec = std::make_unique<GraphExec>();
  status = cudaGraphInstantiate(&exec->exec, graph, 0);
  cudaGraphDestroy(graph);
  if (status != cudaSuccess) {
    exec->exec = nullptr;
    reason = std::string("cudaGraphInstantiate failed: ") + cudaGetErrorName(status);
    cudaGetLastError();
    return nullptr;
  }
  return exec;
}

void ExecutionContext::EnqueueOutputs(RunRequest& request, const Bindings& bindings, RunOutcome& outcome) {
  cudaStream_t stream = stream_->get();
  // Host (shape) outputs live in one buffer per context that the next run's enqueueV3 may overwrite
  // from this thread at once: they are copied out synchronously, after waiting for this run. Rare
  // engines only; everything else is a stream-ordered copy.
  bool synchronized = false;
  auto copyOut = [&](void* dst, const void* src, uint64_t bytes, bool fromHost) {
    if (bytes == 0) return;
    if (!fromHost) {
      cuda::CudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream), "cudaMemcpyAsync (device to host)");
      return;
    }
    if (!synchronized) cuda::CudaCheck(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    synchronized = true;
    std::memcpy(dst, src, bytes);
  };
  struct Pending {
    size_t output;
    const void* source;
    bool fromHost;
  };
  std::vector<Pending> staged;
  uint64_t stagedBytes = 0;
  outcome.outputs.clear();
  for (size_t o = 0; o < request.outputs.size(); ++o) {
    const OutputTarget& target = request.outputs[o];
    const IoTensor& tensor = tensors_[target.tensor];
    RunOutcome::Output output;
    output.tensor = target.tensor;
    const void* source = bindings.addresses[target.tensor];
    const bool dynamic = std::find(bindings.dynamicOutputs.begin(), bindings.dynamicOutputs.end(), target.tensor) !=
                         bindings.dynamicOutputs.end();
    if (dynamic) {
      const DynamicOutput& allocator = *dynamicOutputs_[target.tensor];
      if (!allocator.notified()) {
        throw NativeError("ERR_TENSORRT", "TensorRT did not report the shape of " + TensorLabel(tensor));
      }
      output.shape = allocator.shape();
      if (allocator.address() != nullptr) source = allocator.address();
    } else {
      output.shape = bindings.shapes[target.tensor];
    }
    output.bytes = ByteSize(output.shape, tensor.elementSize, TensorLabel(tensor));
    switch (target.destination) {
      case OutputTarget::Destination::kDevice:
        break;  // TensorRT wrote it in place
      case OutputTarget::Destination::kPinned:
        if (output.bytes > target.capacity) throw TooSmall(tensor, output.shape, output.bytes, target.capacity);
        copyOut(target.data, source, output.bytes, tensor.onHost);
        break;
      case OutputTarget::Destination::kHostArray:
        if (output.bytes > target.capacity) throw TooSmall(tensor, output.shape, output.bytes, target.capacity);
        [[fallthrough]];
      case OutputTarget::Destination::kFreshArray:
        staged.push_back({outcome.outputs.size(), source, tensor.onHost});
        stagedBytes += cuda::AlignStaging(output.bytes);
        break;
    }
    outcome.outputs.push_back(std::move(output));
  }
  if (staged.empty()) return;
  auto* base = static_cast<unsigned char*>(request.staging->outputs.Reserve(stagedBytes));
  uint64_t offset = 0;
  for (const Pending& pending : staged) {
    RunOutcome::Output& output = outcome.outputs[pending.output];
    output.staged = base + offset;
    copyOut(base + offset, pending.source, output.bytes, pending.fromHost);
    offset += cuda::AlignStaging(output.bytes);
  }
}

// ------------------------------------------------------------------------------------------------
// Runs
// ------------------------------------------------------------------------------------------------

void ExecutionContext::Enqueue(RunRequest& request, RunOutcome& outcome) {
  const double enqueueStartMs = MonotonicMilliseconds();
  cudaStream_t stream = stream_->get();
  Bindings bindings = Prepare(request);

  std::shared_ptr<RunTimer> timer;
  if (request.timing) {
    timer = std::make_shared<RunTimer>(timingEvents_, timingClock_->Anchor(stream));
    timer->Record(RunTimer::kStart, stream);
  }
  for (const auto& buffer : bindings.userDevice) buffer->OrderBefore(stream);
  for (const Bindings::Copy& copy : bindings.h2d) {
    cuda::CudaCheck(cudaMemcpyAsync(copy.dst, copy.src, copy.bytes, cudaMemcpyDefault, stream),
                    "cudaMemcpyAsync (host to device)");
  }
  if (timer) timer->Record(RunTimer::kH2dEnd, stream);

  GraphUse use = GraphUse::kPlain;
  if (!bindings.dynamicOutputs.empty() && options_.graphMode != GraphMode::kOff && !graphsDisabled_) {
    const std::string reason =
        TensorLabel(tensors_[bindings.dynamicOutputs.front()]) +
        " has a data-dependent shape, and the output allocator it needs cannot be captured in a CUDA graph";
    if (options_.graphMode == GraphMode::kRequired) {
      throw NativeError("ERR_NOT_SUPPORTED", "Cannot use CUDA graphs (cudaGraph: true) with this engine: " + reason);
    }
    DisableGraphs(reason);
  }
  const bool graphs = options_.graphMode != GraphMode::kOff && !graphsDisabled_;
  if (graphs) {
    use = EnqueueWithGraphs(bindings);
  } else {
    EnqueuePlain(*primary_, bindings);
  }
  if (timer) timer->Record(RunTimer::kComputeEnd, stream);

  EnqueueOutputs(request, bindings, outcome);
  if (timer) {
    timer->Record(RunTimer::kEnd, stream);
    timer->SetEnqueueTimes(enqueueStartMs, MonotonicMilliseconds());
  }
  outcome.graph = use;
  outcome.timer = std::move(timer);

  std::lock_guard<std::mutex> lock(statusMutex_);
  switch (use) {
    case GraphUse::kCaptured:
      ++status_.captures;
      break;
    case GraphUse::kReplayed:
      ++status_.replays;
      break;
    case GraphUse::kPlain:
      ++status_.plainRuns;
      break;
  }
  status_.cachedGraphs = graphs_.size();
}

std::vector<LayerTime> ExecutionContext::ProfileLayers(RunRequest& request, int iterations) {
  cudaStream_t stream = stream_->get();
  Bindings bindings = Prepare(request);
  for (const auto& buffer : bindings.userDevice) buffer->OrderBefore(stream);
  for (const Bindings::Copy& copy : bindings.h2d) {
    cuda::CudaCheck(cudaMemcpyAsync(copy.dst, copy.src, copy.bytes, cudaMemcpyDefault, stream),
                    "cudaMemcpyAsync (host to device)");
  }
  nvinfer1::IExecutionContext& context = *primary_->context;
  SetAddresses(*primary_, bindings);

  Logger::Capture capture;
  LayerProfiler profiler;
  // Reports are collected explicitly after each synchronized enqueue (reportToProfiler), as
  // trtexec --dumpProfile does, instead of TensorRT synchronizing inside every enqueue.
  context.setEnqueueEmitsProfile(false);
  context.setProfiler(&profiler);
  struct Detach {
    nvinfer1::IExecutionContext& context;
    ~Detach() { context.setProfiler(nullptr); }  // a profiler slows down every later enqueue
  } detach{context};
  for (int i = 0; i < iterations; ++i) {
    if (!context.enqueueV3(stream)) {
      ThrowIfDeviceLost(stream, "enqueueV3");
      throw TensorRTFailure("ERR_TENSORRT", "TensorRT could not enqueue the profiled inference", *recorder_,
                            capture.messages());
    }
    cuda::CudaCheck(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    if (!context.reportToProfiler()) {
      throw TensorRTFailure("ERR_TENSORRT", "TensorRT could not report layer times", *recorder_, capture.messages());
    }
    profiler.EndIteration();
  }
  return profiler.Summary();
}

}  // namespace trt_node::trt
