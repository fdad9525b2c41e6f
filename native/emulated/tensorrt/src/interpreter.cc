#include "interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace trt_node::fake_trt {
namespace {

std::vector<int64_t> Strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

// Index into `from` (right-aligned, broadcast) for the element at `index` of `to`.
int64_t BroadcastIndex(int64_t index, const Shape& to, const Shape& from) {
  const std::vector<int64_t> toStrides = Strides(to);
  const std::vector<int64_t> fromStrides = Strides(from);
  int64_t result = 0;
  const size_t offset = to.size() - from.size();
  for (size_t axis = 0; axis < to.size(); ++axis) {
    const int64_t coordinate = (index / toStrides[axis]) % std::max<int64_t>(to[axis], 1);
    if (axis < offset) continue;
    const size_t fromAxis = axis - offset;
    if (from[fromAxis] != 1) result += coordinate * fromStrides[fromAxis];
  }
  return result;
}

double Binary(const std::string& op, float a, float b) {
  if (op == "Add") return static_cast<float>(a + b);
  if (op == "Sub") return static_cast<float>(a - b);
  if (op == "Mul") return static_cast<float>(a * b);
  return static_cast<float>(a / b);
}

}  // namespace

float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int shift = 0;
      while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        ++shift;
      }
      mantissa &= 0x3ffu;
      bits = sign | static_cast<uint32_t>(127 - 15 - shift + 1) << 23 | mantissa << 13;
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | mantissa << 13;
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint16_t FloatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t exponent = (bits >> 23) & 0xffu;
  uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mantissa != 0 ? 0x200u : 0));
  const int halfExponent = static_cast<int>(exponent) - 127 + 15;
  if (halfExponent >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000u;
    const int shift = 14 - halfExponent;
    uint32_t half = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = static_cast<uint32_t>(halfExponent) << 10 | mantissa >> 13;
  const uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // round to nearest even; may carry into the exponent
  return static_cast<uint16_t>(sign | half);
}

double Load(const void* source, nvinfer1::DataType dtype, size_t index) {
  switch (dtype) {
    case nvinfer1::DataType::kFLOAT:
      return static_cast<const float*>(source)[index];
    case nvinfer1::DataType::kHALF:
      return HalfToFloat(static_cast<const uint16_t*>(source)[index]);
    case nvinfer1::DataType::kBF16: {
      const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(source)[index]) << 16;
      float value;
      std::memcpy(&value, &bits, sizeof(value));
      return value;
    }
    case nvinfer1::DataType::kINT32:
      return static_cast<const int32_t*>(source)[index];
    case nvinfer1::DataType::kINT64:
      return static_cast<double>(static_cast<const int64_t*>(source)[index]);
    case nvinfer1::DataType::kINT8:
      return static_cast<const int8_t*>(source)[index];
    default:
      return static_cast<const uint8_t*>(source)[index];
  }
}

void Store(void* destination, nvinfer1::DataType dtype, const std::vector<double>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    const double value = values[i];
    switch (dtype) {
      case nvinfer1::DataType::kFLOAT:
        static_cast<float*>(destination)[i] = static_cast<float>(value);
        break;
      case nvinfer1::DataType::kHALF:
        static_cast<uint16_t*>(destination)[i] = FloatToHalf(static_cast<float>(value));
        break;
      case nvinfer1::DataType::kBF16: {
        const float asFloat = static_cast<float>(value);
        uint32_t bits;
        std::memcpy(&bits, &asFloat, sizeof(bits));
        bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
        static_cast<uint16_t*>(destination)[i] = static_cast<uint16_t>(bits >> 16);
        break;
      }
      case nvinfer1::DataType::kINT32:
        static_cast<int32_t*>(destination)[i] = static_cast<int32_t>(value);
        break;
      case nvinfer1::DataType::kINT64:
        static_cast<int64_t*>(destination)[i] = static_cast<int64_t>(value);
        break;
      case nvinfer1::DataType::kINT8:
        static_cast<int8_t*>(destination)[i] = static_cast<int8_t>(value);
        break;
      default:
        static_cast<uint8_t*>(destination)[i] = static_cast<uint8_t>(value);
        break;
    }
  }
}

