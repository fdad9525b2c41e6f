#pragma once

#include <napi.h>

namespace trt_node::napi {

// setTensorRTLogSink(callback | null, severity), setTensorRTLogSeverity(severity), and the test hook
// tensorrtLogForTest(severity, message, target).
void RegisterTensorRTLogger(Napi::Env env, Napi::Object exports);

}  // namespace trt_node::napi
