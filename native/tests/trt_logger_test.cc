// Logger and ErrorRecorder need TensorRT's headers (not its libraries): compiled only in builds
// that found them.
#if TRT_NODE_WITH_TENSORRT
#include <gtest/gtest.h>

#include <thread>

#include "trt/error_recorder.h"
#include "trt/logger.h"

namespace trt_node::trt {
namespace {

TEST(Logger, CaptureCollectsThisThreadsWarningsAndErrors) {
  Logger& logger = Logger::Instance();
  Logger::Capture capture;
  logger.log(Severity::kINFO, "chatter");
  logger.log(Severity::kWARNING, "a warning");
  logger.log(Severity::kERROR, "an error");
  std::thread([&logger] { logger.log(Severity::kERROR, "from another thread"); }).join();
  EXPECT_EQ(capture.messages(), (std::vector<std::string>{"a warning", "an error"}));
}

TEST(Logger, NestedCapturesBothSeeMessages) {
  Logger& logger = Logger::Instance();
  Logger::Capture outer;
  {
    Logger::Capture inner(Severity::kVERBOSE);
    logger.log(Severity::kINFO, "info");
    EXPECT_EQ(inner.messages(), (std::vector<std::string>{"info"}));
  }
  logger.log(Severity::kERROR, "after");
  EXPECT_EQ(outer.messages(), (std::vector<std::string>{"after"}));
}

TEST(Logger, SinkGetsMessagesAtOrAboveTheThreshold) {
  Logger& logger = Logger::Instance();
  std::vector<std::string> seen;
  logger.setSinkThreshold(Severity::kWARNING);
  logger.setSink([&seen](Severity, const std::string& text) { seen.push_back(text); });
  logger.log(Severity::kVERBOSE, "hidden");
  logger.log(Severity::kWARNING, "shown");
  logger.setSink(nullptr);
  logger.log(Severity::kERROR, "after removal");
  EXPECT_EQ(seen, (std::vector<std::string>{"shown"}));
  EXPECT_EQ(logger.recentErrors().back(), "after removal");
}

TEST(ErrorRecorder, FailureCarriesEveryRecordedMessageAndTheLastCode) {
  ErrorRecorder recorder;
  recorder.reportError(nvinfer1::ErrorCode::kINVALID_STATE, "version tag does not match");
  recorder.reportError(nvinfer1::ErrorCode::kINTERNAL_ERROR, "Engine deserialization failed.");
  EXPECT_EQ(recorder.getNbErrors(), 2);
  const NativeError error = TensorRTFailure("ERR_TENSORRT", "TensorRT could not deserialize the engine", recorder,
                                            {"version tag does not match", "logged only"});
  EXPECT_EQ(error.code(), "ERR_TENSORRT");
  EXPECT_STREQ(error.what(), "TensorRT could not deserialize the engine: logged only");
  EXPECT_EQ(error.tensorrtErrorCode(), static_cast<int>(nvinfer1::ErrorCode::kINTERNAL_ERROR));
  EXPECT_EQ(error.tensorrtMessages(),
            (std::vector<std::string>{"version tag does not match", "Engine deserialization failed.", "logged only"}));
  EXPECT_EQ(recorder.getNbErrors(), 0);
}

TEST(ErrorRecorder, OverflowIsReportedNotFatal) {
  ErrorRecorder recorder;
  for (int i = 0; i < 100; ++i) recorder.reportError(nvinfer1::ErrorCode::kINVALID_ARGUMENT, "x");
  EXPECT_TRUE(recorder.hasOverflowed());
  EXPECT_EQ(recorder.getNbErrors(), 64);
  recorder.clear();
  EXPECT_FALSE(recorder.hasOverflowed());
}

// Issue 14, defect 8: getErrorDesc() handed out c_str() of a vector element; the next reports grew
// the vector and moved the strings (short ones keep their characters inside the moved object), so
// the pointer TensorRT's contract promises until clear() dangled.
TEST(ErrorRecorder, ADescriptionStaysValidWhileOtherErrorsAreReported) {
  ErrorRecorder recorder;
  recorder.reportError(nvinfer1::ErrorCode::kINVALID_ARGUMENT, "short text");
  const char* first = recorder.getErrorDesc(0);
  for (int i = 0; i < 40; ++i) recorder.reportError(nvinfer1::ErrorCode::kINTERNAL_ERROR, "more");
  EXPECT_EQ(recorder.getErrorDesc(0), first);
  EXPECT_STREQ(first, "short text");
}

// Issue 14, defect 8: what TensorRT logs from threads of its own (the builder's workers) reaches a
// capture that asks for it, and not one that does not.
TEST(Logger, CapturesForUnattributedThreadsSeeTensorRTsOwnThreads) {
  Logger& logger = Logger::Instance();
  Logger::Capture plain;
  Logger::Capture build(Severity::kWARNING, true);
  std::thread([&logger] { logger.log(Severity::kERROR, "from a TensorRT worker"); }).join();
  std::thread([&logger] {
    Logger::Capture elsewhere;  // a thread with a capture of its own keeps its messages
    logger.log(Severity::kERROR, "from another operation");
  }).join();
  EXPECT_EQ(build.messages(), (std::vector<std::string>{"from a TensorRT worker"}));
  EXPECT_TRUE(plain.messages().empty());
}

}  // namespace
}  // namespace trt_node::trt
#endif
