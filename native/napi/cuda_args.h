// Cheap native re-checks for the CUDA wraps (TypeScript validated already; these only make sure no
// input can crash the process), type tags, and resolution of copy operands to addresses.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>

#include "cuda/buffers.h"

namespace trt_node::napi {

class PinnedBufferWrap;

// Type tags (N-API 8): a wrap is recognised by its tag, never by a pointer cast of an arbitrary object.
inline constexpr napi_type_tag kStreamWrapTag = {0x7f1c6a2e9b4d4c11ULL, 0x8e5a0f3d2c1b4a01ULL};
inline constexpr napi_type_tag kEventWrapTag = {0x7f1c6a2e9b4d4c11ULL, 0x8e5a0f3d2c1b4a02ULL};
inline constexpr napi_type_tag kPinnedBufferWrapTag = {0x7f1c6a2e9b4d4c11ULL, 0x8e5a0f3d2c1b4a03ULL};
inline constexpr napi_type_tag kDeviceBufferWrapTag = {0x7f1c6a2e9b4d4c11ULL, 0x8e5a0f3d2c1b4a04ULL};

void TagObject(Napi::Env env, const Napi::Object& object, const napi_type_tag& tag);

// Napi::MemoryManagement::AdjustExternalMemory without the throw: safe in destructors and finalizers.
inline void ReportExternalMemory(napi_env env, int64_t change) noexcept {
  int64_t total = 0;
  napi_adjust_external_memory(env, change, &total);
}
bool HasTag(const Napi::Value& value, const napi_type_tag& tag);

// A non-negative safe integer (byte counts, offsets); ERR_INVALID_ARGUMENT naming `what` otherwise.
uint64_t RequireByteCount(const Napi::Value& value, const char* what);
int RequireInt32(const Napi::Value& value, const char* what);
float RequireFloat(const Napi::Value& value, const char* what);

// One side of a copy, memset or kernel: an address with the capacity behind it, and whatever keeps
// that memory alive until the job completed.
struct Operand {
  uint8_t* address = nullptr;
  uint64_t capacity = 0;
  std::shared_ptr<void> owner;                       // native memory (pinned or device)
  std::shared_ptr<cuda::DeviceBuffer> deviceBuffer;  // for cross-stream ordering of stream-ordered allocations
  PinnedBufferWrap* copyingPinned = nullptr;         // pinned memory in copying mode
  Napi::Value keepAlive;                             // the JS object whose memory is used
};

enum class OperandKinds { kAny, kGpuVisible };  // kGpuVisible: pinned or device (kernels cannot read pageable memory)
Operand ResolveOperand(const Napi::Value& value, const char* what, OperandKinds kinds);
// Throws a RangeError-kind ERR_INVALID_ARGUMENT when [offset, offset + length) is not inside `operand`.
void RequireRange(const Operand& operand, uint64_t offset, uint64_t length, const char* what);

}  // namespace trt_node::napi
