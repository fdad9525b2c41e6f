#include "call_log.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>

namespace trt_node::fake_trt {
namespace {

// Bounded so that a long test cannot grow it without limit; tests clear it between cases.
constexpr size_t kMaxLines = 200000;

struct Log {
  std::mutex mutex;
  uint64_t sequence = 0;
  std::deque<std::string> lines;
  int64_t violations = 0;
  std::map<std::string, uint64_t> nextId;
  std::map<std::string, int64_t> live;
  bool fileChecked = false;
  FILE* file = nullptr;
};

Log& TheLog() {
  // Never destroyed: objects released during process exit still record.
  static auto* log = new Log();
  return *log;
}

void Append(Log& log, std::string line) {
  if (!log.fileChecked) {
    log.fileChecked = true;
    if (const char* path = std::getenv("TRT_NODE_FAKE_TENSORRT_LOG"); path != nullptr && path[0] != '\0') {
      log.file = std::fopen(path, "a");
    }
  }
  if (log.file != nullptr) {
    std::fputs(line.c_str(), log.file);
    std::fputc('\n', log.file);
    std::fflush(log.file);
  }
  log.lines.push_back(std::move(line));
  if (log.lines.size() > kMaxLines) log.lines.pop_front();
}

}  // namespace

std::string NewObjectName(const char* kind) {
  Log& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  return std::string(kind) + "#" + std::to_string(++log.nextId[kind]);
}

void Record(const std::string& object, const std::string& call, const std::string& detail) {
  Log& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  std::string line = std::to_string(++log.sequence) + " " + object + " " + call;
  if (!detail.empty()) line += " " + detail;
  Append(log, std::move(line));
}

void Violation(const std::string& object, const std::string& message) {
  Log& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  ++log.violations;
  Append(log, std::to_string(++log.sequence) + " VIOLATION " + object + " " + message);
  // Also visible when a test only shows stderr.
  std::fprintf(stderr, "fake TensorRT (emulated device): protocol violation by %s: %s\n", object.c_str(),
               message.c_str());
}

bool OnMainThread() { return static_cast<pid_t>(syscall(SYS_gettid)) == getpid(); }

int64_t DefaultKernelMicroseconds() {
  static const int64_t micros = [] {
    const char* value = std::getenv("TRT_NODE_FAKE_TENSORRT_KERNEL_US");
    return value != nullptr ? std::strtoll(value, nullptr, 10) : 0LL;
  }();
  return micros;
}

void CountLive(const char* kind, int delta) {
  Log& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  log.live[kind] += delta;
}

}  // namespace trt_node::fake_trt

using trt_node::fake_trt::TheLog;

extern "C" size_t trt_node_fake_tensorrt_log(char* buffer, size_t capacity) {
  auto& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  size_t length = 0;
  for (const auto& line : log.lines) length += line.size() + 1;
  if (buffer != nullptr && capacity >= length) {
    size_t offset = 0;
    for (const auto& line : log.lines) {
      std::memcpy(buffer + offset, line.data(), line.size());
      offset += line.size();
      buffer[offset++] = '\n';
    }
  }
  return length;
}

extern "C" void trt_node_fake_tensorrt_clear_log(void) {
  auto& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  log.lines.clear();
  log.violations = 0;
}

extern "C" int64_t trt_node_fake_tensorrt_violations(void) {
  auto& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  return log.violations;
}

extern "C" int64_t trt_node_fake_tensorrt_live(const char* kind) {
  auto& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mutex);
  auto found = log.live.find(kind != nullptr ? kind : "");
  return found == log.live.end() ? 0 : found->second;
}
