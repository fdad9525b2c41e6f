// Builds a serialized TensorRT engine from ONNX: parse with TensorRT's ONNX parser, create the
// network strongly typed (explicitly on 10.x; 11.x networks always are), configure, build on the
// calling thread (the N-API layer gives it a thread of its own) with a progress monitor that
// reports phases and steps and stops the build when cancelled.
//
// Precision is not a builder flag here: TensorRT 11 removed them, so FP16/INT8 come from the ONNX
// graph (float16 tensors, Q/DQ nodes) that lib/onnx produces; the same graph builds on 10 and 11.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "trt/library.h"

namespace trt_node::trt {

struct ShapeValues {
  std::vector<int64_t> min, opt, max;
};

struct InputProfile {
  std::string input;
  std::vector<int64_t> min, opt, max;
  // For a shape-tensor input (its values decide other tensors' shapes, e.g. Reshape's target): the
  // bounds of those values, which TensorRT needs in every profile.
  std::optional<ShapeValues> values;
};

struct BuildOptions {
  int device = 0;
  // Each optimization profile lists the bounds of every dynamic input.
  std::vector<std::vector<InputProfile>> profiles;
  std::optional<uint64_t> workspaceBytes;
  std::optional<int> optimizationLevel;        // 0..5, TensorRT's default is 3
  std::vector<char> timingCache;               // a previous serialized timing cache, or empty
  std::string hardwareCompatibility = "none";  // "none" | "ampere+" | "same-compute-capability"
  bool versionCompatible = false;
  bool excludeLeanRuntime = false;
  std::optional<int> maxAuxStreams;
};

struct BuildProgressEvent {
  enum class Kind { kPhaseStart, kStep, kPhaseFinish } kind;
  std::string phase;
  std::string parentPhase;
  int32_t step = 0;
  int32_t steps = 0;
};

struct BuildResult {
  std::vector<char> plan;
  std::vector<char> timingCache;  // the updated timing cache, to be kept for the next build
  std::vector<std::string> warnings;
};

// Throws NativeError: ERR_ONNX (the parser rejected the model; every parser error with node index,
// name, operator and description), ERR_BUILD (TensorRT could not build it; every recorded message,
// including those TensorRT logged from its own threads), ERR_ABORTED (cancelled),
// ERR_INVALID_ARGUMENT (options TensorRT refused, a shape-tensor input without values).
// `stopRequested` (any thread, often TensorRT's own) says when to give up: asked at every progress
// step and between the phases; the build then ends with ERR_ABORTED.
BuildResult BuildFromOnnx(TensorRTLibrary& library, const std::string& onnxPath, const BuildOptions& options,
                          const std::function<void(const BuildProgressEvent&)>& onProgress,
                          const std::function<bool()>& stopRequested);

}  // namespace trt_node::trt
