#include "network.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace trt_node::fake_trt {
namespace {

constexpr const char* kMagic = "trt-node-fake-engine";
constexpr int kFormatVersion = 1;

// Strings in the plan: "s" + percent-encoded, so that empty strings and spaces survive tokenizing.
std::string Encode(const std::string& text) {
  std::string out = "s";
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == ':' || c == '/') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof(buffer), "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

std::string Decode(const std::string& token) {
  if (token.empty() || token[0] != 's') throw std::runtime_error("bad string in plan");
  std::string out;
  for (size_t i = 1; i < token.size(); ++i) {
    if (token[i] == '%' && i + 2 < token.size()) {
      out += static_cast<char>(std::stoi(token.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += token[i];
    }
  }
  return out;
}

void WriteShape(std::ostringstream& out, const Shape& shape) {
  out << ' ' << shape.size();
  for (int64_t dim : shape) out << ' ' << dim;
}

Shape ReadShape(std::istringstream& in) {
  size_t rank = 0;
  in >> rank;
  if (!in || rank > 8) throw std::runtime_error("bad shape in plan");
  Shape shape(rank);
  for (auto& dim : shape) in >> dim;
  return shape;
}

std::string Token(std::istringstream& in) {
  std::string token;
  in >> token;
  if (!in) throw std::runtime_error("truncated plan");
  return token;
}

Shape Broadcast(const Shape& a, const Shape& b, const std::string& layer) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (da < 0 || db < 0) {
      out[i] = -1;
    } else {
      throw std::runtime_error("layer " + layer + ": shapes " + ShapeText(a) + " and " + ShapeText(b) +
                               " cannot be broadcast");
    }
  }
  return out;
}

}  // namespace

const TensorSpec* Network::find(const std::string& tensorName) const {
  for (const auto& tensor : io) {
    if (tensor.name == tensorName) return &tensor;
  }
  return nullptr;
}

int Network::indexOf(const std::string& tensorName) const {
  for (size_t i = 0; i < io.size(); ++i) {
    if (io[i].name == tensorName) return static_cast<int>(i);
  }
  return -1;
}

nvinfer1::TensorFormat Network::formatOf(const TensorSpec& tensor, int profile) const {
  auto found = tensor.formats.find(profile);
  if (found == tensor.formats.end()) found = tensor.formats.find(-1);  // -1: every profile
  return found == tensor.formats.end() ? nvinfer1::TensorFormat::kLINEAR : found->second;
}

std::string LibraryVersionString() {
  return std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." +
         std::to_string(NV_TENSORRT_PATCH);
}

std::string SerializePlan(const Network& network) {
  std::ostringstream out;
  out.precision(17);
  out << kMagic << ' ' << kFormatVersion << ' ' << LibraryVersionString() << '\n';
  out << "name " << Encode(network.name) << '\n';
  out << "knobs " << network.kernelMicros << ' ' << network.failCaptures << ' ' << (network.hostCode ? 1 : 0) << ' '
      << network.hardwareCompatibility << ' ' << (network.strongTyping ? 1 : 0) << ' ' << network.loadMillis << ' '
      << Encode(network.failBuild) << '\n';
  for (const auto& tensor : network.io) {
    out << "io " << Encode(tensor.name) << ' ' << (tensor.isInput ? "in" : "out") << ' '
        << static_cast<int>(tensor.dtype);
    WriteShape(out, tensor.dims);
    out << ' ' << (tensor.shapeTensor ? 1 : 0) << ' ' << tensor.formats.size();
    for (const auto& [profile, format] : tensor.formats) out << ' ' << profile << ' ' << static_cast<int>(format);
    out << '\n';
  }
  for (const auto& constant : network.constants) {
    out << "const " << Encode(constant.name);
    WriteShape(out, constant.dims);
    out << ' ' << constant.values.size();
    for (double value : constant.values) out << ' ' << value;
    out << '\n';
  }
  for (const auto& layer : network.layers) {
    out << "layer " << Encode(layer.name) << ' ' << layer.op << ' ' << static_cast<int>(layer.castTo) << ' '
        << Encode(layer.plugin) << ' ' << layer.inputs.size();
    for (const auto& input : layer.inputs) out << ' ' << Encode(input);
    out << ' ' << layer.outputs.size();
    for (const auto& output : layer.outputs) out << ' ' << Encode(output);
    out << '\n';
  }
  for (size_t p = 0; p < network.profiles.size(); ++p) {
    out << "profile " << p << '\n';
    for (const auto& [name, bounds] : network.profiles[p].dims) {
      out << "pdims " << Encode(name);
      WriteShape(out, bounds.min);
      WriteShape(out, bounds.opt);
      WriteShape(out, bounds.max);
      out << '\n';
    }
    for (const auto& [name, bounds] : network.profiles[p].values) {
      out << "pvalues " << Encode(name);
      WriteShape(out, bounds.min);
      WriteShape(out, bounds.opt);
      WriteShape(out, bounds.max);
      out << '\n';
    }
  }
  out << "end\n";
  return out.str();
}

