#include "onnx_reader.h"

#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "interpreter.h"

namespace trt_node::fake_trt {
namespace {

constexpr int kModelDeserializeFailed = 3;
constexpr int kInvalidGraph = 5;
constexpr int kUnsupportedNode = 8;

OnnxError Malformed(const std::string& what) {
  return OnnxError(-1, "", "", "Failed to parse the ONNX model: " + what, kModelDeserializeFailed);
}

// Protobuf wire format, only as much as ModelProto needs.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : data_(bytes) {}
  bool more() const noexcept { return offset_ < data_.size(); }
  bool next(uint32_t& field, uint32_t& wire) {
    if (offset_ >= data_.size()) return false;
    const uint64_t key = varint();
    field = static_cast<uint32_t>(key >> 3);
    wire = static_cast<uint32_t>(key & 7);
    return true;
  }
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (offset_ >= data_.size()) throw Malformed("truncated varint");
      const auto byte = static_cast<uint8_t>(data_[offset_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    throw Malformed("varint too long");
  }
  std::string_view bytes() {
    const uint64_t length = varint();
    if (length > data_.size() - offset_) throw Malformed("truncated field");
    std::string_view out = data_.substr(offset_, length);
    offset_ += length;
    return out;
  }
  uint32_t fixed32() {
    if (data_.size() - offset_ < 4) throw Malformed("truncated fixed32");
    uint32_t value;
    std::memcpy(&value, data_.data() + offset_, 4);
    offset_ += 4;
    return value;
  }
  void skip(uint32_t wire) {
    switch (wire) {
      case 0:
        varint();
        break;
      case 1:
        if (data_.size() - offset_ < 8) throw Malformed("truncated fixed64");
        offset_ += 8;
        break;
      case 2:
        bytes();
        break;
      case 5:
        fixed32();
        break;
      default:
        throw Malformed("unknown wire type " + std::to_string(wire));
    }
  }

 private:
  std::string_view data_;
  size_t offset_ = 0;
};

struct ValueInfo {
  std::string name;
  int elemType = 0;
  Shape dims;
  bool hasShape = false;
};

struct Tensor {
  std::string name;
  Shape dims;
  int dataType = 0;
  std::string raw;
  std::vector<double> values;
};

struct Node {
  std::string name, op;
  std::vector<std::string> inputs, outputs;
  int64_t to = 1;  // Cast
};

ValueInfo ReadValueInfo(std::string_view bytes) {
  ValueInfo info;
  Reader reader(bytes);
  uint32_t field, wire;
  while (reader.next(field, wire)) {
    if (field == 1 && wire == 2) {
      info.name = std::string(reader.bytes());
    } else if (field == 2 && wire == 2) {  // TypeProto
      Reader type(reader.bytes());
      while (type.next(field, wire)) {
        if (field == 1 && wire == 2) {  // tensor_type
          Reader tensorType(type.bytes());
          while (tensorType.next(field, wire)) {
            if (field == 1 && wire == 0) {
              info.elemType = static_cast<int>(tensorType.varint());
            } else if (field == 2 && wire == 2) {  // shape
              info.hasShape = true;
              Reader shape(tensorType.bytes());
              while (shape.next(field, wire)) {
                if (field == 1 && wire == 2) {
                  Reader dim(shape.bytes());
                  int64_t value = -1;
                  while (dim.next(field, wire)) {
                    if (field == 1 && wire == 0) {
                      value = static_cast<int64_t>(dim.varint());
                    } else {
                      dim.skip(wire);
                    }
                  }
                  info.dims.push_back(value);
                } else {
                  shape.skip(wire);
                }
              }
            } else {
              tensorType.skip(wire);
            }
          }
        } else {
          type.skip(wire);
        }
      }
    } else {
      reader.skip(wire);
    }
  }
  return info;
}

Tensor ReadTensor(std::string_view bytes) {
  Tensor tensor;
  Reader reader(bytes);
  uint32_t field, wire;
  std::vector<double> floatData, intData;
  while (reader.next(field, wire)) {
    if (field == 1) {
      if (wire == 2) {
        Reader packed(reader.bytes());
        while (packed.more()) tensor.dims.push_back(static_cast<int64_t>(packed.varint()));
      } else {
        tensor.dims.push_back(static_cast<int64_t>(reader.varint()));
      }
    } else if (field == 2 && wire == 0) {
      tensor.dataType = static_cast<int>(reader.varint());
    } else if (field == 4) {  // float_data
      if (wire == 2) {
        std::string_view packed = reader.bytes();
        for (size_t i = 0; i + 4 <= packed.size(); i += 4) {
          float value;
          std::memcpy(&value, packed.data() + i, 4);
          floatData.push_back(value);
        }
      } else {
        const uint32_t bits = reader.fixed32();
        float value;
        std::memcpy(&value, &bits, 4);
        floatData.push_back(value);
      }
    } else if ((field == 5 || field == 7) && (wire == 0 || wire == 2)) {  // int32_data, int64_data
      if (wire == 2) {
        Reader packed(reader.bytes());
        while (packed.more()) intData.push_back(static_cast<double>(static_cast<int64_t>(packed.varint())));
      } else {
        intData.push_back(static_cast<double>(static_cast<int64_t>(reader.varint())));
      }
    } else if (field == 8 && wire == 2) {
      tensor.name = std::string(reader.bytes());
    } else if (field == 9 && wire == 2) {
      tensor.raw = std::string(reader.bytes());
    } else {
      reader.skip(wire);
    }
  }
  const int64_t count = ElementCount(tensor.dims);
  if (!tensor.raw.empty()) {
    nvinfer1::DataType type;
    switch (tensor.dataType) {
      case 1:
        type = nvinfer1::DataType::kFLOAT;
        break;
      case 10:
        type = nvinfer1::DataType::kHALF;
        break;
      case 6:
        type = nvinfer1::DataType::kINT32;
        break;
      case 7:
        type = nvinfer1::DataType::kINT64;
        break;
      default:
        throw Malformed("initializer " + tensor.name + " has unsupported data type " + std::to_string(tensor.dataType));
    }
    const size_t size = DataTypeSize(type);
    if (count < 0 || tensor.raw.size() != static_cast<size_t>(count) * size) {
      throw Malformed("initializer " + tensor.name + " has the wrong number of bytes");
    }
    for (int64_t i = 0; i < count; ++i) tensor.values.push_back(Load(tensor.raw.data(), type, static_cast<size_t>(i)));
  } else {
    tensor.values = !floatData.empty() ? floatData : intData;
  }
  if (count >= 0 && tensor.values.size() != static_cast<size_t>(count)) {
    throw Malformed("initializer " + tensor.name + " has " + std::to_string(tensor.values.size()) +
                    " values for shape " + ShapeText(tensor.dims));
  }
  return tensor;
}

Node ReadNode(std::string_view bytes) {
  Node node;
  Reader reader(bytes);
  uint32_t field, wire;
  while (reader.next(field, wire)) {
    if (wire != 2) {
      reader.skip(wire);
      continue;
    }
    switch (field) {
      case 1:
        node.inputs.emplace_back(reader.bytes());
        break;
      case 2:
        node.outputs.emplace_back(reader.bytes());
        break;
      case 3:
        node.name = std::string(reader.bytes());
        break;
      case 4:
        node.op = std::string(reader.bytes());
        break;
      case 5: {  // AttributeProto { name = 1, i = 3 }
        Reader attribute(reader.bytes());
        std::string name;
        int64_t integer = 0;
        while (attribute.next(field, wire)) {
          if (field == 1 && wire == 2) {
            name = std::string(attribute.bytes());
          } else if (field == 3 && wire == 0) {
            integer = static_cast<int64_t>(attribute.varint());
          } else {
            attribute.skip(wire);
          }
        }
        if (name == "to") node.to = integer;
        break;
      }
      default:
        reader.skip(wire);
    }
  }
  return node;
}

nvinfer1::DataType ToDataType(int elemType, const std::string& what) {
  switch (elemType) {
    case 1:
      return nvinfer1::DataType::kFLOAT;
    case 10:
      return nvinfer1::DataType::kHALF;
    case 16:
      return nvinfer1::DataType::kBF16;
    case 6:
      return nvinfer1::DataType::kINT32;
    case 7:
      return nvinfer1::DataType::kINT64;
    case 3:
      return nvinfer1::DataType::kINT8;
    case 2:
      return nvinfer1::DataType::kUINT8;
    case 9:
      return nvinfer1::DataType::kBOOL;
    default:
      throw OnnxError(-1, "", "",
                      what + " has an element type the fake TensorRT does not support: " + std::to_string(elemType),
                      kInvalidGraph);
  }
}

std::optional<nvinfer1::TensorFormat> ParseFormat(const std::string& name) {
  for (int value = 0; value <= 12; ++value) {
    const auto format = static_cast<nvinfer1::TensorFormat>(value);
    if (name == FormatName(format)) return format;
  }
  return std::nullopt;
}

}  // namespace

Network ReadOnnxModel(const std::string& bytes, bool pluginsAvailable) {
  Network network;
  std::vector<ValueInfo> inputs, outputs;
  std::vector<Tensor> initializers;
  std::vector<Node> nodes;
  std::map<std::string, std::string> metadata;

  Reader model(bytes);
  uint32_t field, wire;
  bool sawGraph = false;
  while (model.next(field, wire)) {
    if (field == 7 && wire == 2) {
      sawGraph = true;
      Reader graph(model.bytes());
      while (graph.next(field, wire)) {
        if (wire != 2) {
          graph.skip(wire);
          continue;
        }
        switch (field) {
          case 1:
            nodes.push_back(ReadNode(graph.bytes()));
            break;
          case 2:
            network.name = std::string(graph.bytes());
            break;
          case 5:
            initializers.push_back(ReadTensor(graph.bytes()));
            break;
          case 11:
            inputs.push_back(ReadValueInfo(graph.bytes()));
            break;
          case 12:
            outputs.push_back(ReadValueInfo(graph.bytes()));
            break;
          default:
            graph.skip(wire);
        }
      }
    } else if (field == 14 && wire == 2) {  // StringStringEntryProto { key = 1, value = 2 }
      Reader entry(model.bytes());
      std::string key, value;
      while (entry.next(field, wire)) {
        if (field == 1 && wire == 2) {
          key = std::string(entry.bytes());
        } else if (field == 2 && wire == 2) {
          value = std::string(entry.bytes());
        } else {
          entry.skip(wire);
        }
      }
      metadata[key] = value;
    } else {
      model.skip(wire);
    }
  }
  if (!sawGraph) throw Malformed("the model has no graph");

  std::set<std::string> initializerNames;
  for (const auto& tensor : initializers) {
    initializerNames.insert(tensor.name);
    network.constants.push_back(Constant{tensor.name, tensor.dims, tensor.values});
  }
  // Inputs that feed the target shape of a Reshape are shape tensors: TensorRT keeps them on the host.
  std::set<std::string> shapeInputs;
  for (const auto& node : nodes) {
    if (node.op == "Reshape" && node.inputs.size() > 1) shapeInputs.insert(node.inputs[1]);
  }
  for (const auto& input : inputs) {
    if (initializerNames.count(input.name)) continue;
    TensorSpec tensor;
    tensor.name = input.name;
    tensor.isInput = true;
    tensor.dtype = ToDataType(input.elemType, "input " + input.name);
    tensor.dims = input.dims;
    tensor.shapeTensor = shapeInputs.count(input.name) > 0;
    network.io.push_back(std::move(tensor));
  }
  for (size_t index = 0; index < nodes.size(); ++index) {
    const Node& node = nodes[index];
    Layer layer;
    layer.name = node.name.empty() ? node.op + "_" + std::to_string(index) : node.name;
    layer.inputs = node.inputs;
    layer.outputs = node.outputs;
    static const std::set<std::string> supported = {"Add",  "Sub",  "Mul",      "Div",     "MatMul",
                                                    "Relu", "Cast", "Identity", "NonZero", "Reshape"};
    if (supported.count(node.op)) {
      layer.op = node.op;
      if (node.op == "Cast") layer.castTo = ToDataType(static_cast<int>(node.to), "Cast node " + layer.name);
    } else if (pluginsAvailable && node.op.size() > 4 && node.op.compare(node.op.size() - 4, 4, "_TRT") == 0) {
      layer.op = "Plugin";
      layer.plugin = node.op;
    } else {
      throw OnnxError(static_cast<int>(index), layer.name, node.op,
                      "No importer registered for op: " + node.op +
                          ". Attempting to import as plugin. Plugin not found: are you missing a plugin library?",
                      kUnsupportedNode);
    }
    if (layer.inputs.empty() || layer.outputs.empty()) {
      throw OnnxError(static_cast<int>(index), layer.name, node.op, "node has no inputs or outputs", kInvalidGraph);
    }
    network.layers.push_back(std::move(layer));
  }
  for (const auto& output : outputs) {
    TensorSpec tensor;
    tensor.name = output.name;
    tensor.isInput = false;
    tensor.dtype = ToDataType(output.elemType, "output " + output.name);
    if (!output.hasShape) throw OnnxError(-1, "", "", "output " + output.name + " has no shape", kInvalidGraph);
    tensor.dims = output.dims;
    network.io.push_back(std::move(tensor));
  }

  for (const auto& [key, value] : metadata) {
    const std::string prefix = "fake-tensorrt:";
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string knob = key.substr(prefix.size());
    if (knob == "kernel-us") {
      network.kernelMicros = std::stoll(value);
    } else if (knob == "fail-captures") {
      network.failCaptures = std::stoi(value);
    } else if (knob == "host-code") {
      network.hostCode = value == "1" || value == "true";
    } else if (knob == "fail-build") {
      network.failBuild = value;
    } else if (knob == "load-ms") {
      network.loadMillis = std::stoll(value);
    } else if (knob == "build-ms") {
      network.buildMillis = std::stoll(value);
    } else if (knob.rfind("format:", 0) == 0) {
      const std::string tensorName = knob.substr(7);
      auto* tensor = const_cast<TensorSpec*>(network.find(tensorName));
      const auto colon = value.find(':');
      const int profile = colon == std::string::npos ? -1 : std::stoi(value.substr(0, colon));
      const auto format = ParseFormat(colon == std::string::npos ? value : value.substr(colon + 1));
      if (tensor == nullptr || !format) throw Malformed("bad knob " + key + "=" + value);
      tensor->formats[profile] = *format;
    }
  }
  return network;
}

}  // namespace trt_node::fake_trt
