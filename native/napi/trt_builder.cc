// buildEngine(onnxPath, options, onProgress?) -> { promise, cancel() }: builds on a thread of its own,
// reports progress through a thread-safe function that never blocks TensorRT, and stops the build
// when cancel() is called (lib/build.ts wires that to an AbortSignal).
#include "napi/trt_builder.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "napi/errors.h"
#include "napi/thread_promise.h"
#include "napi/trt_options.h"
#include "trt/builder.h"

namespace trt_node::napi {
namespace {

std::vector<int64_t> RequireShape(const Napi::Value& value, const std::string& what) {
  if (!value.IsArray()) throw InvalidArgument("Expected an array of integers for " + what);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value dim = array.Get(i);
    if (!dim.IsNumber()) throw InvalidArgument("Expected an array of integers for " + what);
    const double number = dim.As<Napi::Number>().DoubleValue();
    if (number < 0 || number != static_cast<double>(static_cast<int64_t>(number))) {
      throw InvalidArgument("Expected non-negative integers in " + what, ErrorKind::kRange);
    }
    shape.push_back(static_cast<int64_t>(number));
  }
  return shape;
}

std::optional<int64_t> OptionalInteger(const Napi::Object& options, const char* key, int64_t min, int64_t max) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return std::nullopt;
  if (!value.IsNumber()) throw InvalidArgument(std::string("Expected an integer for options.") + key);
  const double number = value.As<Napi::Number>().DoubleValue();
  if (number < static_cast<double>(min) || number > static_cast<double>(max) ||
      number != static_cast<double>(static_cast<int64_t>(number))) {
    throw InvalidArgument(std::string("Expected an integer between ") + std::to_string(min) + " and " +
                              std::to_string(max) + " for options." + key,
                          ErrorKind::kRange);
  }
  return static_cast<int64_t>(number);
}

trt::BuildOptions ParseBuildOptions(const Napi::Object& options) {
  trt::BuildOptions build;
  build.device = static_cast<int>(OptionalInteger(options, "device", 0, 1024).value_or(0));
  if (auto workspace = OptionalInteger(options, "workspaceBytes", 1, INT64_C(1) << 50))
    build.workspaceBytes = static_cast<uint64_t>(*workspace);
  if (auto level = OptionalInteger(options, "optimizationLevel", 0, 5))
    build.optimizationLevel = static_cast<int>(*level);
  if (auto streams = OptionalInteger(options, "maxAuxStreams", 0, 64)) build.maxAuxStreams = static_cast<int>(*streams);
  const std::string hardware = OptionalString(options, "hardwareCompatibility", "options.hardwareCompatibility");
  if (!hardware.empty()) build.hardwareCompatibility = hardware;
  build.versionCompatible = options.Get("versionCompatible").ToBoolean().Value();
  build.excludeLeanRuntime = options.Get("excludeLeanRuntime").ToBoolean().Value();

  Napi::Value timingCache = options.Get("timingCache");
  if (timingCache.IsTypedArray()) {
    const ViewedBytes bytes = BytesOf(timingCache.As<Napi::TypedArray>());
    build.timingCache.assign(bytes.data, bytes.data + bytes.byteLength);
  } else if (!timingCache.IsUndefined() && !timingCache.IsNull()) {
    throw InvalidArgument("Expected a Uint8Array for options.timingCache");
  }

  Napi::Value profiles = options.Get("profiles");
  if (profiles.IsArray()) {
    Napi::Array list = profiles.As<Napi::Array>();
    for (uint32_t p = 0; p < list.Length(); ++p) {
      if (!list.Get(p).IsArray())
        throw InvalidArgument("Expected an array of inputs for options.profiles[" + std::to_string(p) + "]");
      Napi::Array inputs = list.Get(p).As<Napi::Array>();
      std::vector<trt::InputProfile> profile;
      for (uint32_t i = 0; i < inputs.Length(); ++i) {
        const std::string where = "options.profiles[" + std::to_string(p) + "][" + std::to_string(i) + "]";
        Napi::Object input = RequireObject(inputs.Get(i), where.c_str());
        trt::InputProfile bounds;
        bounds.input = RequireString(input.Get("input"), (where + ".input").c_str());
        bounds.min = RequireShape(input.Get("min"), where + ".min");
        bounds.opt = RequireShape(input.Get("opt"), where + ".opt");
        bounds.max = RequireShape(input.Get("max"), where + ".max");
        Napi::Value values = input.Get("values");
        if (!values.IsUndefined() && !values.IsNull()) {
          Napi::Object object = RequireObject(values, (where + ".values").c_str());
          bounds.values = trt::ShapeValues{RequireShape(object.Get("min"), where + ".values.min"),
                                           RequireShape(object.Get("opt"), where + ".values.opt"),
                                           RequireShape(object.Get("max"), where + ".values.max")};
        }
        profile.push_back(std::move(bounds));
      }
      build.profiles.push_back(std::move(profile));
    }
  } else if (!profiles.IsUndefined() && !profiles.IsNull()) {
    throw InvalidArgument("Expected an array for options.profiles");
  }
  return build;
}

