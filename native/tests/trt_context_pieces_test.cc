// Pieces of the execution context that need TensorRT's headers but no library and no GPU: the
// layer profiler's summary (what trtexec --dumpProfile prints), the mapping of CUDA event offsets
// to host times, and the element sizes that decide what a context can bind.
#if TRT_NODE_WITH_TENSORRT
#include <gtest/gtest.h>

#include <thread>

#include "trt/io_tensors.h"
#include "trt/layer_profiler.h"
#include "trt/logger.h"
#include "trt/run_timing.h"

namespace trt_node::trt {
namespace {

TEST(LayerProfiler, SummarizesPerIterationTimesLikeDumpProfile) {
  LayerProfiler profiler;
  nvinfer1::IProfiler& asTensorRTSeesIt = profiler;
  const float convTimes[] = {1.0f, 3.0f, 2.0f};
  for (float conv : convTimes) {
    asTensorRTSeesIt.reportLayerTime("conv1", conv);
    asTensorRTSeesIt.reportLayerTime("relu1", 0.5f);
    profiler.EndIteration();
  }
  const std::vector<LayerTime> summary = profiler.Summary();
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0].name, "conv1");
  EXPECT_DOUBLE_EQ(summary[0].totalMs, 6.0);
  EXPECT_DOUBLE_EQ(summary[0].averageMs, 2.0);
  EXPECT_DOUBLE_EQ(summary[0].medianMs, 2.0);
  EXPECT_EQ(summary[0].calls, 3u);
  EXPECT_DOUBLE_EQ(summary[1].averageMs, 0.5);
  EXPECT_DOUBLE_EQ(summary[0].percentage + summary[1].percentage, 100.0);
  EXPECT_DOUBLE_EQ(summary[0].percentage, 80.0);
  EXPECT_EQ(profiler.iterations(), 3u);
}

TEST(LayerProfiler, LayersReportedTwicePerIterationAddUpAndLateLayersCountZeroBefore) {
  LayerProfiler profiler;
  profiler.reportLayerTime("Reformatting CopyNode", 0.25f);
  profiler.reportLayerTime("Reformatting CopyNode", 0.25f);
  profiler.EndIteration();
  profiler.reportLayerTime("Reformatting CopyNode", 0.5f);
  profiler.reportLayerTime("late", 4.0f);
  profiler.EndIteration();
  const std::vector<LayerTime> summary = profiler.Summary();
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_DOUBLE_EQ(summary[0].averageMs, 0.5);
  EXPECT_EQ(summary[0].calls, 3u);
  EXPECT_DOUBLE_EQ(summary[1].averageMs, 2.0);  // 0 in the first iteration, 4 in the second
  EXPECT_DOUBLE_EQ(summary[1].medianMs, 2.0);
}

TEST(RunTiming, MapsEventOffsetsThroughTheAnchorOntoTheHostClock) {
  EventOffsets offsets;
  offsets.originToStart = 10.0;
  offsets.startToH2dEnd = 0.1;
  offsets.startToComputeEnd = 1.1;
  offsets.startToEnd = 1.15;
  const PhaseTimes times = ToPhaseTimes(1000.0, offsets, 1009.98, 1010.02);
  EXPECT_DOUBLE_EQ(times.h2dStartMs, 1010.0);
  EXPECT_DOUBLE_EQ(times.h2dEndMs, 1010.1);
  EXPECT_DOUBLE_EQ(times.computeStartMs, times.h2dEndMs);
  EXPECT_DOUBLE_EQ(times.computeEndMs, 1011.1);
  EXPECT_DOUBLE_EQ(times.d2hStartMs, times.computeEndMs);
  EXPECT_DOUBLE_EQ(times.d2hEndMs, 1011.15);
  EXPECT_DOUBLE_EQ(times.enqueueStartMs, 1009.98);
  EXPECT_DOUBLE_EQ(times.enqueueEndMs, 1010.02);
}

