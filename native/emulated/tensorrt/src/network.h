// What a fake TensorRT network and engine are: I/O tensors, constants, a short list of layers the
// interpreter (interpreter.h) evaluates on the host, optimization profiles, and knobs that make the
// fake behave like awkward real engines (non-linear formats, plugins, host code, refused captures,
// slow kernels). The builder (from an ONNX model, onnx_reader.h) produces it; the plan is its
// serialized form, which only this fake reads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "call_log.h"
#include "emulated_tensorrt.h"

namespace trt_node::fake_trt {

using Shape = std::vector<int64_t>;

struct TensorSpec {
  std::string name;
  bool isInput = false;
  nvinfer1::DataType dtype = nvinfer1::DataType::kFLOAT;
  Shape dims;  // -1: dynamic (inputs: bounded by the profiles; outputs: inferred, or data-dependent)
  // Per optimization profile; a profile without an entry uses kLINEAR.
  std::map<int, nvinfer1::TensorFormat> formats;
  bool shapeTensor = false;  // an input whose values decide shapes: it lives on the host
};

struct Constant {
  std::string name;
  Shape dims;
  std::vector<double> values;
};

// ops: Identity, Relu, Cast, Add, Sub, Mul, Div, MatMul, NonZero, Reshape, Plugin (identity
// standing in for a standard plugin such as EfficientNMS_TRT: the fake has no NMS).
struct Layer {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  nvinfer1::DataType castTo = nvinfer1::DataType::kFLOAT;  // Cast
  std::string plugin;                                      // Plugin: the creator's name
};

struct Bounds {
  Shape min, opt, max;
};

struct Profile {
  std::map<std::string, Bounds> dims;    // per dynamic input
  std::map<std::string, Bounds> values;  // per shape-tensor input
};

struct Network {
  std::string name;
  std::vector<TensorSpec> io;
  std::vector<Constant> constants;
  std::vector<Layer> layers;
  std::vector<Profile> profiles;
  // Knobs, set from "fake-tensorrt:*" metadata of the ONNX model (the fake's own; TensorRT has none).
  int64_t kernelMicros = 0;  // simulated GPU time per inference
  int failCaptures = 0;      // the first N stream captures of each context are refused
  bool hostCode = false;     // the plan embeds host code (refused unless allowed)
  std::string failBuild;     // the builder fails, logging this from one of its own threads
  int hardwareCompatibility = 0;
  bool strongTyping = true;  // the network was created strongly typed (checked for 10.x)
  int64_t loadMillis = 0;    // deserialization takes this long (tests of a worker terminated mid-load)
  int64_t buildMillis = 0;   // each build step takes this long (tests of a worker terminated mid-build)

  const TensorSpec* find(const std::string& name) const;
  int indexOf(const std::string& name) const;
  nvinfer1::TensorFormat formatOf(const TensorSpec& tensor, int profile) const;
};

// The version string every plan carries, e.g. "10.16.0": a plan of another version is refused the
// way TensorRT refuses one.
std::string LibraryVersionString();

std::string SerializePlan(const Network& network);
// Throws std::runtime_error with TensorRT-like wording when the plan is not a fake plan of this version.
Network DeserializePlan(const void* data, size_t size);

// Shapes ------------------------------------------------------------------------------------------

std::string ShapeText(const Shape& shape);
nvinfer1::Dims ToDims(const Shape& shape);
Shape FromDims(const nvinfer1::Dims& dims);
int64_t ElementCount(const Shape& shape);  // -1 when any dimension is unknown
size_t DataTypeSize(nvinfer1::DataType type);
const char* FormatName(nvinfer1::TensorFormat format);
std::string FormatDescription(nvinfer1::DataType type, nvinfer1::TensorFormat format);
int32_t VectorizedDim(nvinfer1::TensorFormat format, size_t rank);

struct ShapeInputs {
  std::map<std::string, Shape> inputShapes;
  std::map<std::string, std::vector<int64_t>> shapeValues;  // host shape tensors' values
};

// Every tensor's shape (-1 where only the inference knows it: data-dependent outputs). Throws
// std::runtime_error when the inputs do not fit the layers.
std::map<std::string, Shape> InferShapes(const Network& network, const ShapeInputs& inputs);

// Scratch ("device memory") an execution context of `profile` needs: the intermediate tensors at the
// profile's largest shapes.
int64_t DeviceMemoryForProfile(const Network& network, int32_t profile);

}  // namespace trt_node::fake_trt
