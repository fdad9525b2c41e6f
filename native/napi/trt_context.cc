#include "napi/trt_context.h"

#include <cstring>
#include <string>
#include <utility>

#include "core/byte_range.h"
#include "core/error.h"
#include "napi/addon_data.h"
#include "napi/cuda_args.h"
#include "napi/cuda_submit.h"
#include "napi/cuda_wraps.h"
#include "napi/errors.h"
#include "napi/trt_engine.h"
#include "trt/logger.h"

namespace trt_node::napi {
namespace {

constexpr const char* kContextWhat = "The execution context";

std::atomic<uint64_t> nextLogTarget{1};

NativeError Disposed() {
  return NativeError("ERR_DISPOSED", std::string(kContextWhat) + " was disposed and can no longer be used");
}

std::string Label(const trt::IoTensor& tensor) {
  return std::string(tensor.isInput ? "input" : "output") + " \"" + tensor.name + "\"";
}

NativeError RangeFailure(const std::string& code, const std::string& message) {
  return NativeError(code, message, ErrorKind::kRange);
}

// One run (or profiling job) as the JS thread prepared it, shared by its enqueue and its resolution.
struct RunJob {
  trt::RunRequest request;
  trt::RunOutcome outcome;
  // Shared with the cancel() function JavaScript holds, which must not keep the rest (staging,
  // buffers) alive once the run settled.
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  std::vector<PinnedBufferWrap*> copyingOutputs;  // pinned in copying mode: mirrored back at resolution
  std::vector<Napi::Value> keepAlive;
};

size_t RequireTensorIndex(const Napi::Value& value, const ContextState& state, bool input, const std::string& what) {
  if (!value.IsNumber()) throw InvalidArgument("Expected a tensor index for " + what);
  const auto index = ByteCountFromNumber(value.As<Napi::Number>().DoubleValue());
  if (!index || *index >= state.tensors.size() || state.tensors[*index].isInput != input) {
    throw RangeFailure("ERR_INVALID_ARGUMENT",
                       "Expected the index of an engine " + std::string(input ? "input" : "output") + " for " + what);
  }
  return static_cast<size_t>(*index);
}

std::vector<int64_t> RequireShape(const Napi::Value& value, const trt::IoTensor& tensor) {
  const std::string what = "the shape of " + Label(tensor);
  if (!value.IsArray()) throw InvalidArgument("Expected an array of dimensions for " + what);
  Napi::Array array = value.As<Napi::Array>();
  if (array.Length() != tensor.shape.size()) {
    throw RangeFailure("ERR_SHAPE", "Expected " + std::to_string(tensor.shape.size()) + " dimensions for " + what +
                                        " but received " + std::to_string(array.Length()));
  }
  std::vector<int64_t> shape;
  for (uint32_t axis = 0; axis < array.Length(); ++axis) {
    Napi::Value dim = array.Get(axis);
    const auto checked = dim.IsNumber() ? ByteCountFromNumber(dim.As<Napi::Number>().DoubleValue()) : std::nullopt;
    if (!checked) {
      throw RangeFailure("ERR_SHAPE", "Expected a non-negative integer for dimension " + std::to_string(axis) + " of " +
                                          Label(tensor));
    }
    const int64_t fixed = tensor.shape[axis];
    if (fixed >= 0 && static_cast<int64_t>(*checked) != fixed) {
      throw RangeFailure("ERR_SHAPE", "Expected dimension " + std::to_string(axis) + " of " + Label(tensor) +
                                          " to be " + std::to_string(fixed));
    }
    shape.push_back(static_cast<int64_t>(*checked));
  }
  return shape;
}

uint64_t ShapeBytes(const std::vector<int64_t>& shape, const trt::IoTensor& tensor) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    const auto next = CheckedByteSize(count, static_cast<uint64_t>(dim));
    if (!next) throw RangeFailure("ERR_SHAPE", "The element count of " + Label(tensor) + " overflows");
    count = *next;
  }
  const auto bytes = CheckedByteSize(count, tensor.elementSize);
  if (!bytes) throw RangeFailure("ERR_SHAPE", "The byte size of " + Label(tensor) + " overflows");
  return *bytes;
}

