// The only place C++ exceptions become JavaScript errors.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace trt_node::napi {

void RegisterErrors(Napi::Env env, Napi::Object exports);

// Builds the JS error for a NativeError through the registered factory (falls back to a plain
// Error carrying `code` when the factory is missing, which only happens in broken setups).
Napi::Value ToJsError(Napi::Env env, const NativeError& error);

// Converts whatever was thrown into a NativeError (unknown exceptions become ERR_INTERNAL).
NativeError ToNativeError(std::exception_ptr thrown);

// Runs `body` and rethrows any C++ exception as the matching JS error. Every exported function goes
// through this, so no C++ exception can escape into Node.
template <typename Body>
Napi::Value Guard(Napi::Env env, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw Napi::Error(env, ToJsError(env, ToNativeError(std::current_exception())));
  }
}

// Cheap native re-checks of arguments TypeScript already validated: no input may crash the process.
std::string RequireString(const Napi::Value& value, const char* what);
Napi::Object RequireObject(const Napi::Value& value, const char* what);
std::string OptionalString(const Napi::Object& object, const char* key, const char* what);
// An optional array of strings (undefined/null: empty); anything else is a typed error.
std::vector<std::string> OptionalStringArray(const Napi::Object& object, const char* key, const char* what);

// The bytes a TypedArray views. Napi::TypedArray::ArrayBuffer().Data() fails with an untyped
// "Invalid argument" when the view is over a SharedArrayBuffer; this asks N-API for the view's data
// pointer directly (already offset; null with length 0 for a detached buffer).
struct ViewedBytes {
  uint8_t* data;
  size_t byteLength;
};
ViewedBytes BytesOf(const Napi::TypedArray& array);

}  // namespace trt_node::napi
