// libnvonnxparser of the fake TensorRT: reads an ONNX file with the fake's minimal reader and
// defines the fake network with it. Errors are kept as IParserError (node index, name, operator,
// description) and logged, as TensorRT's parser does.
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "objects.h"
#include "onnx_reader.h"

namespace trt_node::fake_trt {
namespace {

class FakeParserError final : public nvonnxparser::IParserError {
 public:
  FakeParserError(nvonnxparser::ErrorCode code, std::string desc, int node, std::string nodeName, std::string op)
      : code_(code), desc_(std::move(desc)), node_(node), nodeName_(std::move(nodeName)), op_(std::move(op)) {}
  ~FakeParserError() override = default;
  nvonnxparser::ErrorCode code() const override { return code_; }
  char const* desc() const override { return desc_.c_str(); }
  int node() const override { return node_; }
  char const* nodeName() const override { return nodeName_.c_str(); }
  char const* nodeOperator() const override { return op_.c_str(); }

 private:
  nvonnxparser::ErrorCode code_;
  std::string desc_;
  int node_;
  std::string nodeName_;
  std::string op_;
};

class FakeParser final : public nvonnxparser::IParser {
 public:
  FakeParser(FakeNetworkDefinition& network, nvinfer1::ILogger* logger)
      : network_(network), sink_(NewObjectName("parser"), logger) {
    CountLive("parser", 1);
    Record(name(), "create", "network=" + network.objectName());
  }
  ~FakeParser() noexcept override {
    Record(name(), "destroy", ThreadLabel());
    CountLive("parser", -1);
  }
  const std::string& name() const noexcept { return sink_.owner(); }

  bool parseFromFile(char const* onnxModelFile, int verbosity) noexcept override {
    const std::string path = onnxModelFile != nullptr ? onnxModelFile : "";
    Record(name(), "parseFromFile", "verbosity=" + std::to_string(verbosity));
    try {
      std::ifstream file(path, std::ios::binary);
      if (!file) {
        return Fail(nvonnxparser::ErrorCode::kMODEL_DESERIALIZE_FAILED, "Failed to open file: " + path, -1, "", "");
      }
      std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      Network network = ReadOnnxModel(bytes, PluginsInitialized());
      network_.define(std::move(network));
      return true;
    } catch (const OnnxError& error) {
      return Fail(static_cast<nvonnxparser::ErrorCode>(error.code), error.what(), error.node, error.nodeName, error.op);
    } catch (const std::exception& error) {
      return Fail(nvonnxparser::ErrorCode::kINTERNAL_ERROR, error.what(), -1, "", "");
    }
  }
  int getNbErrors() const noexcept override { return static_cast<int>(errors_.size()); }
  nvonnxparser::IParserError const* getError(int index) const noexcept override {
    if (index < 0 || static_cast<size_t>(index) >= errors_.size()) return nullptr;
    return errors_[static_cast<size_t>(index)].get();
  }

 private:
  bool Fail(nvonnxparser::ErrorCode code, const std::string& desc, int node, const std::string& nodeName,
            const std::string& op) {
    errors_.push_back(std::make_unique<FakeParserError>(code, desc, node, nodeName, op));
    Record(name(), "error", desc);
    sink_.log(nvinfer1::ILogger::Severity::kERROR, "ModelImporter (fake TensorRT): " + desc);
    return false;
  }

  FakeNetworkDefinition& network_;
  ErrorSink sink_;
  std::vector<std::unique_ptr<FakeParserError>> errors_;
};

}  // namespace
}  // namespace trt_node::fake_trt

extern "C" void* createNvOnnxParser_INTERNAL(void* network, void* logger, int version) noexcept {
  trt_node::fake_trt::Record("parserLibrary", "createNvOnnxParser_INTERNAL", "version=" + std::to_string(version));
  if (network == nullptr) return nullptr;
  try {
    // Only the fake's own networks reach this library.
    auto* definition =
        static_cast<trt_node::fake_trt::FakeNetworkDefinition*>(static_cast<nvinfer1::INetworkDefinition*>(network));
    return new trt_node::fake_trt::FakeParser(*definition, static_cast<nvinfer1::ILogger*>(logger));
  } catch (...) {
    return nullptr;
  }
}

extern "C" int getNvOnnxParserVersion() noexcept { return NV_ONNX_PARSER_VERSION; }
