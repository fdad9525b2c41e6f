// RAII over a dlopen handle. TensorRT is never linked: libnvinfer and friends are opened here at run
// time, so a machine without TensorRT loads the addon fine and learns why TensorRT is unavailable.
#pragma once

#include <string>

namespace trt_node::trt {

class SharedLibrary {
 public:
  SharedLibrary() = default;
  ~SharedLibrary();
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  SharedLibrary(SharedLibrary&& other) noexcept;
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;

  // Opens `pathOrSoname` with RTLD_NOW | RTLD_LOCAL. On failure returns an empty library and puts
  // the dynamic linker's message into `error`.
  static SharedLibrary Open(const std::string& pathOrSoname, std::string& error);

  bool isOpen() const noexcept { return handle_ != nullptr; }
  // The file the dynamic linker actually opened (useful when opened by soname).
  const std::string& resolvedPath() const noexcept { return resolvedPath_; }
  void* symbol(const char* name) const noexcept;

  // Keeps the library mapped for the life of the process (TensorRT's static destructors must not run
  // while engines created from it may still exist).
  void leak() noexcept { handle_ = nullptr; }

 private:
  void* handle_ = nullptr;
  std::string resolvedPath_;
};

}  // namespace trt_node::trt
