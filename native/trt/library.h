// libnvinfer (and, lazily, libnvonnxparser) opened with dlopen and the C entry points resolved.
// Loaded once per process and per explicit library path; never unloaded (TensorRT objects may
// outlive any one JavaScript object). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "trt/api.h"
#include "trt/loader/library_search.h"

namespace trt_node::trt {

struct LibraryOptions {
  std::string libraryPath;             // explicit folder or file; empty = search
  std::vector<std::string> extraDirs;  // pip tensorrt_libs folders found by JavaScript
  // Load libnvinfer_plugin.so.<major> when present and call initLibNvInferPlugins, so that engines
  // and ONNX models using TensorRT's standard plugins (EfficientNMS_TRT, ...) load and build.
  bool loadPlugins = true;
};

// What became of TensorRT's standard plugin library.
struct PluginStatus {
  bool attempted = false;
  bool loaded = false;
  std::string path;    // the library initialized, when loaded
  std::string reason;  // why not, when attempted and not loaded
};

class TensorRTLibrary {
 public:
  // The library for these options, loading it on first use. Throws NativeError
  // (ERR_TENSORRT_NOT_FOUND / _VERSION / _SYMBOL / _LOAD) listing every attempt.
  static std::shared_ptr<TensorRTLibrary> Get(const LibraryOptions& options);

  TensorRTLibrary(const TensorRTLibrary&) = delete;
  TensorRTLibrary& operator=(const TensorRTLibrary&) = delete;

  const LibraryVersion& version() const noexcept { return loaded_.version; }
  const std::string& path() const noexcept { return loaded_.candidate.path; }

  // Each returns a new object owned by the caller, or throws NativeError with what TensorRT logged.
  nvinfer1::IRuntime* createRuntime(nvinfer1::ILogger& logger) const;
  nvinfer1::IBuilder* createBuilder(nvinfer1::ILogger& logger) const;
  // Loads libnvonnxparser.so.<major> on first use (from libnvinfer's folder first).
  nvonnxparser::IParser* createOnnxParser(nvinfer1::INetworkDefinition& network, nvinfer1::ILogger& logger);

  // Loads libnvinfer_plugin.so.<major> (libnvinfer's folder first) and registers the standard
  // plugins, once. Never throws: a missing plugin library only matters to engines that use plugins,
  // and TensorRT names the plugin it cannot find when one does.
  PluginStatus loadPlugins();
  PluginStatus pluginStatus() const;

 private:
  explicit TensorRTLibrary(LoadedLibrary loaded, LibraryOptions options);

  using CreateFn = void* (*)(void* logger, int32_t version);
  using CreateParserFn = void* (*)(void* network, void* logger, int version);

  LoadedLibrary loaded_;
  LibraryOptions options_;
  CreateFn createRuntime_ = nullptr;
  CreateFn createBuilder_ = nullptr;

  std::mutex parserMutex_;
  std::shared_ptr<SharedLibrary> parserLibrary_;
  CreateParserFn createParser_ = nullptr;

  LibraryRequest CompanionRequest(const std::string& baseName) const;
  mutable std::mutex pluginMutex_;
  std::shared_ptr<SharedLibrary> pluginLibrary_;
  PluginStatus plugins_;
};

}  // namespace trt_node::trt
