// An execution context of an engine, driven from one CUDA stream's submit thread. Plain C++ over
// TensorRT and the CUDA runtime; the N-API layer (napi/trt_context.cc) validates arguments, builds
// RunRequests on the JS thread and submits Enqueue() through napi/cuda_submit.h.
//
// Threading: Create(), Enqueue() and ProfileLayers() run on the stream's submit thread only (one
// at a time, in submission order), so the IExecutionContext, the internal device buffers, the
// shape cache and the CUDA graphs need no lock. graphStatus() may be read from any thread.
//
// One run (Enqueue):
//   1. input shapes: setInputShape on the context when they differ from the last ones set (the
//      output shapes of each input-shape key are remembered, so replaying a graph touches nothing);
//   2. bindings: user device tensors are bound as they are; everything else goes through device
//      buffers the context owns (grown on demand, stable addresses so graphs stay valid);
//   3. H2D copies from pinned memory (the run's staging arena, or the user's pinned tensors);
//   4. inference: a CUDA graph replay, a capture (right after a plain warm-up enqueue with the same
//      bindings), or a plain enqueueV3; outputs with data-dependent shapes use an IOutputAllocator;
//   5. D2H copies into the arena (fresh JS arrays are filled from it) or the user's pinned tensors;
//   6. timing events between the phases when asked.
//
// Destruction order (documented because it matters): CUDA graphs, then the IExecutionContexts (the
// per-shape ones, then the primary), then the output allocators they called, then their error
// recorder, then the scratch memory and device buffers they used, then the engine (whose runtime and
// library go last); the logger is process-wide and never destroyed. The N-API layer runs the
// destructor only once the stream finished every run of the context (napi/trt_context.cc).
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/lru_cache.h"
#include "cuda/buffers.h"
#include "cuda/staging_pool.h"
#include "cuda/stream.h"
#include "trt/binding_key.h"
#include "trt/engine.h"
#include "trt/error_recorder.h"
#include "trt/io_tensors.h"
#include "trt/layer_profiler.h"
#include "trt/run_timing.h"

namespace trt_node::trt {

enum class GraphMode { kOff, kAuto, kRequired };
const char* GraphModeName(GraphMode mode) noexcept;

struct ContextOptions {
  int profile = 0;
  GraphMode graphMode = GraphMode::kAuto;
};

// CUDA graphs kept per context, least recently used first out: one per input-shape key in practice
// (and as many IExecutionContexts of the engine, one per input-shape key).
inline constexpr size_t kMaxGraphsPerContext = 16;
// A capture that fails is retried on later runs; after this many failures in a row graphs go off for
// the context (in 'auto' mode) and runs are plain enqueues.
inline constexpr int kCaptureAttempts = 3;

// One input as the JS thread resolved it.
struct InputFeed {
  enum class Source { kHostArray, kPinned, kDevice };
  size_t tensor = 0;  // index into tensors()
  std::vector<int64_t> shape;
  Source source = Source::kHostArray;
  const void* data = nullptr;   // JS memory (kept alive by the promise), pinned or device memory
  uint64_t bytes = 0;           // shape x element size, checked against the memory's capacity
  std::shared_ptr<void> owner;  // pinned or device memory held until the run completed
  std::shared_ptr<cuda::DeviceBuffer> deviceBuffer;
};

// Where one output goes.
struct OutputTarget {
  enum class Destination { kFreshArray, kHostArray, kPinned, kDevice };
  size_t tensor = 0;
  Destination destination = Destination::kFreshArray;
  void* data = nullptr;  // kHostArray / kPinned / kDevice: the caller's memory
  uint64_t capacity = 0;
  std::shared_ptr<void> owner;
  std::shared_ptr<cuda::DeviceBuffer> deviceBuffer;
};

struct RunRequest {
  std::vector<InputFeed> inputs;      // every input, in tensors() order of the inputs
  std::vector<OutputTarget> outputs;  // every output, in tensors() order of the outputs
  bool timing = false;
  std::shared_ptr<cuda::StagingArena> staging;
};

enum class GraphUse { kPlain, kCaptured, kReplayed };
const char* GraphUseName(GraphUse use) noexcept;

struct RunOutcome {
  struct Output {
    size_t tensor = 0;
    std::vector<int64_t> shape;
    uint64_t bytes = 0;
    const void* staged = nullptr;  // kFreshArray / kHostArray: the arena's copy, read on the JS thread
  };
  std::vector<Output> outputs;
  GraphUse graph = GraphUse::kPlain;
  std::shared_ptr<RunTimer> timer;  // when timing was asked; resolve after completion
};

struct GraphStatus {
  GraphMode mode = GraphMode::kAuto;
  bool active = false;         // graphs are in use for this context (mode not off, not disabled)
  std::string disabledReason;  // why graphs are off for this context (empty when they are not)
  size_t cachedGraphs = 0;
  uint64_t captures = 0;
  uint64_t replays = 0;
  uint64_t plainRuns = 0;
};

class ExecutionContext {
 public:
  // Submit thread, as the stream's first job: creates the context on `stream`'s device and selects
  // the optimization profile on that stream. Throws NativeError.
  static std::unique_ptr<ExecutionContext> Create(std::shared_ptr<Engine> engine, const ContextOptions& options,
                                                  std::shared_ptr<cuda::Stream> stream,
                                                  cuda::ReleaseOffThreadFn release);
  ~ExecutionContext();
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  // The engine's I/O tensors (immutable; any thread).
  const std::vector<IoTensor>& tensors() const noexcept { return tensors_; }

