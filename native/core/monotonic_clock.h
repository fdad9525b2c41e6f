// The host clock of run timings: CLOCK_MONOTONIC in milliseconds, the clock libuv's uv_hrtime()
// reads on Linux, and so the clock under Node's performance.now() and process.hrtime(). JavaScript
// maps these values onto performance.now() with one offset (lib/run-timing.ts).
#pragma once

#include <time.h>

namespace trt_node {

inline double MonotonicMilliseconds() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

}  // namespace trt_node