const void* TypedArrayData(const Napi::TypedArray& array) {
  // Reading the ArrayBuffer materialises on-heap arrays, so the address stays valid for as long as
  // the array is referenced (the run's promise keeps it) and not detached.
  return static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

void ParseInputs(const Napi::Value& value, const ContextState& state, RunJob& job) {
  if (!value.IsArray()) throw InvalidArgument("Expected an array of inputs");
  Napi::Array inputs = value.As<Napi::Array>();
  size_t engineInputs = 0;
  for (const trt::IoTensor& tensor : state.tensors) engineInputs += tensor.isInput ? 1 : 0;
  if (inputs.Length() != engineInputs) {
    throw RangeFailure("ERR_INVALID_ARGUMENT", "Expected " + std::to_string(engineInputs) +
                                                   " inputs (one per engine input) but received " +
                                                   std::to_string(inputs.Length()));
  }
  std::vector<bool> seen(state.tensors.size(), false);
  for (uint32_t i = 0; i < inputs.Length(); ++i) {
    const std::string where = "inputs[" + std::to_string(i) + "]";
    Napi::Object entry = RequireObject(inputs.Get(i), where.c_str());
    trt::InputFeed feed;
    feed.tensor = RequireTensorIndex(entry.Get("tensor"), state, true, where + ".tensor");
    if (seen[feed.tensor]) throw RangeFailure("ERR_INVALID_ARGUMENT", "Input tensor given twice: " + where);
    seen[feed.tensor] = true;
    const trt::IoTensor& tensor = state.tensors[feed.tensor];
    feed.shape = RequireShape(entry.Get("shape"), tensor);
    feed.bytes = ShapeBytes(feed.shape, tensor);
    Napi::Value memory = entry.Get("memory");
    const std::string what = "the memory of " + Label(tensor);
    if (PinnedBufferWrap* pinned = PinnedBufferWrap::FromValue(memory)) {
      std::shared_ptr<cuda::PinnedBuffer> buffer = pinned->Live(what.c_str());
      if (buffer->size() < feed.bytes) {
        throw RangeFailure("ERR_SHAPE", "Expected at least " + std::to_string(feed.bytes) + " bytes for " + what +
                                            " but received " + std::to_string(buffer->size()));
      }
      if (pinned->copying()) pinned->MirrorToPinned();
      feed.source = trt::InputFeed::Source::kPinned;
      feed.data = buffer->data();
      feed.owner = std::move(buffer);
    } else if (DeviceBufferWrap* device = DeviceBufferWrap::FromValue(memory)) {
      std::shared_ptr<cuda::DeviceBuffer> buffer = device->Live(what.c_str());
      if (tensor.onHost) throw InvalidArgument("Expected host or pinned memory for " + what + " (a host tensor)");
      if (buffer->device() != state.device) {
        throw RangeFailure("ERR_INVALID_ARGUMENT", "Expected memory of device " + std::to_string(state.device) +
                                                       " for " + what + " but received memory of device " +
                                                       std::to_string(buffer->device()));
      }
      if (buffer->size() < feed.bytes) {
        throw RangeFailure("ERR_SHAPE", "Expected at least " + std::to_string(feed.bytes) + " bytes for " + what +
                                            " but received " + std::to_string(buffer->size()));
      }
      feed.source = trt::InputFeed::Source::kDevice;
      feed.data = buffer->data();
      feed.deviceBuffer = buffer;
      feed.owner = std::move(buffer);
    } else if (memory.IsTypedArray()) {
      Napi::TypedArray array = memory.As<Napi::TypedArray>();
      if (array.ByteLength() != feed.bytes) {
        throw RangeFailure("ERR_SHAPE", "Expected " + std::to_string(feed.bytes) + " bytes for " + what +
                                            " but received " + std::to_string(array.ByteLength()));
      }
      feed.source = trt::InputFeed::Source::kHostArray;
      feed.data = TypedArrayData(array);
    } else {
      throw InvalidArgument("Expected a TypedArray, a pinned buffer or a device buffer for " + what);
    }
    job.keepAlive.push_back(memory);
    job.request.inputs.push_back(std::move(feed));
  }
}

// Outputs the caller bound; every other output becomes a fresh array.
void ParseOutputs(const Napi::Value& value, const ContextState& state, RunJob& job) {
  std::vector<trt::OutputTarget> bound(state.tensors.size());
  std::vector<bool> seen(state.tensors.size(), false);
  if (!value.IsUndefined() && !value.IsNull()) {
    if (!value.IsArray()) throw InvalidArgument("Expected an array of outputs");
    Napi::Array outputs = value.As<Napi::Array>();
    for (uint32_t i = 0; i < outputs.Length(); ++i) {
      const std::string where = "outputs[" + std::to_string(i) + "]";
      Napi::Object entry = RequireObject(outputs.Get(i), where.c_str());
      const size_t index = RequireTensorIndex(entry.Get("tensor"), state, false, where + ".tensor");
      if (seen[index]) throw RangeFailure("ERR_INVALID_ARGUMENT", "Output tensor given twice: " + where);
      seen[index] = true;
      const trt::IoTensor& tensor = state.tensors[index];
      const std::string what = "the memory of " + Label(tensor);
      trt::OutputTarget& target = bound[index];
      target.tensor = index;
      Napi::Value memory = entry.Get("memory");
      if (PinnedBufferWrap* pinned = PinnedBufferWrap::FromValue(memory)) {
        std::shared_ptr<cuda::PinnedBuffer> buffer = pinned->Live(what.c_str());
        if (pinned->copying()) job.copyingOutputs.push_back(pinned);
        target.destination = trt::OutputTarget::Destination::kPinned;
        target.data = buffer->data();
        target.capacity = buffer->size();
        target.owner = std::move(buffer);
      } else if (DeviceBufferWrap* device = DeviceBufferWrap::FromValue(memory)) {
        std::shared_ptr<cuda::DeviceBuffer> buffer = device->Live(what.c_str());
        if (tensor.onHost) throw InvalidArgument("Expected host or pinned memory for " + what + " (a host tensor)");
        if (buffer->device() != state.device) {
          throw RangeFailure("ERR_INVALID_ARGUMENT", "Expected memory of device " + std::to_string(state.device) +
                                                         " for " + what + " but received memory of device " +
                                                         std::to_string(buffer->device()));
        }
        target.destination = trt::OutputTarget::Destination::kDevice;
        target.data = buffer->data();
        target.capacity = buffer->size();
        target.deviceBuffer = buffer;
        target.owner = std::move(buffer);
      } else if (memory.IsTypedArray()) {
        Napi::TypedArray array = memory.As<Napi::TypedArray>();
        target.destination = trt::OutputTarget::Destination::kHostArray;
        target.data = const_cast<void*>(TypedArrayData(array));
        target.capacity = array.ByteLength();
      } else {
        throw InvalidArgument("Expected a TypedArray, a pinned buffer or a device buffer for " + what);
      }
      job.keepAlive.push_back(memory);
    }
  }
  for (size_t t = 0; t < state.tensors.size(); ++t) {
    if (state.tensors[t].isInput) continue;
    if (!seen[t]) bound[t].tensor = t;  // kFreshArray
    job.request.outputs.push_back(std::move(bound[t]));
  }
}

Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array array = Napi::Array::New(env, shape.size());
  for (uint32_t i = 0; i < shape.size(); ++i) array.Set(i, static_cast<double>(shape[i]));
  return array;
}