  // Submit thread. Enqueues one run on the stream; throws NativeError (nothing of this run is left
  // half-bound: the next run starts from scratch).
  void Enqueue(RunRequest& request, RunOutcome& outcome);

  // Submit thread. Runs `iterations` plain enqueues with an IProfiler attached, waiting for each.
  std::vector<LayerTime> ProfileLayers(RunRequest& request, int iterations);

  GraphStatus graphStatus() const;

 private:
  class DynamicOutput;
  struct Bindings;
  // An instantiated CUDA graph (cudaGraphExecDestroy on destruction, on the submit thread).
  struct GraphExec {
    cudaGraphExec_t exec = nullptr;
    GraphExec() = default;
    GraphExec(const GraphExec&) = delete;
    GraphExec& operator=(const GraphExec&) = delete;
    ~GraphExec();
  };
  // One IExecutionContext and what was last set on it.
  struct TrtContext {
    Owned<nvinfer1::IExecutionContext> context;
    std::optional<BindingKey> appliedShapes;  // the input-shape key set on it now
    std::optional<BindingKey> warmedUp;       // the bindings of its last plain enqueue, if nothing ran on it since
  };
  // A graph and the context it was captured on (declared first: destroyed after the graph).
  struct GraphEntry {
    std::shared_ptr<TrtContext> owner;
    std::unique_ptr<GraphExec> graph;
  };

  ExecutionContext();  // defined where the nested types are complete

  Bindings Prepare(RunRequest& request);
  std::shared_ptr<TrtContext> NewTrtContext();
  void ApplyInputShapes(TrtContext& target, const Bindings& bindings);
  void SetAddresses(TrtContext& target, const Bindings& bindings);
  void EnqueuePlain(TrtContext& target, const Bindings& bindings);
  GraphUse EnqueueWithGraphs(const Bindings& bindings);
  std::shared_ptr<TrtContext> ContextForShapes(const Bindings& bindings);
  std::unique_ptr<GraphExec> CaptureGraph(TrtContext& target, const Bindings& bindings, std::string& reason);
  void ReserveForLargestShapes(const std::vector<std::optional<std::vector<int64_t>>>& largestInputs);
  void DisableGraphs(const std::string& reason);
  void* InternalBuffer(size_t tensor, uint64_t bytes);
  void EnqueueOutputs(RunRequest& request, const Bindings& bindings, RunOutcome& outcome);

  int device_ = 0;
  ContextOptions options_;
  std::shared_ptr<Engine> engine_;
  std::shared_ptr<cuda::Stream> stream_;
  cuda::ReleaseOffThreadFn release_;
  std::vector<IoTensor> tensors_;
  bool hasHostTensors_ = false;

  std::shared_ptr<TimingEventPool> timingEvents_;
  std::unique_ptr<TimingClock> timingClock_;
  std::vector<std::shared_ptr<cuda::DeviceBuffer>> internal_;       // per device tensor, grown on demand
  std::vector<std::unique_ptr<cuda::GrowablePinned>> hostOutputs_;  // per host output (shape tensors)
  std::vector<uint64_t> reserve_;  // bytes of each tensor at the profile's largest shapes (first allocation)

  // Output shapes per input-shape key (inferred on the primary context).
  LruCache<BindingKey, std::vector<std::vector<int64_t>>, BindingKeyHash> shapeCache_{64};

  // CUDA graphs. TensorRT documents a capture only right after a plain enqueue at the same shapes,
  // and nothing about replaying a graph after the context ran at other shapes (the first enqueue
  // after a shape change may update state on the device that a graph captured earlier then reads).
  // So each input-shape key gets an IExecutionContext of its own whose shapes never change; its
  // graphs replay only on it. All contexts share one scratch block (setDeviceMemoryV2): runs are
  // serial on the one stream, which is what TensorRT requires of contexts sharing device memory.
  LruCache<BindingKey, std::shared_ptr<TrtContext>, BindingKeyHash> shapeContexts_{kMaxGraphsPerContext};
  LruCache<BindingKey, GraphEntry, BindingKeyHash> graphs_{kMaxGraphsPerContext};
  bool graphsDisabled_ = false;
  int failedCaptures_ = 0;  // consecutive failed captures; graphs go off at kCaptureAttempts

  mutable std::mutex statusMutex_;
  GraphStatus status_;

  // The destructor releases these explicitly, in the documented order.
  std::unique_ptr<ErrorRecorder> recorder_;
  std::vector<std::unique_ptr<DynamicOutput>> dynamicOutputs_;  // per tensor, created on first need
  std::shared_ptr<cuda::DeviceBuffer> scratch_;                 // device memory of every context below
  int64_t scratchBytes_ = 0;
  std::shared_ptr<TrtContext> primary_;  // plain runs without graphs, shape inference, profiling
};

}  // namespace trt_node::trt
