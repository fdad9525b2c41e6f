// A minimal ONNX reader for the fake ONNX parser: decodes the protobuf fields of ModelProto that
// tiny test models use (graph inputs, outputs, initializers, nodes with their Cast "to" attribute,
// metadata_props) and turns them into a fake Network. Supported operators: Add, Sub, Mul, Div,
// MatMul (by a 2-D tensor), Relu, Cast, Identity, NonZero, Reshape (by a constant or a shape-tensor
// input), and "*_TRT" standard plugins once initLibNvInferPlugins ran.
//
// Fake-only knobs come from the model's metadata_props, keys "fake-tensorrt:<knob>" (TensorRT has
// none of these; they make the fake behave like awkward real engines):
//   kernel-us <n>        simulated GPU time per inference
//   fail-captures <n>    the first n stream captures of each context are refused
//   host-code 1          the plan embeds host code (refused unless setEngineHostCodeAllowed(true))
//   fail-build <text>    the build fails, logging <text> from a builder thread of its own
//   load-ms <n>          deserializing the plan takes n ms
//   build-ms <n>         each build step takes n ms
//   format:<tensor> <f>  I/O format of <tensor>: "kHWC" (every profile) or "<profile>:kHWC"
#pragma once

#include <stdexcept>
#include <string>

#include "network.h"

namespace trt_node::fake_trt {

struct OnnxError : std::runtime_error {
  OnnxError(int node, std::string nodeName, std::string op, const std::string& message, int code)
      : std::runtime_error(message), node(node), nodeName(std::move(nodeName)), op(std::move(op)), code(code) {}
  int node;
  std::string nodeName;
  std::string op;
  int code;  // nvonnxparser::ErrorCode
};

// Throws OnnxError.
Network ReadOnnxModel(const std::string& bytes, bool pluginsAvailable);

}  // namespace trt_node::fake_trt
