// The fake engine's "kernels": evaluates a Network's layers on the host, in float32 arithmetic
// (each result rounded to float, in a fixed order), so that tests can recompute the exact outputs.
// Emulation only: it proves what our code hands to TensorRT and gets back, never GPU numerics.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "network.h"

namespace trt_node::fake_trt {

struct Evaluation {
  std::map<std::string, std::vector<double>> values;  // every tensor, row-major
  std::map<std::string, Shape> shapes;                // data-dependent shapes resolved
};

// `shapes` from InferShapes; `inputs` maps each input's name to its memory (in its dtype).
Evaluation Evaluate(const Network& network, const std::map<std::string, Shape>& shapes,
                    const std::map<std::string, const void*>& inputs);

// Converts `values` to `dtype` into `destination` (row-major, no padding).
void Store(void* destination, nvinfer1::DataType dtype, const std::vector<double>& values);
double Load(const void* source, nvinfer1::DataType dtype, size_t index);

float HalfToFloat(uint16_t half);
uint16_t FloatToHalf(float value);

}  // namespace trt_node::fake_trt
