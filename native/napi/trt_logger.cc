// The JavaScript end of TensorRT's logger (trt/logger.h): setTensorRTLogSink(callback | null,
// threshold) in each environment that wants TensorRT's messages. lib/tensorrt-log.ts routes them to
// the user's `logger` callbacks (per execution context or process-wide) and to NODE_DEBUG output.
//
// TensorRT logs from its own threads and must never wait for the event loop: messages travel
// through a thread-safe function with a bounded queue and NonBlockingCall. When JavaScript falls
// behind, messages are dropped and counted, and the next delivered message says how many went.
#include "napi/trt_logger.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "napi/errors.h"
#include "trt/logger.h"

namespace trt_node::napi {
namespace {

struct LogMessage {
  trt::Severity severity;
  std::string text;
  uint64_t target;
  uint64_t droppedBefore;
};

// One per environment that installed a sink.
struct LogBridge {
  Napi::ThreadSafeFunction deliver;
  std::atomic<int> threshold{static_cast<int>(trt::Severity::kWARNING)};
  std::atomic<uint64_t> dropped{0};
  napi_env env = nullptr;
};

constexpr size_t kQueueLimit = 1024;

// Process-wide on purpose: the TensorRT logger is. Never destroyed (TensorRT may log at exit).
std::mutex& BridgesMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}
std::vector<LogBridge*>& Bridges() {
  static auto* bridges = new std::vector<LogBridge*>();
  return *bridges;
}

// Caller holds BridgesMutex(). The logger's own filter lets through the most verbose severity any
// environment asked for; each bridge filters again.
void UpdateThresholdLocked() {
  int threshold = static_cast<int>(trt::Severity::kINTERNAL_ERROR);
  for (const LogBridge* bridge : Bridges()) threshold = std::max(threshold, bridge->threshold.load());
  trt::Logger::Instance().setSinkThreshold(static_cast<trt::Severity>(threshold));
}

void CallJs(Napi::Env env, Napi::Function callback, LogMessage* message) {
  std::unique_ptr<LogMessage> owned(message);
  if (env == nullptr || callback.IsEmpty()) return;
  try {
    callback.Call({Napi::String::New(env, trt::Logger::SeverityName(owned->severity)),
                   Napi::String::New(env, owned->text), Napi::Number::New(env, static_cast<double>(owned->target)),
                   Napi::Number::New(env, static_cast<double>(owned->droppedBefore))});
  } catch (const Napi::Error& error) {
    // lib/tensorrt-log.ts catches the user's exceptions; anything left must not kill the process.
    error.Value();
  } catch (...) {
  }
}

void Sink(trt::Severity severity, const std::string& text) {
  const uint64_t target = trt::Logger::CurrentTarget();
  std::lock_guard<std::mutex> lock(BridgesMutex());
  for (LogBridge* bridge : Bridges()) {
    if (static_cast<int>(severity) > bridge->threshold.load()) continue;
    auto* message = new LogMessage{severity, text, target, bridge->dropped.exchange(0)};
    if (bridge->deliver.NonBlockingCall(message, CallJs) != napi_ok) {
      bridge->dropped.fetch_add(message->droppedBefore + 1);
      delete message;
    }
  }
}

void InstallSinkOnce() {
  static std::once_flag installed;
  std::call_once(installed, [] { trt::Logger::Instance().setSink(Sink); });
}

void RemoveBridge(LogBridge* bridge) {
  {
    std::lock_guard<std::mutex> lock(BridgesMutex());
    auto& bridges = Bridges();
    bridges.erase(std::remove(bridges.begin(), bridges.end(), bridge), bridges.end());
    UpdateThresholdLocked();
  }
  bridge->deliver.Release();
  delete bridge;
}

// The environment's bridge, if any (one per environment; its cleanup hook removes it).
LogBridge* BridgeOf(napi_env env) {
  std::lock_guard<std::mutex> lock(BridgesMutex());
  for (LogBridge* bridge : Bridges()) {
    if (bridge->env == env) return bridge;
  }
  return nullptr;
}

void CleanupBridge(void* data) { RemoveBridge(static_cast<LogBridge*>(data)); }

int SeverityFromName(const std::string& name) {
  static const char* const names[] = {"internal-error", "error", "warning", "info", "verbose"};
  for (int severity = 0; severity < 5; ++severity) {
    if (name == names[severity]) return severity;
  }
  throw NativeError("ERR_INVALID_ARGUMENT",
                    "Expected one of \"internal-error\", \"error\", \"warning\", \"info\", \"verbose\" for severity "
                    "but received \"" +
                        name + "\"",
                    ErrorKind::kRange);
}

// setTensorRTLogSink(callback | null, severity): callback(severity, message, target, droppedBefore).
Napi::Value SetLogSink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const bool remove = info[0].IsNull() || info[0].IsUndefined();
    if (!remove && !info[0].IsFunction()) throw InvalidArgument("Expected a function or null for the log sink");
    const int threshold = remove ? 0 : SeverityFromName(RequireString(info[1], "severity"));
    if (LogBridge* existing = BridgeOf(env)) {
      napi_remove_env_cleanup_hook(env, CleanupBridge, existing);
      RemoveBridge(existing);
    }
    if (remove) return env.Undefined();
    auto bridge = std::make_unique<LogBridge>();
    bridge->env = env;
    bridge->threshold = threshold;
    bridge->deliver =
        Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "tensorrt-node:log", kQueueLimit, 1);
    bridge->deliver.Unref(env);  // logging alone never keeps the process alive
    LogBridge* installed = bridge.release();
    napi_add_env_cleanup_hook(env, CleanupBridge, installed);
    {
      std::lock_guard<std::mutex> lock(BridgesMutex());
      Bridges().push_back(installed);
      UpdateThresholdLocked();
    }
    InstallSinkOnce();
    return env.Undefined();
  });
}

// setTensorRTLogSeverity(severity): the most verbose severity this environment wants delivered.
Napi::Value SetLogSeverity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int threshold = SeverityFromName(RequireString(info[0], "severity"));
    std::lock_guard<std::mutex> lock(BridgesMutex());
    for (LogBridge* bridge : Bridges()) {
      if (bridge->env == static_cast<napi_env>(env)) bridge->threshold = threshold;
    }
    UpdateThresholdLocked();
    return env.Undefined();
  });
}

// logForTest(severity, message, target): a message through the real logger, as TensorRT would log
// it from a thread of its own (with `target` as the thread's log target). Registered in every
// TensorRT build: it lets tests check delivery, routing and filtering without TensorRT's library.
Napi::Value LogForTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const auto severity = static_cast<trt::Severity>(SeverityFromName(RequireString(info[0], "severity")));
    const std::string text = RequireString(info[1], "message");
    const uint64_t target = info[2].IsNumber() ? static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value()) : 0;
    std::thread([severity, text, target] {
      trt::Logger::ScopedTarget scoped(target);
      trt::Logger::Instance().log(severity, text.c_str());
    }).join();
    return env.Undefined();
  });
}

}  // namespace

void RegisterTensorRTLogger(Napi::Env env, Napi::Object exports) {
  exports.Set("setTensorRTLogSink", Napi::Function::New(env, SetLogSink, "setTensorRTLogSink"));
  exports.Set("setTensorRTLogSeverity", Napi::Function::New(env, SetLogSeverity, "setTensorRTLogSeverity"));
  exports.Set("tensorrtLogForTest", Napi::Function::New(env, LogForTest, "tensorrtLogForTest"));
}

}  // namespace trt_node::napi