const char* ProgressKindName(trt::BuildProgressEvent::Kind kind) {
  switch (kind) {
    case trt::BuildProgressEvent::Kind::kPhaseStart:
      return "phase-start";
    case trt::BuildProgressEvent::Kind::kStep:
      return "step";
    case trt::BuildProgressEvent::Kind::kPhaseFinish:
      break;
  }
  return "phase-finish";
}

// Runtimes with V8's sandbox (Electron) refuse external buffers with napi_no_external_buffers_allowed.
// The emulated test build can be told to refuse them the same way
// (TRT_NODE_EMULATED_REFUSE_EXTERNAL_BUFFERS=1), so that tests reach the copying fallback below.
napi_status CreateExternalBuffer(napi_env env, std::vector<char>* bytes, napi_value* result) {
#if TRT_NODE_EMULATED_DEVICE
  const char* refuse = std::getenv("TRT_NODE_EMULATED_REFUSE_EXTERNAL_BUFFERS");
  if (refuse != nullptr && std::string(refuse) == "1") return napi_no_external_buffers_allowed;
#endif
  return napi_create_external_buffer(
      env, bytes->size(), bytes->data(),
      [](napi_env, void*, void* hint) { delete static_cast<std::vector<char>*>(hint); }, bytes, result);
}

// The plan's bytes are handed to JavaScript without a copy where the runtime allows external
// buffers (the Buffer then owns the vector); where it does not, JS gets a copy and the vector goes now.
Napi::Buffer<char> MoveToBuffer(Napi::Env env, std::vector<char>&& bytes) {
  auto owned = std::make_unique<std::vector<char>>(std::move(bytes));
  napi_value external = nullptr;
  const napi_status status = CreateExternalBuffer(env, owned.get(), &external);
  if (status == napi_ok) {
    owned.release();  // the Buffer's finalizer deletes it
    return Napi::Buffer<char>(env, external);
  }
  if (status != napi_no_external_buffers_allowed) throw Napi::Error::New(env);
  return Napi::Buffer<char>::Copy(env, owned->data(), owned->size());
}

// What the build thread and the progress callback share.
struct BuildState {
  std::atomic<bool> cancelled{false};  // cancel() (an AbortSignal), or onProgress threw
  // Set when the environment (a worker being terminated) tears down: the build gives up at its next
  // step, and its own thread is joined (napi/thread_promise.h).
  std::shared_ptr<const std::atomic<bool>> teardown;
  // The progress function answered napi_closing (environment teardown): it let go of this thread
  // itself, so it must be neither called nor released again.
  std::atomic<bool> progressClosed{false};
  bool stopRequested() const noexcept { return cancelled.load() || (teardown && teardown->load()); }
  std::mutex mutex;
  std::string callbackFailure;  // what onProgress threw (JS thread), empty while it did not
};

// JS thread: one progress event. A callback that throws must not reach TensorRT or the event loop
// (an exception escaping a thread-safe-function callback ends the process): the build stops, and
// its promise says why.
void DeliverProgress(Napi::Env env, Napi::Function callback, BuildState& state, const trt::BuildProgressEvent& event) {
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!state.callbackFailure.empty()) return;  // no more events after a failure
  }
  Napi::Object object = Napi::Object::New(env);
  object.Set("kind", ProgressKindName(event.kind));
  object.Set("phase", event.phase);
  object.Set("parentPhase", event.parentPhase);
  object.Set("step", event.step);
  object.Set("steps", event.steps);
  std::string failure;
  try {
    callback.Call({object});
    return;
  } catch (const Napi::Error& error) {
    failure = error.Message();
  } catch (const std::exception& error) {
    failure = error.what();
  }
  std::lock_guard<std::mutex> lock(state.mutex);
  state.callbackFailure = failure.empty() ? "(no message)" : failure;
  state.cancelled = true;
}

