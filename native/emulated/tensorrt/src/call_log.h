// The fake TensorRT's record of every call made into it, so that tests assert the protocol our
// native/trt code follows (order of calls, bindings before enqueueV3, destruction order, reference
// counts), plus the protocol violations the fake detects itself.
//
// One line per call: "<seq> <object> <call> <detail>", e.g. "17 context#2 setInputShape x [3,4]".
// Violations: "<seq> VIOLATION <object> <message>". Objects are named kind#id (runtime#1,
// engine#1, context#3, builder#1, ...); ids count per kind from 1 for the life of the process.
//
// Tests read it through the exported C functions below (GoogleTest, with dlsym on the loaded
// library), or from the file named by TRT_NODE_FAKE_TENSORRT_LOG (JavaScript tests), which receives
// every line as it is recorded (appended; read once when the first line is recorded).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#define TRT_NODE_FAKE_EXPORT __attribute__((visibility("default")))

namespace trt_node::fake_trt {

TRT_NODE_FAKE_EXPORT std::string NewObjectName(const char* kind);
TRT_NODE_FAKE_EXPORT void Record(const std::string& object, const std::string& call, const std::string& detail = {});
TRT_NODE_FAKE_EXPORT void Violation(const std::string& object, const std::string& message);
// Whether the calling thread is the process's main thread (Node's JS thread of the main isolate):
// recorded for releases, which must not run there.
TRT_NODE_FAKE_EXPORT bool OnMainThread();
// Simulated GPU time per enqueued inference, from TRT_NODE_FAKE_TENSORRT_KERNEL_US (read once).
TRT_NODE_FAKE_EXPORT int64_t DefaultKernelMicroseconds();

// Live objects of one kind ("runtime", "engine", "context", ...), for balance checks.
TRT_NODE_FAKE_EXPORT void CountLive(const char* kind, int delta);

}  // namespace trt_node::fake_trt

extern "C" {
// Copies the log (all lines, '\n'-terminated) into `buffer` when it fits and returns its length.
TRT_NODE_FAKE_EXPORT size_t trt_node_fake_tensorrt_log(char* buffer, size_t capacity);
TRT_NODE_FAKE_EXPORT void trt_node_fake_tensorrt_clear_log(void);
TRT_NODE_FAKE_EXPORT int64_t trt_node_fake_tensorrt_violations(void);
TRT_NODE_FAKE_EXPORT int64_t trt_node_fake_tensorrt_live(const char* kind);
}
