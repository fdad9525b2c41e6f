// tensorrt-node's own declaration of the subset of TensorRT's ONNX parser API (namespace
// nvonnxparser) that native/trt calls, for the emulated device tier only. See emulated_tensorrt.h
// for why it exists and what proves compatibility with the real headers.
#pragma once

#include "emulated_tensorrt.h"

#define NV_ONNX_PARSER_MAJOR 0
#define NV_ONNX_PARSER_MINOR 1
#define NV_ONNX_PARSER_PATCH 0
static constexpr int32_t NV_ONNX_PARSER_VERSION =
    ((NV_ONNX_PARSER_MAJOR * 10000) + (NV_ONNX_PARSER_MINOR * 100) + NV_ONNX_PARSER_PATCH);

namespace nvonnxparser {

enum class ErrorCode : int {
  kSUCCESS = 0,
  kINTERNAL_ERROR = 1,
  kMEM_ALLOC_FAILED = 2,
  kMODEL_DESERIALIZE_FAILED = 3,
  kINVALID_VALUE = 4,
  kINVALID_GRAPH = 5,
  kINVALID_NODE = 6,
  kUNSUPPORTED_GRAPH = 7,
  kUNSUPPORTED_NODE = 8,
};

class IParserError {
 public:
  virtual ErrorCode code() const = 0;
  virtual char const* desc() const = 0;
  virtual int node() const = 0;
  virtual char const* nodeName() const = 0;
  virtual char const* nodeOperator() const = 0;

 protected:
  virtual ~IParserError() {}
};

class IParser {
 public:
  virtual bool parseFromFile(char const* onnxModelFile, int verbosity) noexcept = 0;
  virtual int getNbErrors() const noexcept = 0;
  virtual IParserError const* getError(int index) const noexcept = 0;
  virtual ~IParser() noexcept = default;
};

}  // namespace nvonnxparser

extern "C" TENSORRTAPI void* createNvOnnxParser_INTERNAL(void* network, void* logger, int version) noexcept;
extern "C" TENSORRTAPI int getNvOnnxParserVersion() noexcept;