Napi::Value BuildEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const std::string onnxPath = RequireString(info[0], "onnxPath");
    Napi::Object options = info[1].IsUndefined() ? Napi::Object::New(env) : RequireObject(info[1], "options");
    trt::BuildOptions build = ParseBuildOptions(options);
    trt::LibraryOptions library;
    library.libraryPath = OptionalString(options, "libraryPath", "options.libraryPath");
    library.extraDirs = OptionalStringArray(options, "extraDirs", "options.extraDirs");
    library.loadPlugins = OptionalPluginsFlag(options);

    auto state = std::make_shared<BuildState>();
    // Before the progress function is created: the own threads' cleanup hook must run after the
    // function's own (hooks run last registered first), see OwnThreads::Get.
    state->teardown = OwnThreads::Get(env).stopFlag();
    std::shared_ptr<Napi::ThreadSafeFunction> progress;
    if (info[2].IsFunction()) {
      progress = std::make_shared<Napi::ThreadSafeFunction>(
          Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "Engine.build.progress", 256, 1));
      progress->Unref(env);  // progress alone must not keep the process alive
    } else if (!info[2].IsUndefined()) {
      throw InvalidArgument("Expected a function for onProgress");
    }

    Napi::Promise promise = RunOnOwnThread<trt::BuildResult>(
        env, "Engine.build",
        [onnxPath, build, library, state, progress]() {
          std::function<void(const trt::BuildProgressEvent&)> onProgress;
          if (progress) {
            onProgress = [progress, state](const trt::BuildProgressEvent& event) {
              if (state->progressClosed.load() || state->stopRequested()) return;
              auto* copy = new trt::BuildProgressEvent(event);
              // Non-blocking: when JavaScript is slow to drain events, steps are dropped rather
              // than TensorRT's build thread waiting for the event loop.
              const napi_status status = progress->NonBlockingCall(
                  copy, [state](Napi::Env env, Napi::Function callback, trt::BuildProgressEvent* data) {
                    std::unique_ptr<trt::BuildProgressEvent> owned(data);
                    DeliverProgress(env, callback, *state, *owned);
                  });
              if (status != napi_ok) delete copy;
              if (status == napi_closing) state->progressClosed = true;
            };
          }
          struct ReleaseProgress {
            std::shared_ptr<Napi::ThreadSafeFunction> progress;
            std::shared_ptr<BuildState> state;
            ~ReleaseProgress() {
              if (progress && !state->progressClosed.load()) progress->Release();
            }
          } release{progress, state};
          auto tensorrt = trt::TensorRTLibrary::Get(library);
          auto stoppedByCallback = [&state]() -> std::optional<NativeError> {
            std::lock_guard<std::mutex> lock(state->mutex);
            if (state->callbackFailure.empty()) return std::nullopt;
            return NativeError("ERR_ABORTED", "The engine build was stopped because options.onProgress threw: " +
                                                  state->callbackFailure);
          };
          try {
            trt::BuildResult result =
                trt::BuildFromOnnx(*tensorrt, onnxPath, build, onProgress, [&state] { return state->stopRequested(); });
            if (auto stopped = stoppedByCallback()) throw *stopped;
            return result;
          } catch (const NativeError& error) {
            if (auto stopped = stoppedByCallback()) throw *stopped;
            throw;
          }
        },
        [](Napi::Env env, trt::BuildResult& result) -> Napi::Value {
          Napi::Object object = Napi::Object::New(env);
          object.Set("plan", MoveToBuffer(env, std::move(result.plan)));
          object.Set("timingCache", MoveToBuffer(env, std::move(result.timingCache)));
          Napi::Array warnings = Napi::Array::New(env, result.warnings.size());
          for (uint32_t i = 0; i < result.warnings.size(); ++i) warnings.Set(i, result.warnings[i]);
          object.Set("warnings", warnings);
          return object;
        });

    Napi::Object job = Napi::Object::New(env);
    job.Set("promise", promise);
    job.Set("cancel", Napi::Function::New(env, [state](const Napi::CallbackInfo& info) {
              state->cancelled.store(true);
              return info.Env().Undefined();
            }));
    return job;
  });
}

}  // namespace

void RegisterBuilder(Napi::Env env, Napi::Object exports) {
  exports.Set("buildEngine", Napi::Function::New(env, BuildEngine, "buildEngine"));
}

}  // namespace trt_node::napi