Napi::Value RunResultToJs(Napi::Env env, RunJob& job) {
  Napi::Object result = Napi::Object::New(env);
  const auto& outcome = job.outcome;
  Napi::Array outputs = Napi::Array::New(env, outcome.outputs.size());
  for (uint32_t i = 0; i < outcome.outputs.size(); ++i) {
    const trt::RunOutcome::Output& output = outcome.outputs[i];
    const trt::OutputTarget& target = job.request.outputs[i];
    Napi::Object item = Napi::Object::New(env);
    item.Set("tensor", static_cast<double>(output.tensor));
    item.Set("shape", ShapeToJs(env, output.shape));
    if (target.destination == trt::OutputTarget::Destination::kFreshArray) {
      // The one copy of the default path: pinned staging into a fresh array the caller owns.
      Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, output.bytes);
      if (output.bytes > 0) std::memcpy(buffer.Data(), output.staged, output.bytes);
      item.Set("buffer", buffer);
    } else if (target.destination == trt::OutputTarget::Destination::kHostArray && output.bytes > 0) {
      std::memcpy(target.data, output.staged, output.bytes);
    }
    outputs.Set(i, item);
  }
  for (PinnedBufferWrap* pinned : job.copyingOutputs) pinned->PinnedToMirror();
  result.Set("outputs", outputs);
  result.Set("graph", trt::GraphUseName(outcome.graph));
  if (outcome.timer) {
    const trt::PhaseTimes times = outcome.timer->Resolve();
    Napi::Object timing = Napi::Object::New(env);
    timing.Set("enqueueStartMs", times.enqueueStartMs);
    timing.Set("enqueueEndMs", times.enqueueEndMs);
    timing.Set("h2dStartMs", times.h2dStartMs);
    timing.Set("h2dEndMs", times.h2dEndMs);
    timing.Set("computeStartMs", times.computeStartMs);
    timing.Set("computeEndMs", times.computeEndMs);
    timing.Set("d2hStartMs", times.d2hStartMs);
    timing.Set("d2hEndMs", times.d2hEndMs);
    result.Set("timing", timing);
  }
  return result;
}

