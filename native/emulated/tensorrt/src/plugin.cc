// libnvinfer_plugin of the fake TensorRT: initLibNvInferPlugins registers the "standard plugins"
// (any "*_TRT" operator, computed as an identity: the fake has no NMS), after which the fake parser
// imports such nodes and the fake runtime deserializes plans that use them.
#include <string>

#include "objects.h"

extern "C" bool initLibNvInferPlugins(void* logger, char const* libNamespace) {
  trt_node::fake_trt::SetPluginsInitialized(libNamespace != nullptr ? libNamespace : "");
  if (logger != nullptr) {
    static_cast<nvinfer1::ILogger*>(logger)->log(nvinfer1::ILogger::Severity::kVERBOSE,
                                                 "fake TensorRT: standard plugins registered");
  }
  return true;
}