TEST(RunTiming, ThePhasesNeverRunBackwardsOrBeforeTheHostEnqueuedThem) {
  EventOffsets offsets;
  offsets.originToStart = 5.0;      // maps to 1005, before the host started enqueueing (1006)
  offsets.startToH2dEnd = -0.0001;  // float rounding of an empty phase
  offsets.startToComputeEnd = 2.0;
  offsets.startToEnd = 1.9999;  // rounding again: must not end before compute
  const PhaseTimes times = ToPhaseTimes(1000.0, offsets, 1006.0, 1005.0);
  EXPECT_DOUBLE_EQ(times.h2dStartMs, 1006.0);
  EXPECT_DOUBLE_EQ(times.h2dEndMs, 1006.0);
  EXPECT_GE(times.d2hEndMs, times.computeEndMs);
  EXPECT_DOUBLE_EQ(times.enqueueEndMs, 1006.0);
}

TEST(IoTensors, ElementSizesByTensorRTDataType) {
  EXPECT_EQ(ElementSize(0), 4u);   // kFLOAT
  EXPECT_EQ(ElementSize(1), 2u);   // kHALF
  EXPECT_EQ(ElementSize(2), 1u);   // kINT8
  EXPECT_EQ(ElementSize(3), 4u);   // kINT32
  EXPECT_EQ(ElementSize(4), 1u);   // kBOOL
  EXPECT_EQ(ElementSize(7), 2u);   // kBF16
  EXPECT_EQ(ElementSize(8), 8u);   // kINT64
  EXPECT_EQ(ElementSize(9), 0u);   // kINT4: not whole bytes
  EXPECT_EQ(ElementSize(10), 0u);  // kFP4
  IoTensor packed;
  packed.name = "packed";
  packed.dtype = "int4";
  EXPECT_EQ(UnbindableReason(packed), "output \"packed\" has dtype int4, which tensorrt-node cannot bind");
  IoTensor vectorized;
  vectorized.name = "images";
  vectorized.isInput = true;
  vectorized.dtype = "float16";
  vectorized.elementSize = 2;
  vectorized.formatValue = static_cast<int32_t>(nvinfer1::TensorFormat::kHWC8);
  vectorized.format = "Channel major FP16 format where channel % 8 == 0";
  EXPECT_EQ(UnbindableReason(vectorized),
            "input \"images\" uses the non-linear I/O format Channel major FP16 format where channel % 8 == 0; "
            "rebuild the engine with linear I/O formats (the default)");
  // kHWC has no vectorized dimension (-1) and is still not row-major NCHW.
  IoTensor channelsLast = vectorized;
  channelsLast.formatValue = static_cast<int32_t>(nvinfer1::TensorFormat::kHWC);
  channelsLast.format = "Channel last FP16 format (kHWC)";
  EXPECT_NE(UnbindableReason(channelsLast), "");
  IoTensor linear = channelsLast;
  linear.formatValue = static_cast<int32_t>(nvinfer1::TensorFormat::kLINEAR);
  EXPECT_EQ(UnbindableReason(linear), "");
}

TEST(Logger, ScopedTargetTagsThisThreadsMessagesOnly) {
  EXPECT_EQ(Logger::CurrentTarget(), 0u);
  {
    Logger::ScopedTarget outer(7);
    EXPECT_EQ(Logger::CurrentTarget(), 7u);
    {
      Logger::ScopedTarget inner(9);
      EXPECT_EQ(Logger::CurrentTarget(), 9u);
      uint64_t seenElsewhere = 1;
      std::thread([&seenElsewhere] { seenElsewhere = Logger::CurrentTarget(); }).join();
      EXPECT_EQ(seenElsewhere, 0u);
    }
    EXPECT_EQ(Logger::CurrentTarget(), 7u);
  }
  EXPECT_EQ(Logger::CurrentTarget(), 0u);
}

}  // namespace
}  // namespace trt_node::trt
#endif
