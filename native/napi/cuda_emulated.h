// The emulated device's test hooks, for JavaScript tests of the emulated build only
// (TRT_NODE_EMULATED_DEVICE): exports.emulatedDevice. Never present in a build that runs on a GPU.
#pragma once

#include <napi.h>

namespace trt_node::napi {

void RegisterEmulatedDevice(Napi::Env env, Napi::Object exports);

}  // namespace trt_node::napi