Evaluation Evaluate(const Network& network, const std::map<std::string, Shape>& shapes,
                    const std::map<std::string, const void*>& inputs) {
  Evaluation evaluation;
  evaluation.shapes = shapes;
  for (const auto& constant : network.constants) evaluation.values[constant.name] = constant.values;
  for (const auto& tensor : network.io) {
    if (!tensor.isInput) continue;
    const void* data = inputs.at(tensor.name);
    const int64_t count = ElementCount(shapes.at(tensor.name));
    std::vector<double>& values = evaluation.values[tensor.name];
    values.resize(static_cast<size_t>(std::max<int64_t>(count, 0)));
    for (size_t i = 0; i < values.size(); ++i) values[i] = Load(data, tensor.dtype, i);
  }
  for (const auto& layer : network.layers) {
    const std::vector<double>& a = evaluation.values.at(layer.inputs.at(0));
    const Shape& aShape = evaluation.shapes.at(layer.inputs.at(0));
    std::vector<double> out;
    Shape outShape = evaluation.shapes.at(layer.outputs.at(0));
    if (layer.op == "Add" || layer.op == "Sub" || layer.op == "Mul" || layer.op == "Div") {
      const std::vector<double>& b = evaluation.values.at(layer.inputs.at(1));
      const Shape& bShape = evaluation.shapes.at(layer.inputs.at(1));
      out.resize(static_cast<size_t>(ElementCount(outShape)));
      for (size_t i = 0; i < out.size(); ++i) {
        const auto index = static_cast<int64_t>(i);
        out[i] = Binary(layer.op, static_cast<float>(a[BroadcastIndex(index, outShape, aShape)]),
                        static_cast<float>(b[BroadcastIndex(index, outShape, bShape)]));
      }
    } else if (layer.op == "MatMul") {
      const std::vector<double>& b = evaluation.values.at(layer.inputs.at(1));
      const Shape& bShape = evaluation.shapes.at(layer.inputs.at(1));
      const int64_t k = bShape[0], m = bShape[1];
      const int64_t rows = ElementCount(aShape) / std::max<int64_t>(k, 1);
      out.assign(static_cast<size_t>(rows * m), 0.0);
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t col = 0; col < m; ++col) {
          float sum = 0;
          for (int64_t i = 0; i < k; ++i) {
            sum = static_cast<float>(
                sum + static_cast<float>(static_cast<float>(a[row * k + i]) * static_cast<float>(b[i * m + col])));
          }
          out[row * m + col] = sum;
        }
      }
    } else if (layer.op == "Relu") {
      out = a;
      for (double& value : out) value = value > 0 ? value : 0.0;
    } else if (layer.op == "Cast") {
      out = a;
      for (double& value : out) {
        if (layer.castTo == nvinfer1::DataType::kHALF) {
          value = HalfToFloat(FloatToHalf(static_cast<float>(value)));
        } else if (layer.castTo == nvinfer1::DataType::kFLOAT) {
          value = static_cast<float>(value);
        } else {
          value = std::trunc(value);
        }
      }
    } else if (layer.op == "NonZero") {
      const std::vector<int64_t> strides = Strides(aShape);
      std::vector<int64_t> found;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != 0) found.push_back(static_cast<int64_t>(i));
      }
      const auto rank = static_cast<int64_t>(aShape.size());
      const auto count = static_cast<int64_t>(found.size());
      out.resize(static_cast<size_t>(rank * count));
      for (int64_t axis = 0; axis < rank; ++axis) {
        for (int64_t n = 0; n < count; ++n) {
          out[axis * count + n] = static_cast<double>((found[n] / strides[axis]) % aShape[axis]);
        }
      }
      outShape = {rank, count};
    } else if (layer.op == "Identity" || layer.op == "Reshape" || layer.op == "Plugin") {
      out = a;
    } else {
      throw std::runtime_error("the fake TensorRT cannot evaluate op " + layer.op);
    }
    for (const auto& output : layer.outputs) {
      evaluation.values[output] = out;
      evaluation.shapes[output] = outShape;
    }
  }
  return evaluation;
}

}  // namespace trt_node::fake_trt
