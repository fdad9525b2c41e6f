// Tiny ONNX models for the fake TensorRT protocol tests, written byte by byte (the few ModelProto
// fields they need; field numbers from onnx/onnx.proto), the C++ twin of test/helpers/tiny-onnx.mjs.
// Fake-only knobs go into metadata_props as "fake-tensorrt:<knob>" (see
// native/emulated/tensorrt/src/onnx_reader.h). EMULATION: these models run on the fake TensorRT only.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace trt_node::testing {

enum ElementType : int { kFloat = 1, kInt32 = 6, kInt64 = 7, kFloat16 = 10 };

struct ValueSpec {
  std::string name;
  int elemType = kFloat;
  std::vector<std::variant<int64_t, std::string>> dims;  // a string: a symbolic (dynamic) dimension
};

struct Initializer {
  std::string name;
  std::vector<int64_t> dims;
  std::vector<float> values;
};

struct NodeSpec {
  std::string op;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  int64_t castTo = 0;  // Cast's "to"
};

struct ModelSpec {
  std::string name = "tiny";
  std::vector<ValueSpec> inputs, outputs;
  std::vector<Initializer> initializers;
  std::vector<NodeSpec> nodes;
  std::map<std::string, std::string> metadata;
};

namespace onnx_bytes {

inline void Varint(std::string& out, uint64_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value != 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (value != 0);
}
inline void Key(std::string& out, int field, int wire) { Varint(out, static_cast<uint64_t>(field << 3 | wire)); }
inline void Bytes(std::string& out, int field, const std::string& payload) {
  Key(out, field, 2);
  Varint(out, payload.size());
  out += payload;
}
inline void Integer(std::string& out, int field, int64_t value) {
  Key(out, field, 0);
  Varint(out, static_cast<uint64_t>(value));
}

inline std::string ValueInfo(const ValueSpec& value) {
  std::string shape;
  for (const auto& dim : value.dims) {
    std::string dimension;
    if (std::holds_alternative<int64_t>(dim)) {
      Integer(dimension, 1, std::get<int64_t>(dim));
    } else {
      Bytes(dimension, 2, std::get<std::string>(dim));
    }
    Bytes(shape, 1, dimension);
  }
  std::string tensorType;
  Integer(tensorType, 1, value.elemType);
  Bytes(tensorType, 2, shape);
  std::string type;
  Bytes(type, 1, tensorType);
  std::string info;
  Bytes(info, 1, value.name);
  Bytes(info, 2, type);
  return info;
}

}  // namespace onnx_bytes

inline std::string EncodeModel(const ModelSpec& model) {
  using namespace onnx_bytes;
  std::string graph;
  for (const auto& node : model.nodes) {
    std::string proto;
    for (const auto& input : node.inputs) Bytes(proto, 1, input);
    for (const auto& output : node.outputs) Bytes(proto, 2, output);
    Bytes(proto, 3, node.op + "_" + node.outputs.front());
    Bytes(proto, 4, node.op);
    if (node.op == "Cast") {
      std::string attribute;
      Bytes(attribute, 1, "to");
      Integer(attribute, 3, node.castTo);
      Integer(attribute, 20, 2);  // AttributeType INT
      Bytes(proto, 5, attribute);
    }
    Bytes(graph, 1, proto);
  }
  Bytes(graph, 2, model.name);
  for (const auto& initializer : model.initializers) {
    std::string tensor;
    for (int64_t dim : initializer.dims) Integer(tensor, 1, dim);
    Integer(tensor, 2, kFloat);
    Bytes(tensor, 8, initializer.name);
    std::string raw(initializer.values.size() * sizeof(float), '\0');
    if (!raw.empty()) std::memcpy(raw.data(), initializer.values.data(), raw.size());
    Bytes(tensor, 9, raw);
    Bytes(graph, 5, tensor);
  }
  for (const auto& input : model.inputs) Bytes(graph, 11, ValueInfo(input));
  for (const auto& output : model.outputs) Bytes(graph, 12, ValueInfo(output));
  std::string bytes;
  Integer(bytes, 1, 8);  // ir_version
  Bytes(bytes, 2, "tensorrt-node emulated tests");
  Bytes(bytes, 7, graph);
  std::string opset;
  Bytes(opset, 1, "");
  Integer(opset, 2, 17);
  Bytes(bytes, 8, opset);
  for (const auto& [key, value] : model.metadata) {
    std::string entry;
    Bytes(entry, 1, key);
    Bytes(entry, 2, value);
    Bytes(bytes, 14, entry);
  }
  return bytes;
}

inline void WriteModel(const ModelSpec& model, const std::string& path) {
  std::ofstream file(path, std::ios::binary);
  file << EncodeModel(model);
}

// y = x * a + b for x float [batch, 4] (the fake computes it in float32).
inline ModelSpec AffineModel(float a = 2.0f, float b = 1.0f) {
  ModelSpec model;
  model.name = "affine";
  model.inputs = {{"x", kFloat, {std::string("batch"), int64_t{4}}}};
  model.outputs = {{"y", kFloat, {std::string("batch"), int64_t{4}}}};
  model.initializers = {{"a", {}, {a}}, {"b", {}, {b}}};
  model.nodes = {{"Mul", {"x", "a"}, {"xa"}}, {"Add", {"xa", "b"}, {"y"}}};
  return model;
}

// indices = NonZero(x) int64 [2, nnz] (data-dependent) next to y = Relu(x), x float [2, 4].
inline ModelSpec NonZeroModel() {
  ModelSpec model;
  model.name = "nonzero";
  model.inputs = {{"x", kFloat, {int64_t{2}, int64_t{4}}}};
  model.outputs = {{"y", kFloat, {int64_t{2}, int64_t{4}}}, {"indices", kInt64, {int64_t{2}, std::string("nnz")}}};
  model.nodes = {{"Relu", {"x"}, {"y"}}, {"NonZero", {"x"}, {"indices"}}};
  return model;
}

// y = Reshape(x, shape): `shape` int64 [2] is a shape-tensor input (TensorRT keeps it on the host).
inline ModelSpec ReshapeModel() {
  ModelSpec model;
  model.name = "reshape";
  model.inputs = {{"x", kFloat, {std::string("n")}}, {"shape", kInt64, {int64_t{2}}}};
  model.outputs = {{"y", kFloat, {std::string("rows"), std::string("cols")}}};
  model.nodes = {{"Reshape", {"x", "shape"}, {"y"}}};
  return model;
}

}  // namespace trt_node::testing