trt::GraphMode RequireGraphMode(const Napi::Object& options) {
  Napi::Value value = options.Get("cudaGraph");
  if (value.IsUndefined()) return trt::GraphMode::kAuto;
  const std::string mode = RequireString(value, "options.cudaGraph");
  if (mode == "auto") return trt::GraphMode::kAuto;
  if (mode == "on") return trt::GraphMode::kRequired;
  if (mode == "off") return trt::GraphMode::kOff;
  throw RangeFailure("ERR_INVALID_ARGUMENT", "Expected \"auto\", \"on\" or \"off\" for options.cudaGraph");
}

// createExecutionContext(engineWrap, { profile, cudaGraph }) -> Promise<ContextWrap>
Napi::Value CreateExecutionContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!info[0].IsObject() ||
        !info[0].As<Napi::Object>().InstanceOf(AddonData::Get(env).engineWrapConstructor.Value())) {
      throw InvalidArgument("Expected an engine for createExecutionContext()");
    }
    std::shared_ptr<trt::Engine> engine = Napi::ObjectWrap<EngineWrap>::Unwrap(info[0].As<Napi::Object>())->engine(env);
    Napi::Object options = info[1].IsUndefined() ? Napi::Object::New(env) : RequireObject(info[1], "options");
    trt::ContextOptions contextOptions;
    Napi::Value profile = options.Get("profile");
    if (!profile.IsUndefined()) contextOptions.profile = RequireInt32(profile, "options.profile");
    contextOptions.graphMode = RequireGraphMode(options);

    std::shared_ptr<cuda::StreamExecutor> executor = CreateStreamExecutor(env, engine->device(), 0);
    std::weak_ptr<SerialThread> releaser = CompletionEnvironment::Get(env).releaser();
    cuda::ReleaseOffThreadFn release = [releaser](std::function<void()> task) {
      ReleaseOffThread(releaser, std::move(task));
    };
    std::shared_ptr<ContextState> state = ShareReleasedOffThread(env, std::make_unique<ContextState>());
    state->logTarget = nextLogTarget.fetch_add(1);
    state->device = engine->device();
    state->profile = contextOptions.profile;
    state->engine = engine;
    state->staging = cuda::StagingPool::Create(release);
    return SubmitToStream(
        env, executor, "Engine.createContext",
        [state, contextOptions, stream = executor->sharedStream(), release](cudaStream_t) {
          trt::Logger::ScopedTarget target(state->logTarget);
          state->context = trt::ExecutionContext::Create(state->engine, contextOptions, stream, release);
          // Read by the JS thread only once the wrap exists, after this job settled.
          state->tensors = state->context->tensors();
        },
        [state, executor](Napi::Env env) -> Napi::Value { return ContextWrap::New(env, state, executor); }, {info[0]});
  });
}

}  // namespace

