// The one include of TensorRT's headers. Only files in native/trt/ (and native/napi/trt_*.cc)
// include this; they are compiled only when TensorRT headers were found (TRT_NODE_WITH_TENSORRT).
//
// Never call TensorRT's inline factory helpers (createInferRuntime, createInferBuilder,
// nvonnxparser::createParser, ...): they reference symbols of libraries we do not link. Everything
// goes through the entry points library.h resolves with dlsym.
//
// Emulated builds (TRT_NODE_EMULATED_TENSORRT, the CI tier that runs this code on a CPU against the
// fake TensorRT of native/emulated/tensorrt) include the project's own declaration of the subset of
// TensorRT's API used here instead: CI machines cannot obtain TensorRT's headers, which must never
// be committed. That declaration proves nothing about the real headers; `npm run check:tensorrt`
// against v10.3.0, v10.16 and v11.1 does.
#pragma once

#if TRT_NODE_EMULATED_TENSORRT
#include "emulated_onnx_parser.h"
#include "emulated_tensorrt.h"
#else
#include <NvInfer.h>
#include <NvOnnxParser.h>
#endif

#include <memory>

static_assert(NV_TENSORRT_MAJOR == 10 || NV_TENSORRT_MAJOR == 11,
              "tensorrt-node supports TensorRT 10.x and 11.x headers");

namespace trt_node::trt {

// The TensorRT version the addon was compiled against, packed as TensorRT packs it.
inline constexpr int kHeadersMajor = NV_TENSORRT_MAJOR;
inline constexpr int kHeadersVersion = NV_TENSORRT_VERSION;

// TensorRT objects are destroyed with plain `delete` since TensorRT 10.
template <typename T>
struct Deleter {
  void operator()(T* object) const noexcept { delete object; }
};
template <typename T>
using Owned = std::unique_ptr<T, Deleter<T>>;

}  // namespace trt_node::trt
