#include "napi/capabilities.h"

#include <string>
#include <vector>

#include "build_config.h"
#include "napi/errors.h"
#include "napi/promise_worker.h"
#include "trt/loader/library_search.h"

namespace trt_node::napi {
namespace {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("packageVersion", TRT_NODE_PACKAGE_VERSION);
  result.Set("napiVersion", NAPI_VERSION);
  result.Set("compiler", TRT_NODE_CXX_COMPILER);
  result.Set("buildType", TRT_NODE_BUILD_TYPE);
  result.Set("sanitizers", std::string(TRT_NODE_SANITIZERS_ENABLED_STR) == "ON");

  Napi::Object cuda = Napi::Object::New(env);
#if TRT_NODE_WITH_CUDA
  cuda.Set("compiled", true);
  cuda.Set("toolkitVersion", TRT_NODE_CUDA_TOOLKIT_VERSION);
  cuda.Set("architectures", TRT_NODE_CUDA_ARCHITECTURES);
  cuda.Set("missingReason", env.Null());
#if TRT_NODE_EMULATED_DEVICE
  // A test build on the emulated device (native/emulated/): no GPU is ever used.
  cuda.Set("emulated", true);
#else
  cuda.Set("emulated", false);
#endif
#else
  cuda.Set("compiled", false);
  cuda.Set("toolkitVersion", env.Null());
  cuda.Set("architectures", env.Null());
  cuda.Set("missingReason", TRT_NODE_CUDA_MISSING_REASON);
  cuda.Set("emulated", false);
#endif
  result.Set("cuda", cuda);

  Napi::Object tensorrt = Napi::Object::New(env);
#if TRT_NODE_WITH_TENSORRT
  tensorrt.Set("compiled", true);
  tensorrt.Set("headersVersion", TRT_NODE_TENSORRT_HEADERS_VERSION);
  tensorrt.Set("headersMajor", TRT_NODE_TENSORRT_HEADERS_MAJOR);
  tensorrt.Set("missingReason", env.Null());
#if TRT_NODE_EMULATED_TENSORRT
  // Built against the fake TensorRT of the emulated device tier (tests only): never a real TensorRT.
  tensorrt.Set("emulated", true);
#else
  tensorrt.Set("emulated", false);
#endif
#else
  tensorrt.Set("compiled", false);
  tensorrt.Set("headersVersion", env.Null());
  tensorrt.Set("headersMajor", env.Null());
  tensorrt.Set("missingReason", TRT_NODE_TENSORRT_MISSING_REASON);
#endif
  result.Set("tensorrt", tensorrt);
  return result;
}

struct ProbeResult {
  trt::LoadOutcome outcome;
  std::vector<std::string> dynamicLinkerFolders;
  int expectedMajor = 0;
};

const char* StatusName(trt::AttemptStatus status) {
  switch (status) {
    case trt::AttemptStatus::kMissing:
      return "missing";
    case trt::AttemptStatus::kOpenFailed:
      return "open-failed";
    case trt::AttemptStatus::kWrongMajor:
      return "wrong-major";
    case trt::AttemptStatus::kMissingSymbol:
      return "missing-symbol";
    case trt::AttemptStatus::kLoaded:
      break;
  }
  return "loaded";
}

Napi::Object AttemptToJs(Napi::Env env, const trt::Attempt& attempt) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("status", StatusName(attempt.status));
  object.Set("path", attempt.path);
  object.Set("source", attempt.source);
  object.Set("outcome", attempt.outcome);
  return object;
}

// tensorrtProbe({ libraryPath?, extraDirs?, library? }) -> Promise<probe>. Never rejects because
// TensorRT is missing: that is an answer, reported in the result.
Napi::Value TensorRTProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    trt::LibraryRequest request;
    if (!info[0].IsUndefined()) {
      Napi::Object options = RequireObject(info[0], "options");
      request.libraryPath = OptionalString(options, "libraryPath", "options.libraryPath");
      const std::string library = OptionalString(options, "library", "options.library");
      if (!library.empty()) request.baseName = library;
      request.extraDirs = OptionalStringArray(options, "extraDirs", "options.extraDirs");
    }
    request.expectedMajor = TRT_NODE_TENSORRT_HEADERS_MAJOR;
    if (request.baseName == "libnvinfer") {
      request.requiredSymbols = {"getInferLibVersion", "createInferRuntime_INTERNAL"};
    } else if (request.baseName == "libnvinfer_plugin") {
      // TensorRT's standard plugins (what loadEngine/buildEngine initialize unless plugins: false).
      request.requiredSymbols = {"initLibNvInferPlugins"};
      request.versionSymbol.clear();
    } else {
      request.requiredSymbols.clear();
      request.versionSymbol.clear();
    }
    const trt::SearchEnvironment searchEnv = trt::SearchEnvironment::FromProcess();

    return RunOnPool<ProbeResult>(
        env, "TensorRT.probe",
        [request, searchEnv]() {
          ProbeResult result;
          result.outcome = trt::TryLoad(request, searchEnv);
          result.dynamicLinkerFolders = trt::DynamicLinkerFolders(searchEnv);
          result.expectedMajor = request.expectedMajor;
          return result;
        },
        [](Napi::Env env, ProbeResult& result) -> Napi::Value {
          Napi::Object object = Napi::Object::New(env);
          Napi::Array attempts = Napi::Array::New(env, result.outcome.attempts.size());
          for (uint32_t i = 0; i < result.outcome.attempts.size(); ++i) {
            attempts.Set(i, AttemptToJs(env, result.outcome.attempts[i]));
          }
          object.Set("attempts", attempts);
          Napi::Array folders = Napi::Array::New(env, result.dynamicLinkerFolders.size());
          for (uint32_t i = 0; i < result.dynamicLinkerFolders.size(); ++i)
            folders.Set(i, result.dynamicLinkerFolders[i]);
          object.Set("dynamicLinkerFolders", folders);
          object.Set("expectedMajor",
                     result.expectedMajor == 0 ? env.Null() : Napi::Number::New(env, result.expectedMajor));
          if (result.outcome.loaded) {
            const auto& loaded = *result.outcome.loaded;
            Napi::Object found = Napi::Object::New(env);
            found.Set("path", loaded.candidate.path);
            found.Set("source", loaded.candidate.source);
            found.Set("version", loaded.version.toString());
            found.Set("major", loaded.version.major);
            object.Set("loaded", found);
          } else {
            object.Set("loaded", env.Null());
          }
          return object;
        });
  });
}

}  // namespace

void RegisterCapabilities(Napi::Env env, Napi::Object exports) {
  exports.Set("addonVersion", Napi::String::New(env, TRT_NODE_PACKAGE_VERSION));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("tensorrtProbe", Napi::Function::New(env, TensorRTProbe, "tensorrtProbe"));
}

}  // namespace trt_node::napi
