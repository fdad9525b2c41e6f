// libnvinfer's C entry points, as our loader resolves them with dlsym (see ../shared/TENSORRT.md).
// The fake reports the version its declaration imitates and refuses headers of another major, as
// TensorRT does.
#include <string>

#include "objects.h"

namespace {

bool HeadersMatch(int32_t version, const char* what, void* logger) {
  if (version / 10000 == NV_TENSORRT_MAJOR) return true;
  const std::string message = std::string("fake TensorRT: ") + what +
                              ": the application was compiled against TensorRT " + std::to_string(version) +
                              " headers; this library is " + trt_node::fake_trt::LibraryVersionString();
  trt_node::fake_trt::Record("library", what, "refused version=" + std::to_string(version));
  if (logger != nullptr)
    static_cast<nvinfer1::ILogger*>(logger)->log(nvinfer1::ILogger::Severity::kERROR, message.c_str());
  return false;
}

}  // namespace

extern "C" int32_t getInferLibVersion() noexcept { return static_cast<int32_t>(NV_TENSORRT_VERSION); }
extern "C" int32_t getInferLibMajorVersion() noexcept { return NV_TENSORRT_MAJOR; }
extern "C" int32_t getInferLibMinorVersion() noexcept { return NV_TENSORRT_MINOR; }
extern "C" int32_t getInferLibPatchVersion() noexcept { return NV_TENSORRT_PATCH; }
extern "C" int32_t getInferLibBuildVersion() noexcept { return NV_TENSORRT_BUILD; }

extern "C" void* createInferRuntime_INTERNAL(void* logger, int32_t version) noexcept {
  trt_node::fake_trt::Record("library", "createInferRuntime_INTERNAL", "version=" + std::to_string(version));
  if (!HeadersMatch(version, "createInferRuntime_INTERNAL", logger)) return nullptr;
  try {
    return trt_node::fake_trt::CreateRuntime(static_cast<nvinfer1::ILogger*>(logger));
  } catch (...) {
    return nullptr;
  }
}

extern "C" void* createInferBuilder_INTERNAL(void* logger, int32_t version) noexcept {
  trt_node::fake_trt::Record("library", "createInferBuilder_INTERNAL", "version=" + std::to_string(version));
  if (!HeadersMatch(version, "createInferBuilder_INTERNAL", logger)) return nullptr;
  try {
    return trt_node::fake_trt::CreateBuilder(static_cast<nvinfer1::ILogger*>(logger));
  } catch (...) {
    return nullptr;
  }
}
