// The I/O tensors of an engine as an execution context binds them: name, direction, element size,
// engine shape and where TensorRT expects the memory. Read once per context, then used on any
// thread (immutable).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trt/api.h"

namespace trt_node::trt {

struct IoTensor {
  std::string name;
  bool isInput = false;
  int32_t dataType = 0;        // nvinfer1::DataType value
  std::string dtype;           // tensorrt-node dtype name
  uint32_t elementSize = 0;    // bytes per element; 0 for types tensorrt-node cannot bind (int4, fp4)
  std::vector<int64_t> shape;  // engine shape, -1 for dynamic dimensions
  bool onHost = false;         // TensorLocation::kHOST: shape tensors, read or written by the CPU
  int32_t formatValue = 0;     // nvinfer1::TensorFormat under the context's profile; only kLINEAR is bindable
  std::string format;          // TensorRT's description of that format
};

// The engine's I/O tensors as an execution context of optimization profile `profile` binds them.
// Formats may differ per profile: they are asked with the (name, profile) overloads, never the
// profile-less ones (which answer for profile 0, with a warning, on multi-profile engines).
std::vector<IoTensor> DescribeIoTensors(const nvinfer1::ICudaEngine& engine, int32_t profile);

// Bytes per element of a TensorRT DataType (by value, stable across 10.x and 11.x); 0 for sub-byte types.
uint32_t ElementSize(int32_t dataType) noexcept;

// Why tensorrt-node cannot bind `tensor`, or an empty string when it can.
std::string UnbindableReason(const IoTensor& tensor);

}  // namespace trt_node::trt