Network DeserializePlan(const void* data, size_t size) {
  const std::string text(static_cast<const char*>(data), size);
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line)) throw std::runtime_error("the plan is empty");
  {
    std::istringstream header(line);
    std::string magic, version;
    int format = 0;
    header >> magic >> format >> version;
    if (magic != kMagic || format != kFormatVersion) {
      // TensorRT's own wording for a file that is not a plan of this library.
      throw std::runtime_error(
          "IRuntime::deserializeCudaEngine: Error Code 1: Serialization (Serialization assertion "
          "plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed.Trying to load an engine created with incompatible "
          "serialization version. Check that the engine was not created using safety runtime, same OS was used and "
          "version compatibility parameters were set accordingly.)");
    }
    if (version != LibraryVersionString()) {
      throw std::runtime_error(
          "IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The engine plan file is not compatible "
          "with this version of TensorRT, expecting library version " +
          LibraryVersionString() + ".0 got " + version + ".0, please rebuild.)");
    }
  }
  Network network;
  int currentProfile = -1;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    const std::string kind = Token(in);
    if (kind == "end") return network;
    if (kind == "name") {
      network.name = Decode(Token(in));
    } else if (kind == "knobs") {
      int hostCode = 0, strong = 1;
      in >> network.kernelMicros >> network.failCaptures >> hostCode >> network.hardwareCompatibility >> strong >>
          network.loadMillis;
      network.hostCode = hostCode != 0;
      network.strongTyping = strong != 0;
      network.failBuild = Decode(Token(in));
    } else if (kind == "io") {
      TensorSpec tensor;
      tensor.name = Decode(Token(in));
      tensor.isInput = Token(in) == "in";
      int dtype = 0, shapeTensor = 0;
      size_t formats = 0;
      in >> dtype;
      tensor.dtype = static_cast<nvinfer1::DataType>(dtype);
      tensor.dims = ReadShape(in);
      in >> shapeTensor >> formats;
      tensor.shapeTensor = shapeTensor != 0;
      for (size_t i = 0; i < formats; ++i) {
        int profile = 0, format = 0;
        in >> profile >> format;
        tensor.formats[profile] = static_cast<nvinfer1::TensorFormat>(format);
      }
      network.io.push_back(std::move(tensor));
    } else if (kind == "const") {
      Constant constant;
      constant.name = Decode(Token(in));
      constant.dims = ReadShape(in);
      size_t count = 0;
      in >> count;
      constant.values.resize(count);
      for (auto& value : constant.values) in >> value;
      network.constants.push_back(std::move(constant));
    } else if (kind == "layer") {
      Layer layer;
      layer.name = Decode(Token(in));
      layer.op = Token(in);
      int castTo = 0;
      in >> castTo;
      layer.castTo = static_cast<nvinfer1::DataType>(castTo);
      layer.plugin = Decode(Token(in));
      size_t count = 0;
      in >> count;
      for (size_t i = 0; i < count; ++i) layer.inputs.push_back(Decode(Token(in)));
      in >> count;
      for (size_t i = 0; i < count; ++i) layer.outputs.push_back(Decode(Token(in)));
      network.layers.push_back(std::move(layer));
    } else if (kind == "profile") {
      in >> currentProfile;
      network.profiles.emplace_back();
    } else if (kind == "pdims" || kind == "pvalues") {
      if (currentProfile < 0) throw std::runtime_error("profile bounds outside a profile");
      const std::string name = Decode(Token(in));
      Bounds bounds;
      bounds.min = ReadShape(in);
      bounds.opt = ReadShape(in);
      bounds.max = ReadShape(in);
      auto& target = kind == "pdims" ? network.profiles.back().dims : network.profiles.back().values;
      target[name] = std::move(bounds);
    } else {
      throw std::runtime_error("unknown plan record " + kind);
    }
    if (!in && !in.eof()) throw std::runtime_error("malformed plan record " + kind);
  }
  throw std::runtime_error("IRuntime::deserializeCudaEngine: Error Code 1: Serialization (the plan is truncated)");
}

