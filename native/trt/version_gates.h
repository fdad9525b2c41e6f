// Which TensorRT release first declares what our code uses, as predicates over (major, minor): the
// code tests them with NV_TENSORRT_MAJOR / NV_TENSORRT_MINOR in #if, and
// native/tests/trt_version_gates_test.cc checks their boundaries without TensorRT's headers.
// No TensorRT include here on purpose.
#pragma once

// HardwareCompatibilityLevel::kSAME_COMPUTE_CAPABILITY: NVIDIA/TensorRT's include/NvInfer.h declares
// it from release v10.9.0 on (v10.8.0's does not).
#define TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(major, minor) ((major) > 10 || ((major) == 10 && (minor) >= 9))
