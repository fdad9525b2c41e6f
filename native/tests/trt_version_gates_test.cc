// The TensorRT version gates of native/trt/version_gates.h at their boundaries. What a gate claims
// (that a release's headers declare the name) is a fact about NVIDIA's headers: `npm run
// check:tensorrt` compiles the code that uses it against real headers on both sides where we have
// them; this test pins the boundary itself, so that a gate moved by mistake fails here.
#include <gtest/gtest.h>

#include "trt/version_gates.h"

namespace {

// Issue 14, defect 8: the gate was at 10.16, so 10.9 to 10.15 refused "same-compute-capability".
TEST(TensorRTVersionGates, SameComputeCapabilityFromTensorRT10Point9) {
  EXPECT_FALSE(TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(10, 3));
  EXPECT_FALSE(TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(10, 8));
  EXPECT_TRUE(TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(10, 9));
  EXPECT_TRUE(TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(10, 15));
  EXPECT_TRUE(TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(10, 16));
  EXPECT_TRUE(TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(11, 0));
  EXPECT_TRUE(TRT_NODE_TENSORRT_HAS_SAME_COMPUTE_CAPABILITY(11, 1));
}

}  // namespace