void ContextWrap::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(
      env, "ContextWrap",
      {InstanceMethod<&ContextWrap::Run>("run"), InstanceMethod<&ContextWrap::ProfileLayers>("profileLayers"),
       InstanceMethod<&ContextWrap::CudaGraphStatus>("cudaGraphStatus"),
       InstanceMethod<&ContextWrap::Dispose>("dispose"), InstanceAccessor<&ContextWrap::GetDevice>("device"),
       InstanceAccessor<&ContextWrap::GetProfile>("profile"), InstanceAccessor<&ContextWrap::GetLogTarget>("logTarget"),
       InstanceAccessor<&ContextWrap::GetInFlight>("inFlight"),
       InstanceAccessor<&ContextWrap::GetDisposed>("disposed")});
  AddonData::Get(env).contextWrapConstructor = Napi::Persistent(constructor);
  exports.Set("createExecutionContext", Napi::Function::New(env, CreateExecutionContext, "createExecutionContext"));
}

Napi::Object ContextWrap::New(Napi::Env env, std::shared_ptr<ContextState> state,
                              std::shared_ptr<cuda::StreamExecutor> executor) {
  Napi::Object object = AddonData::Get(env).contextWrapConstructor.New({});
  ContextWrap* wrap = Unwrap(object);
  wrap->device_ = state->device;
  wrap->profile_ = state->profile;
  wrap->logTarget_ = state->logTarget;
  wrap->state_ = std::move(state);
  wrap->executor_ = std::move(executor);
  return object;
}

ContextWrap::ContextWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ContextWrap>(info) {}

// Finalizer fallback: runs not yet started are rejected, started ones finish, and the context is
// released once the last of them completed.
ContextWrap::~ContextWrap() { Retire(false); }

namespace {

// The last job of a context: every run submitted before it has been enqueued (jobs are serial), so
// once the stream is idle the GPU no longer uses the IExecutionContext, its graphs or its buffers,
// and they can go. Runs on the context's own submit thread, which has nothing queued behind it.
void ReleaseContext(ContextState& state, cudaStream_t stream) {
  if (!state.context) return;
  const cudaError_t status = cudaStreamSynchronize(stream);
  if (status != cudaSuccess) cudaGetLastError();  // a failed stream runs nothing any more either
  trt::Logger::ScopedTarget target(state.logTarget);
  state.context.reset();
}

}  // namespace

void ContextWrap::Retire(bool releaseSubmitted) {
  if (!executor_) return;
  state_->disposing = true;
  if (!releaseSubmitted) {
    try {
      executor_->Submit([state = state_](cudaStream_t stream) { ReleaseContext(*state, stream); },
                        [](std::exception_ptr) {});
    } catch (const std::exception&) {
      // Closed at environment teardown, which drains the stream itself; the state goes with its last owner.
    }
  }
  executor_->Close();
  executor_.reset();  // both deleters run on the releaser thread
  state_.reset();
}

std::shared_ptr<ContextState> ContextWrap::Live() const {
  if (!state_) throw Disposed();
  return state_;
}

// run(inputs, outputs, timing, cancellable) -> Promise<result>, or { promise, cancel } when cancellable.
Napi::Value ContextWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<ContextState> state = Live();
    auto job = std::make_shared<RunJob>();
    ParseInputs(info[0], *state, *job);
    ParseOutputs(info[1], *state, *job);
    job->request.timing = info[2].ToBoolean().Value();
    job->request.staging = state->staging->Take();
    job->keepAlive.push_back(info.This());
    const bool cancellable = info[3].ToBoolean().Value();
    std::vector<Napi::Value> keepAlive = std::move(job->keepAlive);
    Napi::Promise promise = SubmitToStream(
        env, executor_, "ExecutionContext.run",
        [state, job](cudaStream_t) {
          if (*job->cancelled) throw NativeError("ERR_ABORTED", "ExecutionContext.run was aborted before it started");
          if (state->disposing)
            throw NativeError("ERR_DISPOSED", "The execution context was disposed before this run started");
          trt::Logger::ScopedTarget target(state->logTarget);
          state->context->Enqueue(job->request, job->outcome);
        },
        [job](Napi::Env env) -> Napi::Value { return RunResultToJs(env, *job); }, keepAlive);
    if (!cancellable) return promise;
    Napi::Object handle = Napi::Object::New(env);
    handle.Set("promise", promise);
    handle.Set("cancel", Napi::Function::New(env, [cancelled = job->cancelled](const Napi::CallbackInfo& call) {
                 *cancelled = true;
                 return call.Env().Undefined();
               }));
    return handle;
  });
}

