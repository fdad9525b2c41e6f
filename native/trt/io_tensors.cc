#include "trt/io_tensors.h"

#include "trt/engine.h"

namespace trt_node::trt {

uint32_t ElementSize(int32_t dataType) noexcept {
  switch (dataType) {
    case 0:  // kFLOAT
    case 3:  // kINT32
      return 4;
    case 1:  // kHALF
    case 7:  // kBF16
      return 2;
    case 2:   // kINT8
    case 4:   // kBOOL
    case 5:   // kUINT8
    case 6:   // kFP8
    case 11:  // kE8M0
      return 1;
    case 8:  // kINT64
      return 8;
    default:  // kINT4, kFP4 and anything newer: not whole bytes per element
      return 0;
  }
}

std::vector<IoTensor> DescribeIoTensors(const nvinfer1::ICudaEngine& engine, int32_t profile) {
  std::vector<IoTensor> tensors;
  const int32_t count = engine.getNbIOTensors();
  for (int32_t index = 0; index < count; ++index) {
    const char* name = engine.getIOTensorName(index);
    IoTensor tensor;
    tensor.name = name;
    tensor.isInput = engine.getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
    tensor.dataType = static_cast<int32_t>(engine.getTensorDataType(name));
    tensor.dtype = DataTypeName(tensor.dataType);
    tensor.elementSize = ElementSize(tensor.dataType);
    tensor.shape = ToVector(engine.getTensorShape(name));
    tensor.onHost = engine.getTensorLocation(name) == nvinfer1::TensorLocation::kHOST;
    tensor.formatValue = static_cast<int32_t>(engine.getTensorFormat(name, profile));
    const char* format = engine.getTensorFormatDesc(name, profile);
    tensor.format = format != nullptr ? format : "";
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

std::string UnbindableReason(const IoTensor& tensor) {
  const std::string what = std::string(tensor.isInput ? "input" : "output") + " \"" + tensor.name + "\"";
  if (tensor.elementSize == 0 || tensor.dtype == "e8m0") {
    return what + " has dtype " + tensor.dtype + ", which tensorrt-node cannot bind";
  }
  // Only row-major linear memory is what a TypedArray of shape x element size describes. A vectorized
  // dimension is not the only way to differ: kHWC, kDHWC and kDLA_LINEAR report none (-1) and still
  // order or pad elements differently.
  if (tensor.formatValue != static_cast<int32_t>(nvinfer1::TensorFormat::kLINEAR)) {
    return what + " uses the non-linear I/O format " + (tensor.format.empty() ? "(undescribed)" : tensor.format) +
           "; rebuild the engine with linear I/O formats (the default)";
  }
  return {};
}

}  // namespace trt_node::trt
