#include "trt/loader/shared_library.h"

#include <dlfcn.h>
#include <link.h>

#include <utility>

namespace trt_node::trt {

SharedLibrary::~SharedLibrary() {
  if (handle_ != nullptr) dlclose(handle_);
}

SharedLibrary::SharedLibrary(SharedLibrary&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), resolvedPath_(std::move(other.resolvedPath_)) {}

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) dlclose(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    resolvedPath_ = std::move(other.resolvedPath_);
  }
  return *this;
}

SharedLibrary SharedLibrary::Open(const std::string& pathOrSoname, std::string& error) {
  SharedLibrary library;
  dlerror();  // clear any stale message
  library.handle_ = dlopen(pathOrSoname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library.handle_ == nullptr) {
    const char* message = dlerror();
    error = message != nullptr ? message : "dlopen failed without a message";
    return library;
  }
  library.resolvedPath_ = pathOrSoname;
  link_map* map = nullptr;
  if (dlinfo(library.handle_, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
      map->l_name[0] != '\0') {
    library.resolvedPath_ = map->l_name;
  }
  return library;
}

void* SharedLibrary::symbol(const char* name) const noexcept {
  if (handle_ == nullptr) return nullptr;
  return dlsym(handle_, name);
}

}  // namespace trt_node::trt