// profileLayers(inputs, iterations) -> Promise<[{ name, totalMs, averageMs, medianMs, percentage, calls }]>
Napi::Value ContextWrap::ProfileLayers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::shared_ptr<ContextState> state = Live();
    auto job = std::make_shared<RunJob>();
    ParseInputs(info[0], *state, *job);
    ParseOutputs(env.Undefined(), *state, *job);
    const int iterations = RequireInt32(info[1], "iterations");
    if (iterations < 1 || iterations > 100000) {
      throw RangeFailure("ERR_INVALID_ARGUMENT", "Expected an integer between 1 and 100000 for iterations");
    }
    job->request.staging = state->staging->Take();
    job->keepAlive.push_back(info.This());
    auto layers = std::make_shared<std::vector<trt::LayerTime>>();
    std::vector<Napi::Value> keepAlive = std::move(job->keepAlive);
    return SubmitToStream(
        env, executor_, "ExecutionContext.profileLayers",
        [state, job, layers, iterations](cudaStream_t) {
          if (state->disposing)
            throw NativeError("ERR_DISPOSED", "The execution context was disposed before profiling started");
          trt::Logger::ScopedTarget target(state->logTarget);
          *layers = state->context->ProfileLayers(job->request, iterations);
        },
        [layers](Napi::Env env) -> Napi::Value {
          Napi::Array array = Napi::Array::New(env, layers->size());
          for (uint32_t i = 0; i < layers->size(); ++i) {
            const trt::LayerTime& layer = (*layers)[i];
            Napi::Object item = Napi::Object::New(env);
            item.Set("name", layer.name);
            item.Set("totalMs", layer.totalMs);
            item.Set("averageMs", layer.averageMs);
            item.Set("medianMs", layer.medianMs);
            item.Set("percentage", layer.percentage);
            item.Set("calls", static_cast<double>(layer.calls));
            array.Set(i, item);
          }
          return array;
        },
        keepAlive);
  });
}

Napi::Value ContextWrap::CudaGraphStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const trt::GraphStatus status = Live()->context->graphStatus();
    Napi::Object object = Napi::Object::New(env);
    object.Set("mode", trt::GraphModeName(status.mode));
    object.Set("active", status.active);
    object.Set("disabledReason",
               status.disabledReason.empty() ? env.Null() : Napi::String::New(env, status.disabledReason));
    object.Set("cachedGraphs", static_cast<double>(status.cachedGraphs));
    object.Set("captures", static_cast<double>(status.captures));
    object.Set("replays", static_cast<double>(status.replays));
    object.Set("plainRuns", static_cast<double>(status.plainRuns));
    return object;
  });
}

// dispose() -> Promise: runs already on the GPU finish, runs still queued reject with ERR_DISPOSED,
// and the promise resolves once the stream is empty and the IExecutionContext was destroyed (never
// under running work: ReleaseContext). Idempotent.
Napi::Value ContextWrap::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!executor_) {
      Napi::Promise::Deferred done = Napi::Promise::Deferred::New(env);
      done.Resolve(env.Undefined());
      return done.Promise();
    }
    state_->disposing = true;
    Napi::Promise drained = SubmitToStream(env, executor_, "ExecutionContext.dispose",
                                           [state = state_](cudaStream_t stream) { ReleaseContext(*state, stream); },
                                           nullptr, {info.This()});
    Retire(true);
    return drained;
  });
}

Napi::Value ContextWrap::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }

Napi::Value ContextWrap::GetProfile(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), profile_); }

Napi::Value ContextWrap::GetLogTarget(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(logTarget_));
}

Napi::Value ContextWrap::GetInFlight(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), executor_ ? static_cast<double>(executor_->inFlight()) : 0);
}

Napi::Value ContextWrap::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !executor_);
}

}  // namespace trt_node::napi
