#include "trt/library.h"

#include <map>

#include "core/error.h"
#include "trt/logger.h"

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
  std::unique_lock<std::mutex> lock(mutex);
  const std::string key = options.libraryPath;
  if (auto found = libraries->find(key); found != libraries->end()) {
    std::shared_ptr<TensorRTLibrary> library = found->second;
    lock.unlock();
    if (options.loadPlugins) library->loadPlugins();
    return library;
  }

  LibraryRequest request;
  request.expectedMajor = kHeadersMajor;
  request.libraryPath = options.libraryPath;
  request.extraDirs = options.extraDirs;
  request.requiredSymbols = {"getInferLibVersion", "createInferRuntime_INTERNAL", "createInferBuilder_INTERNAL"};
  LoadedLibrary loaded = Load(request, SearchEnvironment::FromProcess());
  std::shared_ptr<TensorRTLibrary> library(new TensorRTLibrary(std::move(loaded), options));
  libraries->emplace(key, library);
  lock.unlock();
  if (options.loadPlugins) library->loadPlugins();
  return library;
}

// libnvonnxparser and libnvinfer_plugin of the same install as libnvinfer: its folder first (a
// library from another TensorRT install would not match), then where libnvinfer was searched.
LibraryRequest TensorRTLibrary::CompanionRequest(const std::string& baseName) const {
  LibraryRequest request;
  request.baseName = baseName;
  request.expectedMajor = loaded_.version.major;
  request.probeMajors = {loaded_.version.major};
  request.versionSymbol.clear();  // their own version numbering differs from TensorRT's
  const std::string folder = FolderOf(path());
  request.libraryPath = options_.libraryPath.empty() ? std::string() : folder;
  if (request.libraryPath.empty() && !folder.empty()) request.extraDirs.push_back(folder);
  for (const auto& dir : options_.extraDirs) request.extraDirs.push_back(dir);
  return request;
}

PluginStatus TensorRTLibrary::loadPlugins() {
  std::lock_guard<std::mutex> lock(pluginMutex_);
  if (plugins_.attempted) return plugins_;
  plugins_.attempted = true;
  LibraryRequest request = CompanionRequest("libnvinfer_plugin");
  request.requiredSymbols = {"initLibNvInferPlugins"};
  LoadOutcome outcome = TryLoad(request, SearchEnvironment::FromProcess());
  if (!outcome.loaded) {
    plugins_.reason = "libnvinfer_plugin.so." + std::to_string(loaded_.version.major) +
                      " was not found or not usable:\n" + DescribeAttempts(outcome.attempts);
  } else {
    using InitFn = bool (*)(void* logger, const char* libNamespace);
    auto init = reinterpret_cast<InitFn>(outcome.loaded->library->symbol("initLibNvInferPlugins"));
    // The default namespace "": standard plugins as ONNX models and engines name them.
    if (init != nullptr && init(&Logger::Instance(), "")) {
      pluginLibrary_ = outcome.loaded->library;
      plugins_.loaded = true;
      plugins_.path = outcome.loaded->candidate.path;
    } else {
      plugins_.reason = "initLibNvInferPlugins failed in " + outcome.loaded->candidate.path;
    }
  }
  if (!plugins_.loaded) {
    const std::string message =
        "tensorrt-node: TensorRT's standard plugins are unavailable (engines and models "
        "that use them will not load or build): " +
        plugins_.reason;
    Logger::Instance().log(Severity::kWARNING, message.c_str());
  }
  return plugins_;
}

PluginStatus TensorRTLibrary::pluginStatus() const {
  std::lock_guard<std::mutex> lock(pluginMutex_);
  return plugins_;
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
      LibraryRequest request = CompanionRequest("libnvonnxparser");
      request.requiredSymbols = {"createNvOnnxParser_INTERNAL"};
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
