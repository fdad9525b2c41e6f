// Options shared by loadEngine() and buildEngine().
#pragma once

#include <napi.h>

#include "core/error.h"

namespace trt_node::napi {

// options.plugins: load TensorRT's standard plugin library (default true; false opts out).
inline bool OptionalPluginsFlag(const Napi::Object& options) {
  Napi::Value value = options.Get("plugins");
  if (value.IsUndefined() || value.IsNull()) return true;
  if (!value.IsBoolean()) throw InvalidArgument("Expected a boolean for options.plugins");
  return value.As<Napi::Boolean>().Value();
}

}  // namespace trt_node::napi
