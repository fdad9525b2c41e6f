#include "trt/library.h"

#include <map>

#include "core/error.h"

namespace trt_node::trt {
namespace {

std::string FolderOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

TensorRTLibrary::TensorRTLibrary(LoadedLibrary loaded, LibraryOptions options)
    : loaded_(std::move(loaded)), options_(std::move(options)) {
  createRuntime_ = reinterpret_cast<CreateFn>(loaded_.library->symbol("createInferRuntime_INTERNAL"));
  createBuilder_ = reinterpret_cast<CreateFn>(loaded_.library->symbol("createInferBuilder_INTERNAL"));
}

std::shared_ptr<TensorRTLibrary> TensorRTLibrary::Get(const LibraryOptions& options) {
  static std::mutex mutex;
  // Process-wide on purpose (dlopen is process-wide); intentionally never destroyed.
  static auto* libraries = new std::map<std::string, std::shared_ptr<TensorRTLibrary>>();
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = options.libraryPath;
  if (auto found = libraries->find(key); found != libraries->end()) return found->second;

  LibraryRequest request;
  request.expectedMajor = kHeadersMajor;
  request.libraryPath = options.libraryPath;
  request.extraDirs = options.extraDirs;
  request.requiredSymbols = {"getInferLibVersion", "createInferRuntime_INTERNAL", "createInferBuilder_INTERNAL"};
  LoadedLibrary loaded = Load(request, SearchEnvironment::FromProcess());
  std::shared_ptr<TensorRTLibrary> library(new TensorRTLibrary(std::move(loaded), options));
  libraries->emplace(key, library);
  return library;
}

nvinfer1::IRuntime* TensorRTLibrary::createRuntime(nvinfer1::ILogger& logger) const {
  auto* runtime = static_cast<nvinfer1::IRuntime*>(createRuntime_(&logger, kHeadersVersion));
  if (runtime == nullptr) {
    throw NativeError("ERR_TENSORRT", "TensorRT " + loaded_.version.toString() + " at " + path() +
                                          " refused to create a runtime for headers " +
                                          std::to_string(kHeadersVersion));
  }
  return runtime;
}

nvinfer1::IBuilder* TensorRTLibrary::createBuilder(nvinfer1::ILogger& logger) const {
  auto* builder = static_cast<nvinfer1::IBuilder*>(createBuilder_(&logger, kHeadersVersion));
  if (builder == nullptr) {
    throw NativeError("ERR_TENSORRT", "TensorRT " + loaded_.version.toString() + " at " + path() +
                                          " refused to create a builder (is a CUDA device available?)");
  }
  return builder;
}

nvonnxparser::IParser* TensorRTLibrary::createOnnxParser(nvinfer1::INetworkDefinition& network,
                                                         nvinfer1::ILogger& logger) {
  {
    std::lock_guard<std::mutex> lock(parserMutex_);
    if (createParser_ == nullptr) {
      LibraryRequest request;
      request.baseName = "libnvonnxparser";
      request.expectedMajor = loaded_.version.major;
      request.probeMajors = {loaded_.version.major};
      request.versionSymbol.clear();  // the parser's own version numbering differs from TensorRT's
      request.requiredSymbols = {"createNvOnnxParser_INTERNAL"};
      // Next to libnvinfer first: a parser from another TensorRT install would not match.
      const std::string folder = FolderOf(path());
      request.libraryPath = options_.libraryPath.empty() ? std::string() : folder;
      if (request.libraryPath.empty() && !folder.empty()) request.extraDirs.push_back(folder);
      for (const auto& dir : options_.extraDirs) request.extraDirs.push_back(dir);
      LoadedLibrary parser = Load(request, SearchEnvironment::FromProcess());
      parserLibrary_ = parser.library;
      createParser_ = reinterpret_cast<CreateParserFn>(parserLibrary_->symbol("createNvOnnxParser_INTERNAL"));
    }
  }
  auto* parser = static_cast<nvonnxparser::IParser*>(createParser_(&network, &logger, NV_ONNX_PARSER_VERSION));
  if (parser == nullptr) throw NativeError("ERR_TENSORRT", "The TensorRT ONNX parser could not be created");
  return parser;
}

}  // namespace trt_node::trt
