#include "napi/cuda_args.h"

#include <string>

#include "core/byte_range.h"
#include "core/error.h"
#include "napi/cuda_wraps.h"
#include "napi/errors.h"

namespace trt_node::napi {

void TagObject(Napi::Env env, const Napi::Object& object, const napi_type_tag& tag) {
  if (napi_type_tag_object(env, object, &tag) != napi_ok) throw Napi::Error::New(env);
}

bool HasTag(const Napi::Value& value, const napi_type_tag& tag) {
  if (!value.IsObject()) return false;
  bool matches = false;
  return napi_check_object_type_tag(value.Env(), value, &tag, &matches) == napi_ok && matches;
}

uint64_t RequireByteCount(const Napi::Value& value, const char* what) {
  if (value.IsNumber()) {
    if (auto count = ByteCountFromNumber(value.As<Napi::Number>().DoubleValue())) return *count;
  }
  throw NativeError("ERR_INVALID_ARGUMENT", std::string("Expected a non-negative integer for ") + what,
                    value.IsNumber() ? ErrorKind::kRange : ErrorKind::kType);
}

int RequireInt32(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw InvalidArgument(std::string("Expected an integer for ") + what);
  const double number = value.As<Napi::Number>().DoubleValue();
  if (number != static_cast<double>(static_cast<int32_t>(number))) {
    throw NativeError("ERR_INVALID_ARGUMENT", std::string("Expected an integer for ") + what, ErrorKind::kRange);
  }
  return static_cast<int32_t>(number);
}

float RequireFloat(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw InvalidArgument(std::string("Expected a number for ") + what);
  return static_cast<float>(value.As<Napi::Number>().DoubleValue());
}

Operand ResolveOperand(const Napi::Value& value, const char* what, OperandKinds kinds) {
  Operand operand;
  operand.keepAlive = value;
  if (PinnedBufferWrap* pinned = PinnedBufferWrap::FromValue(value)) {
    std::shared_ptr<cuda::PinnedBuffer> buffer = pinned->Live(what);
    operand.address = static_cast<uint8_t*>(buffer->data());
    operand.capacity = buffer->size();
    operand.owner = std::move(buffer);
    if (pinned->copying()) operand.copyingPinned = pinned;
    return operand;
  }
  if (DeviceBufferWrap* device = DeviceBufferWrap::FromValue(value)) {
    std::shared_ptr<cuda::DeviceBuffer> buffer = device->Live(what);
    operand.address = static_cast<uint8_t*>(buffer->data());
    operand.capacity = buffer->size();
    operand.deviceBuffer = buffer;
    operand.owner = std::move(buffer);
    return operand;
  }
  if (kinds == OperandKinds::kAny && value.IsTypedArray()) {
    // Pageable JS memory. Reading the buffer materialises V8's on-heap arrays, so the address is
    // stable for as long as the array is referenced (keepAlive) and not detached.
    const ViewedBytes bytes = BytesOf(value.As<Napi::TypedArray>());
    operand.address = bytes.data;
    operand.capacity = bytes.byteLength;
    return operand;
  }
  throw InvalidArgument(
      std::string("Expected ") +
      (kinds == OperandKinds::kAny ? "a pinned buffer, a device buffer or a TypedArray" : "a pinned or device buffer") +
      " for " + what);
}

void RequireRange(const Operand& operand, uint64_t offset, uint64_t length, const char* what) {
  if (!RangeFits(offset, length, operand.capacity)) {
    throw NativeError("ERR_INVALID_ARGUMENT",
                      std::string("Expected a range inside the ") + std::to_string(operand.capacity) + " bytes of " +
                          what + " but received " + std::to_string(length) + " bytes at offset " +
                          std::to_string(offset),
                      ErrorKind::kRange);
  }
}

}  // namespace trt_node::napi
