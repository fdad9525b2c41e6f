// Byte-count arithmetic for native re-checks of sizes and offsets that TypeScript validated already:
// JS numbers arrive as doubles, and no value may overflow or reach past a buffer.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

namespace trt_node {

// The largest integer a JS number holds exactly (Number.MAX_SAFE_INTEGER).
inline constexpr double kMaxSafeInteger = 9007199254740991.0;

// A byte count or offset from a JS number: a non-negative safe integer, else nullopt.
inline std::optional<uint64_t> ByteCountFromNumber(double value) {
  if (!std::isfinite(value) || value < 0 || value > kMaxSafeInteger || std::floor(value) != value) return std::nullopt;
  return static_cast<uint64_t>(value);
}

// True when [offset, offset + length) lies inside `capacity` bytes (no overflow on the way).
constexpr bool RangeFits(uint64_t offset, uint64_t length, uint64_t capacity) {
  return offset <= capacity && length <= capacity - offset;
}

// count * elementSize, or nullopt when it does not fit in a JS-safe integer.
constexpr std::optional<uint64_t> CheckedByteSize(uint64_t count, uint64_t elementSize) {
  constexpr uint64_t kMax = 9007199254740991ULL;
  if (elementSize != 0 && count > kMax / elementSize) return std::nullopt;
  return count * elementSize;
}

}  // namespace trt_node
