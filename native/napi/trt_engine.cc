#include "napi/trt_engine.h"

#include <sys/stat.h>

#include <fstream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "napi/addon_data.h"
#include "napi/completion.h"
#include "napi/errors.h"
#include "napi/thread_promise.h"
#include "napi/trt_options.h"
#include "trt/library.h"

namespace trt_node::napi {
namespace {

Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array array = Napi::Array::New(env, shape.size());
  for (uint32_t i = 0; i < shape.size(); ++i) array.Set(i, static_cast<double>(shape[i]));
  return array;
}

Napi::Object MetadataToJs(Napi::Env env, const trt::EngineMetadata& metadata) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("name", metadata.name);
  object.Set("layerCount", metadata.layerCount);
  object.Set("deviceMemoryBytes", static_cast<double>(metadata.deviceMemoryBytes));
  object.Set("auxStreamCount", metadata.auxStreamCount);
  object.Set("hardwareCompatibility", metadata.hardwareCompatibility);
  Napi::Array tensors = Napi::Array::New(env, metadata.tensors.size());
  for (uint32_t i = 0; i < metadata.tensors.size(); ++i) {
    const auto& tensor = metadata.tensors[i];
    Napi::Object item = Napi::Object::New(env);
    item.Set("name", tensor.name);
    item.Set("mode", tensor.isInput ? "input" : "output");
    item.Set("dtype", tensor.dtype);
    item.Set("shape", ShapeToJs(env, tensor.shape));
    item.Set("format", tensor.format);
    item.Set("location", tensor.location);
    item.Set("isShapeTensor", tensor.isShapeTensor);
    tensors.Set(i, item);
  }
  object.Set("tensors", tensors);
  Napi::Array profiles = Napi::Array::New(env, metadata.profiles.size());
  for (uint32_t i = 0; i < metadata.profiles.size(); ++i) {
    Napi::Object profile = Napi::Object::New(env);
    profile.Set("index", metadata.profiles[i].index);
    Napi::Object inputs = Napi::Object::New(env);
    for (const auto& dims : metadata.profiles[i].inputs) {
      Napi::Object bounds = Napi::Object::New(env);
      bounds.Set("min", ShapeToJs(env, dims.min));
      bounds.Set("opt", ShapeToJs(env, dims.opt));
      bounds.Set("max", ShapeToJs(env, dims.max));
      inputs.Set(dims.input, bounds);
    }
    profile.Set("inputs", inputs);
    profiles.Set(i, profile);
  }
  object.Set("profiles", profiles);
  return object;
}

std::vector<char> ReadPlanFile(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0)
    throw NativeError("ERR_IO", "Cannot read the engine file " + path + ": it does not exist");
  if (S_ISDIR(info.st_mode)) throw NativeError("ERR_IO", "Cannot read the engine file " + path + ": it is a directory");
  // A FIFO or device would block the read or never end: engines are regular files.
  if (!S_ISREG(info.st_mode))
    throw NativeError("ERR_IO", "Cannot read the engine file " + path + ": it is not a regular file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw NativeError("ERR_IO", "Cannot open the engine file " + path);
  std::vector<char> bytes;
  try {
    bytes.resize(static_cast<size_t>(info.st_size));
  } catch (const std::bad_alloc&) {
    throw NativeError("ERR_OUT_OF_MEMORY", "Cannot read the engine file " + path + ": its " +
                                               std::to_string(info.st_size) + " bytes do not fit in memory");
  } catch (const std::length_error&) {
    throw NativeError("ERR_OUT_OF_MEMORY", "Cannot read the engine file " + path + ": its " +
                                               std::to_string(info.st_size) + " bytes do not fit in memory");
  }
  if (!bytes.empty() && !file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    throw NativeError("ERR_IO", "Cannot read the engine file " + path);
  }
  return bytes;
}