std::string ShapeText(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

nvinfer1::Dims ToDims(const Shape& shape) {
  nvinfer1::Dims dims{};
  dims.nbDims = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size() && i < static_cast<size_t>(nvinfer1::Dims::MAX_DIMS); ++i) dims.d[i] = shape[i];
  return dims;
}

Shape FromDims(const nvinfer1::Dims& dims) {
  Shape shape;
  for (int32_t i = 0; i < dims.nbDims && i < nvinfer1::Dims::MAX_DIMS; ++i) shape.push_back(dims.d[i]);
  return shape;
}

int64_t ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
    count *= dim;
  }
  return count;
}

size_t DataTypeSize(nvinfer1::DataType type) {
  switch (type) {
    case nvinfer1::DataType::kFLOAT:
    case nvinfer1::DataType::kINT32:
      return 4;
    case nvinfer1::DataType::kHALF:
    case nvinfer1::DataType::kBF16:
      return 2;
    case nvinfer1::DataType::kINT64:
      return 8;
    default:
      return 1;
  }
}

const char* FormatName(nvinfer1::TensorFormat format) {
  switch (format) {
    case nvinfer1::TensorFormat::kLINEAR:
      return "kLINEAR";
    case nvinfer1::TensorFormat::kCHW2:
      return "kCHW2";
    case nvinfer1::TensorFormat::kHWC8:
      return "kHWC8";
    case nvinfer1::TensorFormat::kCHW4:
      return "kCHW4";
    case nvinfer1::TensorFormat::kCHW16:
      return "kCHW16";
    case nvinfer1::TensorFormat::kCHW32:
      return "kCHW32";
    case nvinfer1::TensorFormat::kDHWC8:
      return "kDHWC8";
    case nvinfer1::TensorFormat::kCDHW32:
      return "kCDHW32";
    case nvinfer1::TensorFormat::kHWC:
      return "kHWC";
    case nvinfer1::TensorFormat::kDLA_LINEAR:
      return "kDLA_LINEAR";
    case nvinfer1::TensorFormat::kDLA_HWC4:
      return "kDLA_HWC4";
    case nvinfer1::TensorFormat::kHWC16:
      return "kHWC16";
    case nvinfer1::TensorFormat::kDHWC:
      return "kDHWC";
  }
  return "unknown";
}

std::string FormatDescription(nvinfer1::DataType type, nvinfer1::TensorFormat format) {
  const char* typeName = type == nvinfer1::DataType::kHALF    ? "FP16"
                         : type == nvinfer1::DataType::kINT32 ? "Int32"
                         : type == nvinfer1::DataType::kINT64 ? "Int64"
                         : type == nvinfer1::DataType::kBF16  ? "BF16"
                                                              : "FP32";
  if (format == nvinfer1::TensorFormat::kLINEAR) {
    return std::string("Row major linear ") + typeName + " format (kLINEAR)";
  }
  return std::string("Fake TensorRT ") + typeName + " format (" + FormatName(format) + ")";
}

int32_t VectorizedDim(nvinfer1::TensorFormat format, size_t rank) {
  switch (format) {
    case nvinfer1::TensorFormat::kCHW2:
    case nvinfer1::TensorFormat::kHWC8:
    case nvinfer1::TensorFormat::kCHW4:
    case nvinfer1::TensorFormat::kCHW16:
    case nvinfer1::TensorFormat::kCHW32:
    case nvinfer1::TensorFormat::kHWC16:
    case nvinfer1::TensorFormat::kDLA_HWC4:
      return rank >= 3 ? static_cast<int32_t>(rank) - 3 : 0;  // the channel dimension
    case nvinfer1::TensorFormat::kDHWC8:
    case nvinfer1::TensorFormat::kCDHW32:
      return rank >= 4 ? static_cast<int32_t>(rank) - 4 : 0;
    default:
      // kLINEAR, and also kHWC, kDHWC and kDLA_LINEAR: one scalar per vector, as TensorRT reports.
      return -1;
  }
}

