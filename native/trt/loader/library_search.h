// Where TensorRT's libraries are looked for, in order, and how a found library is checked.
//
// Order (issue "TensorRT runtime", item 1): an explicit libraryPath option, TENSORRT_LIB_DIR,
// TENSORRT_ROOT/lib, the normal dynamic-linker search (LD_LIBRARY_PATH, ld.so.cache, system folders),
// then well-known install locations (Debian/Ubuntu packages, tarballs under /usr/local and /opt,
// pip's tensorrt_libs folders handed in by JavaScript, which can ask the active Python).
//
// The candidate list is a pure function of the request and the environment, so it is unit-tested
// with GoogleTest; only Load() touches the file system and the dynamic linker.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "trt/loader/shared_library.h"

namespace trt_node::trt {

struct SearchEnvironment {
  std::string tensorrtLibDir;    // $TENSORRT_LIB_DIR
  std::string tensorrtRoot;      // $TENSORRT_ROOT
  std::string ldLibraryPath;     // $LD_LIBRARY_PATH, for reporting what the dynamic linker searched
  std::string multiarchTriplet;  // e.g. x86_64-linux-gnu

  static SearchEnvironment FromProcess();
};

struct LibraryRequest {
  std::string baseName = "libnvinfer";      // libnvinfer, libnvonnxparser, libnvinfer_plugin
  int expectedMajor = 0;                    // the TensorRT major the addon was compiled against (0: any)
  std::vector<int> probeMajors = {10, 11};  // majors to look for, expected first
  std::string libraryPath;                  // explicit file or folder; when set, nothing else is searched
  std::vector<std::string> extraDirs;       // pip tensorrt_libs folders and the like
  std::vector<std::string> requiredSymbols = {"getInferLibVersion"};
  std::string versionSymbol = "getInferLibVersion";  // returns (major * 100 + minor) * 100 + patch
};

struct Candidate {
  std::string path;    // absolute path, or a bare soname for the dynamic-linker search
  std::string source;  // why it is on the list, shown to users
  int major = 0;
};

enum class AttemptStatus { kMissing, kOpenFailed, kWrongMajor, kMissingSymbol, kLoaded };

struct Attempt {
  std::string path;
  std::string source;
  std::string outcome;  // "not found", the dlopen error, "TensorRT 10.3.0 (this addon was built for 11.x)", ...
  AttemptStatus status = AttemptStatus::kMissing;
};

struct LibraryVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string toString() const;
  static LibraryVersion FromPacked(long packed);
};

struct LoadedLibrary {
  std::shared_ptr<SharedLibrary> library;
  LibraryVersion version;
  Candidate candidate;
};

// Every place that will be tried, in order, without touching the file system (except expanding the
// /usr/local/TensorRT-* style folder globs).
std::vector<Candidate> SearchCandidates(const LibraryRequest& request, const SearchEnvironment& env);

// The folders the dynamic linker itself searches for a bare soname, for error messages.
std::vector<std::string> DynamicLinkerFolders(const SearchEnvironment& env);

struct LoadOutcome {
  std::vector<Attempt> attempts;
  std::unique_ptr<LoadedLibrary> loaded;  // null when nothing usable was found
};

// Tries each candidate. A library of the wrong major, one without a required symbol or one that
// fails to open is recorded and the search goes on. Loaded libraries are cached for the life of the
// process (never unloaded).
LoadOutcome TryLoad(const LibraryRequest& request, const SearchEnvironment& env);

// TryLoad, then throws a NativeError when nothing usable was found:
//   ERR_TENSORRT_NOT_FOUND  no library file at any candidate (every attempt listed)
//   ERR_TENSORRT_VERSION    a library was found but its major differs from the headers'
//   ERR_TENSORRT_SYMBOL     a library was found but lacks a required entry point
//   ERR_TENSORRT_LOAD       a library was found but the dynamic linker refused it
LoadedLibrary Load(const LibraryRequest& request, const SearchEnvironment& env);

// Human-readable list of attempts, one per line, for error messages.
std::string DescribeAttempts(const std::vector<Attempt>& attempts);

}  // namespace trt_node::trt