// loadEngine(planOrPath, { device, allowHostCode, libraryPath, extraDirs, plugins }) -> Promise<EngineWrap>
Napi::Value LoadEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object options = info[1].IsUndefined() ? Napi::Object::New(env) : RequireObject(info[1], "options");
    trt::DeserializeOptions deserialize;
    Napi::Value device = options.Get("device");
    if (!device.IsUndefined()) {
      if (!device.IsNumber()) throw InvalidArgument("Expected an integer for options.device");
      deserialize.device = device.As<Napi::Number>().Int32Value();
      if (deserialize.device < 0)
        throw InvalidArgument("Expected a non-negative integer for options.device", ErrorKind::kRange);
    }
    deserialize.allowHostCode = options.Get("allowHostCode").ToBoolean().Value();
    trt::LibraryOptions library;
    library.libraryPath = OptionalString(options, "libraryPath", "options.libraryPath");
    library.extraDirs = OptionalStringArray(options, "extraDirs", "options.extraDirs");
    library.loadPlugins = OptionalPluginsFlag(options);

    std::string path;
    // The plan is copied on this thread: a reference keeps the JS array alive, but not its memory,
    // which script can free mid-deserialization by transferring (detaching) the ArrayBuffer.
    auto plan = std::make_shared<std::vector<char>>();
    if (info[0].IsString()) {
      path = info[0].As<Napi::String>().Utf8Value();
      if (path.empty() || path.find('\0') != std::string::npos)
        throw InvalidArgument("Expected a non-empty path without NUL bytes for the engine", ErrorKind::kRange);
    } else if (info[0].IsTypedArray()) {
      const ViewedBytes bytes = BytesOf(info[0].As<Napi::TypedArray>());
      plan->assign(bytes.data, bytes.data + bytes.byteLength);
    } else {
      throw InvalidArgument("Expected a path or a Uint8Array for the engine");
    }

    return RunOnOwnThread<std::shared_ptr<trt::Engine>>(
        env, "Engine.load",
        [=]() {
          auto tensorrt = trt::TensorRTLibrary::Get(library);
          if (!path.empty()) {
            const std::vector<char> bytes = ReadPlanFile(path);
            return trt::Engine::Deserialize(tensorrt, bytes.data(), bytes.size(), deserialize);
          }
          return trt::Engine::Deserialize(tensorrt, plan->data(), plan->size(), deserialize);
        },
        [](Napi::Env env, std::shared_ptr<trt::Engine>& engine) -> Napi::Value {
          return EngineWrap::New(env, engine);
        });
  });
}

}  // namespace

void EngineWrap::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(
      env, "EngineWrap",
      {InstanceMethod<&EngineWrap::Metadata>("metadata"),
       InstanceMethod<&EngineWrap::LayerInformation>("layerInformation"),
       InstanceMethod<&EngineWrap::Dispose>("dispose"), InstanceAccessor<&EngineWrap::IsDisposed>("disposed")});
  AddonData::Get(env).engineWrapConstructor = Napi::Persistent(constructor);
  exports.Set("loadEngine", Napi::Function::New(env, LoadEngine, "loadEngine"));
}

Napi::Object EngineWrap::New(Napi::Env env, std::shared_ptr<trt::Engine> engine) {
  Napi::Object object = AddonData::Get(env).engineWrapConstructor.New({});
  EngineWrap* wrap = Unwrap(object);
  wrap->engine_ = std::move(engine);
  wrap->releaser_ = CompletionEnvironment::Get(env).releaser();
  return object;
}

EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {}

EngineWrap::~EngineWrap() { Release(); }

void EngineWrap::Release() {
  if (!engine_) return;
  // Runs right here when the environment is already torn down (no releaser any more).
  ReleaseOffThread(releaser_, [engine = std::move(engine_)] {});
}

std::shared_ptr<trt::Engine> EngineWrap::engine(Napi::Env env) const {
  if (!engine_) throw NativeError("ERR_DISPOSED", "The engine was disposed and can no longer be used");
  return engine_;
}

Napi::Value EngineWrap::Metadata(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return MetadataToJs(env, engine(env)->metadata()); });
}

Napi::Value EngineWrap::LayerInformation(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return Napi::String::New(env, engine(env)->layerInformationJson()); });
}

Napi::Value EngineWrap::Dispose(const Napi::CallbackInfo& info) {
  // Contexts hold their own reference: the engine itself goes when the last of them does.
  Release();
  return info.Env().Undefined();
}

Napi::Value EngineWrap::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !engine_); }

}  // namespace trt_node::napi