std::map<std::string, Shape> InferShapes(const Network& network, const ShapeInputs& inputs) {
  std::map<std::string, Shape> shapes;
  std::map<std::string, std::vector<int64_t>> values;  // known values (constants, shape tensors)
  for (const auto& constant : network.constants) {
    shapes[constant.name] = constant.dims;
    std::vector<int64_t> asIntegers;
    for (double value : constant.values) asIntegers.push_back(static_cast<int64_t>(value));
    values[constant.name] = std::move(asIntegers);
  }
  for (const auto& tensor : network.io) {
    if (!tensor.isInput) continue;
    auto given = inputs.inputShapes.find(tensor.name);
    if (given == inputs.inputShapes.end())
      throw std::runtime_error("the shape of input " + tensor.name + " is not set");
    shapes[tensor.name] = given->second;
    if (tensor.shapeTensor) {
      auto found = inputs.shapeValues.find(tensor.name);
      if (found == inputs.shapeValues.end()) {
        throw std::runtime_error("the values of shape tensor " + tensor.name + " are not known");
      }
      values[tensor.name] = found->second;
    }
  }
  auto shapeOf = [&](const std::string& name, const std::string& layer) -> const Shape& {
    auto found = shapes.find(name);
    if (found == shapes.end()) throw std::runtime_error("layer " + layer + " reads unknown tensor " + name);
    return found->second;
  };
  for (const auto& layer : network.layers) {
    Shape out;
    const Shape& a = shapeOf(layer.inputs.at(0), layer.name);
    if (layer.op == "Add" || layer.op == "Sub" || layer.op == "Mul" || layer.op == "Div") {
      out = Broadcast(a, shapeOf(layer.inputs.at(1), layer.name), layer.name);
    } else if (layer.op == "MatMul") {
      const Shape& b = shapeOf(layer.inputs.at(1), layer.name);
      if (a.size() < 2 || b.size() != 2) throw std::runtime_error("layer " + layer.name + ": unsupported MatMul ranks");
      if (a.back() >= 0 && a.back() != b[0]) {
        throw std::runtime_error("layer " + layer.name + ": MatMul of " + ShapeText(a) + " by " + ShapeText(b));
      }
      out = a;
      out.back() = b[1];
    } else if (layer.op == "NonZero") {
      out = {static_cast<int64_t>(a.size()), -1};  // how many: only the inference knows
    } else if (layer.op == "Reshape") {
      auto found = values.find(layer.inputs.at(1));
      if (found == values.end()) {
        throw std::runtime_error("layer " + layer.name + ": the target shape must be a constant or a shape tensor");
      }
      out.assign(found->second.begin(), found->second.end());
      int64_t known = 1;
      int inferred = -1;
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == 0 && i < a.size()) out[i] = a[i];
        if (out[i] == -1) {
          inferred = static_cast<int>(i);
        } else {
          known *= out[i];
        }
      }
      const int64_t total = ElementCount(a);
      if (inferred >= 0 && known > 0 && total >= 0) out[inferred] = total / known;
      if (total >= 0 && ElementCount(out) != total) {
        throw std::runtime_error("layer " + layer.name + ": cannot reshape " + ShapeText(a) + " to " + ShapeText(out));
      }
    } else {
      out = a;  // Identity, Relu, Cast, Plugin
    }
    for (const auto& output : layer.outputs) shapes[output] = out;
  }
  for (const auto& tensor : network.io) {
    if (!tensor.isInput && shapes.find(tensor.name) == shapes.end()) {
      throw std::runtime_error("output " + tensor.name + " is computed by no layer");
    }
  }
  return shapes;
}

int64_t DeviceMemoryForProfile(const Network& network, int32_t profile) {
  try {
    ShapeInputs inputs;
    for (const auto& tensor : network.io) {
      if (!tensor.isInput) continue;
      Shape shape = tensor.dims;
      if (profile >= 0 && static_cast<size_t>(profile) < network.profiles.size()) {
        const auto& bounds = network.profiles[static_cast<size_t>(profile)];
        if (auto found = bounds.dims.find(tensor.name); found != bounds.dims.end()) shape = found->second.max;
        if (auto found = bounds.values.find(tensor.name); found != bounds.values.end()) {
          inputs.shapeValues[tensor.name] = found->second.max;
        }
      }
      inputs.inputShapes[tensor.name] = shape;
    }
    // Intermediate tensors only: inputs and outputs live in the application's memory.
    int64_t bytes = 256;
    for (const auto& [name, shape] : InferShapes(network, inputs)) {
      const int64_t count = ElementCount(shape);
      if (count > 0 && network.find(name) == nullptr) bytes += count * 4;
    }
    return bytes;
  } catch (...) {
    return 1024;
  }
}

}  // namespace trt_node::fake_trt
